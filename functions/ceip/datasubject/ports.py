"""What the data-subject services need from storage."""

from __future__ import annotations

from typing import Protocol

from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus


class ConcurrentFiling(Exception):
    """Another request for the same machine was filed at the same moment; read it back."""


class RequestPort(Protocol):
    def latest_request_id(self, machine_key: str) -> str | None: ...
    def get(self, request_id: str) -> ErasureRequest | None: ...
    def create(self, request: ErasureRequest, replaces: str | None) -> None:
        """Raise ConcurrentFiling when the machine's entry no longer points at `replaces`."""

    def open_requests(self) -> list[ErasureRequest]: ...
    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None: ...

"""Erasure requests, their receipts, and when we promise to be done (pure)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any


class RequestStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    FULFILLED = "fulfilled"


OPEN_STATUSES = frozenset({RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS})

DEFAULT_PURGE_HOUR_UTC = 3
PURGE_ALLOWANCE = timedelta(hours=3)
"""How long the daily purge may take, on top of its start time, in the promise we give clients."""


def next_purge_start(after: datetime, purge_hour_utc: int = DEFAULT_PURGE_HOUR_UTC) -> datetime:
    """The first daily purge that starts strictly after `after`."""
    utc = after.astimezone(UTC)
    candidate = datetime.combine(utc.date(), time(purge_hour_utc), tzinfo=UTC)
    return candidate if candidate > utc else candidate + timedelta(days=1)


def expected_by(received_at: datetime, purge_hour_utc: int = DEFAULT_PURGE_HOUR_UTC) -> datetime:
    """When the requester can expect the receipt: the next purge, plus its allowance (< 27 h)."""
    return next_purge_start(received_at, purge_hour_utc) + PURGE_ALLOWANCE


@dataclass(frozen=True)
class Receipt:
    """Proof of an erasure: what the purge did for this machine and what the re-scan found."""

    objects_scanned: int
    objects_rewritten: int
    reports_removed: int
    noncurrent_versions_deleted: int
    verification_objects_scanned: int
    verification_remaining: int
    verification_unreadable_objects: int
    """Objects the re-scan could not decompress (corrupt): they cannot be proven free of the machine."""
    completed_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        return cls(
            objects_scanned=int(data["objects_scanned"]),
            objects_rewritten=int(data["objects_rewritten"]),
            reports_removed=int(data["reports_removed"]),
            noncurrent_versions_deleted=int(data["noncurrent_versions_deleted"]),
            verification_objects_scanned=int(data["verification_objects_scanned"]),
            verification_remaining=int(data["verification_remaining"]),
            verification_unreadable_objects=int(data.get("verification_unreadable_objects", 0)),
            completed_at=str(data["completed_at"]),
        )


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    machine_key: str
    status: RequestStatus
    received_at: datetime
    expected_by: datetime
    origin: str = "client"
    """"client" for the API; "ticket:CEIP-XXXX" when the privacy team filed it."""
    receipt: Receipt | None = field(default=None)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

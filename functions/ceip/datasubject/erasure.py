"""Filing an erasure request: idempotent per machine, suppressing the machine at once."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ceip.datasubject.model import DEFAULT_PURGE_HOUR_UTC, ErasureRequest, RequestStatus, expected_by
from ceip.datasubject.request_store import ConcurrentFiling, RequestPort
from ceip.machines.machine_key import MachineKeyer

_ATTEMPTS = 3


def file_erasure(
    machine_key: str,
    *,
    now: datetime,
    store: RequestPort,
    origin: str = "client",
    purge_hour_utc: int = DEFAULT_PURGE_HOUR_UTC,
) -> ErasureRequest:
    """The machine's open request if it has one, else a new one (which suppresses the machine).

    A machine whose earlier request was fulfilled gets a new request: its reports since then (if any
    slipped in before suppression took effect) are purged again and a new receipt is issued.
    """
    for _ in range(_ATTEMPTS):
        latest_id = store.latest_request_id(machine_key)
        latest = store.get(latest_id) if latest_id else None
        if latest is not None and latest.is_open:
            return latest
        request = ErasureRequest(
            request_id=str(uuid.uuid4()),
            machine_key=machine_key,
            status=RequestStatus.RECEIVED,
            received_at=now,
            expected_by=expected_by(now, purge_hour_utc),
            origin=origin,
        )
        try:
            store.create(request, replaces=latest_id)
        except ConcurrentFiling:
            continue
        return request
    raise RuntimeError("erasure filing kept racing with concurrent filings")


@dataclass(frozen=True)
class ErasureDesk:
    """Erasure requests as the API and the CLI file and read them: by GUID in, keyed hash stored."""

    store: RequestPort
    keyer: Callable[[], MachineKeyer]
    purge_hour_utc: int = DEFAULT_PURGE_HOUR_UTC

    def file(self, machine_id: str, *, now: datetime, origin: str = "client") -> ErasureRequest:
        """machine_id: a canonical GUID (as validated models give it)."""
        key = self.keyer().key(machine_id)
        return file_erasure(key, now=now, store=self.store, origin=origin, purge_hour_utc=self.purge_hour_utc)

    def status(self, request_id: str) -> ErasureRequest | None:
        """A request as stored; "received" reads as in_progress once a running pass has taken it (a pass
        records its cutoff once instead of marking every request: see docs/adr/0012)."""
        request = self.store.get(request_id)
        if request is None or request.status is not RequestStatus.RECEIVED:
            return request
        cutoff = self.store.pass_cutoff()
        if cutoff is not None and request.received_at <= cutoff:
            return dataclasses.replace(request, status=RequestStatus.IN_PROGRESS)
        return request

    def requests(self, *, open_only: bool = False) -> list[ErasureRequest]:
        """Every request (or the open ones), oldest first: the team's list."""
        found = self.store.open_requests() if open_only else self.store.all_requests()
        return sorted(found, key=lambda r: r.received_at)

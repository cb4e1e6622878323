"""Filing an erasure request: idempotent per machine, suppressing the machine at once."""

from __future__ import annotations

import uuid
from datetime import datetime

from ceip.datasubject.model import ErasureRequest, RequestStatus, expected_by
from ceip.datasubject.ports import ConcurrentFiling, RequestPort

_ATTEMPTS = 3


def file_erasure(
    machine_key: str,
    *,
    now: datetime,
    store: RequestPort,
    origin: str = "client",
    purge_hour_utc: int = 3,
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

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


class StatusReason(StrEnum):
    """Why a request the purge served is still in progress (its receipt says how many)."""

    REPORTS_REMAINING = "reports_remaining"
    """The verification re-scan still found reports of the machine."""
    OBJECTS_UNREADABLE = "objects_unreadable"
    """Some objects could not be read: they cannot be proven free of the machine."""


MAX_UNREADABLE_KEYS = 20
"""Keys of unreadable objects a receipt names (the count is always exact): enough to start with, and a
bucket full of corrupt objects does not grow every request's item."""

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
    """Objects the re-scan could not decompress (corrupt): they cannot be proven free of the machine, so
    the request stays open and the next pass tries again."""
    completed_at: str
    unreadable_object_keys: tuple[str, ...] = ()
    """The first MAX_UNREADABLE_KEYS of those objects' S3 keys (a day, an hour, a digest: no GUID), for
    the operator; the team's CLI shows them, the public status API only the count."""

    @property
    def proven(self) -> bool:
        """Every object was read and none holds the machine: only then is the request fulfilled."""
        return self.verification_remaining == 0 and self.verification_unreadable_objects == 0

    @property
    def open_reason(self) -> StatusReason | None:
        if self.verification_remaining:
            return StatusReason.REPORTS_REMAINING
        if self.verification_unreadable_objects:
            return StatusReason.OBJECTS_UNREADABLE
        return None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["unreadable_object_keys"] = list(self.unreadable_object_keys)
        return data

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
            unreadable_object_keys=tuple(map(str, data.get("unreadable_object_keys", ()))),
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

    @property
    def status_reason(self) -> StatusReason | None:
        """Why a served request is still open; None when fulfilled or not yet served."""
        if not self.is_open or self.receipt is None:
            return None
        return self.receipt.open_reason


def served_status(receipt: Receipt) -> RequestStatus:
    """What a pass writes beside a receipt: fulfilled only when the receipt proves the erasure."""
    return RequestStatus.FULFILLED if receipt.proven else RequestStatus.IN_PROGRESS


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

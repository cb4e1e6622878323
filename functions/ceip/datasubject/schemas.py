"""Request and response models of the privacy requests API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ceip.reports.model import MachineGuid


class PrivacyRequestIn(BaseModel):
    """What a client sends when its user turns participation off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["erasure"] = Field(
        description="Only erasure can be asked for here; export goes through the privacy team."
    )
    machine_id: MachineGuid


class PrivacyRequestAccepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(
        description="Keep it to ask for the status; the same machine asking again gets the same open request."
    )
    status: Literal["received", "in_progress", "fulfilled"]
    expected_by: str = Field(description="When the erasure will be complete (RFC 3339, UTC).")


class ReceiptOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objects_scanned: int = Field(description="Stored report objects the purge examined.")
    objects_rewritten: int = Field(
        description="Objects that held this machine's reports and were rewritten without them."
    )
    reports_removed: int
    noncurrent_versions_deleted: int = Field(
        description="Older object versions holding the reports, deleted."
    )
    verification_objects_scanned: int
    verification_remaining: int = Field(
        description="Reports of this machine the verification re-scan found: 0."
    )
    verification_unreadable_objects: int = Field(
        description="Corrupt objects the re-scan could not read: while any remain the request stays "
        "in_progress and the next daily purge tries again (an operator repairs or removes them)."
    )
    completed_at: str


class PrivacyRequestStatusOut(BaseModel):
    """Status in plain terms; never the machine's data."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    type: Literal["erasure"]
    status: Literal["received", "in_progress", "fulfilled"]
    received_at: str
    expected_by: str
    status_reason: Literal["reports_remaining", "objects_unreadable"] | None = Field(
        default=None,
        description="Why a request the purge has served is still in_progress: reports of the machine "
        "were still found, or some stored objects could not be read (the receipt counts them). Absent "
        "otherwise.",
    )
    receipt: ReceiptOut | None = None

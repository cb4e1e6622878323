"""Which export approvals an export may use (ceip.privacy.data_requests.live_approvals): pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ceip.privacy import deadlines
from ceip.privacy.data_requests import ExportRules, export_approved, live_approvals
from ceip.privacy.tickets import SYSTEM, Channel, ExportApproval, Status, Ticket

AT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
RULES = ExportRules(approval_max_age=timedelta(hours=72))
ANA = "arn:aws:sts::123456789012:assumed-role/PrivacyTeam/ana"


def approval(**changes: object) -> ExportApproval:
    fields: dict[str, object] = {
        "approval_id": "a-1",
        "guids": ("0f6e2d4c-1b3a-4c5d-8e7f-9a0b1c2d3e4f",),
        "requester": "jane@example.net",
        "approver": ANA,
        "approved_at": AT,
        "why": "GUID shown on a screenshot",
    }
    return ExportApproval.model_validate({**fields, **changes})


def ticket(*approvals: ExportApproval, sender: str = "jane@example.net") -> Ticket:
    return Ticket(
        ref="CEIP-7F3K",
        channel=Channel.EMAIL,
        status=Status.IN_PROGRESS,
        received_at=AT,
        created_at=AT,
        updated_at=AT,
        status_since=AT,
        deadlines=deadlines.compute(AT),
        sender=sender,
        guids=("0f6e2d4c-1b3a-4c5d-8e7f-9a0b1c2d3e4f",),
        approvals=approvals,
    )


def test_a_fresh_approval_for_the_ticket_s_requester_is_live() -> None:
    # Given one approval an hour old
    # Then it is live, and the newest comes first when there are two
    assert live_approvals(ticket(approval()), now=AT + timedelta(hours=1), rules=RULES) == [approval()]
    newer = approval(approval_id="a-2", approved_at=AT + timedelta(minutes=5))
    assert [a.approval_id for a in live_approvals(ticket(approval(), newer), now=AT, rules=RULES)] == [
        "a-2",
        "a-1",
    ]


@pytest.mark.parametrize(
    ("changed", "sender", "hours_later"),
    [
        ({"sent_at": AT}, "jane@example.net", 1),  # used by an export
        ({"revoked_at": AT}, "jane@example.net", 1),  # revoked
        ({}, "jane@example.net", 73),  # older than the rules allow
        ({}, "someone.else@example.org", 1),  # the ticket's requester is no longer the approved one
        ({"approver": SYSTEM}, "jane@example.net", 1),  # not a person
        ({"requester": None}, "jane@example.net", 1),  # approved without an address
    ],
)
def test_an_approval_stops_being_live(changed: dict[str, object], sender: str, hours_later: int) -> None:
    t = ticket(approval(**changed), sender=sender)
    now = AT + timedelta(hours=hours_later)
    assert live_approvals(t, now=now, rules=RULES) == []
    assert not export_approved(t, now=now, rules=RULES)

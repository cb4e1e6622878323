"""How `ceip privacy` shows tickets: tables and text for people, JSON and CSV for scripts."""

from __future__ import annotations

import csv
import email
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from email import policy
from typing import Any

from ceip.privacy import worklist
from ceip.privacy.service import ThreadMessage
from ceip.privacy.tickets import HistoryEntry, Ticket
from ceip.storage.csv_cells import spreadsheet_safe

LIST_COLUMNS = ("REF", "STATUS", "LABELS", "NEXT DUE", "ANSWER DUE", "TARGET", "ACK", "ASSIGNEE", "FLAGS")
CSV_COLUMNS = (
    "ref",
    "channel",
    "status",
    "labels",
    "language",
    "jurisdiction",
    "received_at",
    "answer_due",
    "governed_by",
    "gdpr_due",
    "ccpa_ack_due",
    "ccpa_due",
    "internal_target",
    "extended",
    "acknowledgement",
    "assignee",
    "hold",
    "automatic",
    "sender_verified",
    "claimed_ref",
    "deny_reason",
    "guid_count",
    "closed_at",
)
PERSONAL_COLUMNS = ("sender", "guids")


def flags(ticket: Ticket, today: date) -> str:
    found = []
    if worklist.is_overdue(ticket, today):
        found.append("OVERDUE")
    elif worklist.target_missed(ticket, today):
        found.append("target-missed")
    if ticket.hold is not None:
        found.append(f"hold:{ticket.hold.value}")
    if ticket.automatic:
        found.append(f"auto:{ticket.automatic}")
    if ticket.sender_verified is False:
        found.append("unverified")
    if ticket.claimed_ref:
        found.append(f"claims:{ticket.claimed_ref}")
    return ",".join(found)


def message_text(raw: bytes) -> str:
    """A message as a person reads it: To, From, Subject, then the text body."""
    message = email.message_from_bytes(raw, policy=policy.default)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    headers = [f"{name}: {message[name]}" for name in ("To", "From", "Subject") if message[name]]
    lines = str(text).replace("\r\n", "\n").rstrip("\n")  # SMTP's CRLF, as the terminal shows text
    return "\n".join([*headers, "", lines])


def list_rows(tickets: Iterable[Ticket], today: date) -> list[list[str]]:
    return [
        [
            t.ref,
            t.status.value,
            ",".join(label.value for label in t.labels),
            worklist.nearest_deadline(t).isoformat(),
            t.deadlines.answer_due.isoformat(),
            t.deadlines.internal_target.isoformat(),
            t.acknowledgement.state.value,
            t.assignee or "-",
            flags(t, today),
        ]
        for t in tickets
    ]


def ticket_view(ticket: Ticket, today: date) -> dict[str, Any]:
    view: dict[str, Any] = ticket.model_dump(mode="json")
    view["next_due"] = worklist.nearest_deadline(ticket).isoformat()
    view["overdue"] = worklist.is_overdue(ticket, today)
    return view


def history_line(entry: HistoryEntry) -> str:
    details = ", ".join(f"{k}={_short(v)}" for k, v in entry.details.items() if v not in (None, [], {}, ""))
    why = f"  -- {entry.why}" if entry.why else ""
    return f"{_stamp(entry.at)}  {entry.actor:<12}  {entry.action:<24}  {details}{why}".rstrip()


def show_text(
    ticket: Ticket, history: Sequence[HistoryEntry], thread: Sequence[ThreadMessage], today: date
) -> str:
    d = ticket.deadlines
    lines = [
        f"{ticket.ref}  {ticket.status.value}  ({ticket.channel.value}, "
        f"received {_stamp(ticket.received_at)})",
        f"  sender:        {ticket.sender or '-'}{_verification(ticket)}",
        f"  labels:        {', '.join(x.value for x in ticket.labels)} (by {ticket.labels_by})",
        "  confidence:    "
        + "; ".join(f"{s.label.value} {s.confidence:.2f} [{', '.join(s.phrases)}]" for s in ticket.scores),
        f"  language:      {ticket.language or 'unknown'}   jurisdiction: {ticket.jurisdiction.value}",
        f"  guids:         {', '.join(ticket.guids) or '-'}",
        f"  assignee:      {ticket.assignee or '-'}",
        f"  acknowledged:  {ticket.acknowledgement.state.value}"
        + (f" ({ticket.acknowledgement.reason})" if ticket.acknowledgement.reason else ""),
        f"  answer due:    {d.answer_due.isoformat()} (governed by {d.governed_by.value})   "
        f"internal target: {d.internal_target.isoformat()}   flags: {flags(ticket, today) or '-'}",
        f"  gdpr:          {_day(d.gdpr_due)}{' (extended)' if d.gdpr_extended else ''}",
        f"  ccpa:          acknowledge by {_day(d.ccpa_ack_due)}, answer by {_day(d.ccpa_due)}"
        f"{' (extended)' if d.ccpa_extended else ''}",
    ]
    if ticket.deny_reason:
        lines.append(f"  denied:        {ticket.deny_reason.value}")
    if ticket.duplicate_of:
        lines.append(f"  duplicate of:  {ticket.duplicate_of}")
    if ticket.claimed_ref:
        lines.append(
            f"  claims:        {ticket.claimed_ref} (not from its authenticated requester: merge by hand)"
        )
    lines += ["", "History:"]
    lines += [f"  {history_line(e)}" for e in history]
    lines += ["", "Messages:"]
    for message in thread:
        record = message.record
        head = f"  --- {record.direction} {record.kind} {_stamp(record.at)}"
        if record.defects:
            head += f"  defects: {', '.join(record.defects)}"
        if record.automatic:
            head += f"  automatic: {record.automatic}"
        lines.append(head)
        if message.mail is None:
            lines.append("      (no text: deleted after retention)")
            continue
        lines.append(f"      Subject: {message.mail.subject}")
        lines += [f"      {line}" for line in message.mail.text.splitlines()] or ["      (empty)"]
    return "\n".join(lines)


def csv_text(tickets: Iterable[Ticket], *, personal: bool) -> str:
    buffer = io.StringIO()
    columns = CSV_COLUMNS + (PERSONAL_COLUMNS if personal else ())
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for t in tickets:
        d = t.deadlines
        row = {
            "ref": t.ref,
            "channel": t.channel.value,
            "status": t.status.value,
            "labels": ";".join(x.value for x in t.labels),
            "language": t.language or "",
            "jurisdiction": t.jurisdiction.value,
            "received_at": _stamp(t.received_at),
            "answer_due": d.answer_due.isoformat(),
            "governed_by": d.governed_by.value,
            "gdpr_due": _day(d.gdpr_due, ""),
            "ccpa_ack_due": _day(d.ccpa_ack_due, ""),
            "ccpa_due": _day(d.ccpa_due, ""),
            "internal_target": d.internal_target.isoformat(),
            "extended": ";".join(law.value for law in t.extended),
            "acknowledgement": t.acknowledgement.state.value,
            "assignee": t.assignee or "",
            "hold": t.hold.value if t.hold else "",
            "automatic": t.automatic or "",
            "sender_verified": "" if t.sender_verified is None else str(t.sender_verified).lower(),
            "claimed_ref": t.claimed_ref or "",
            "deny_reason": t.deny_reason.value if t.deny_reason else "",
            "guid_count": len(t.guids),
            "closed_at": _stamp(t.closed_at) if t.closed_at else "",
        }
        if personal:
            row["sender"] = t.sender or ""
            row["guids"] = ";".join(t.guids)
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return buffer.getvalue()


def _verification(ticket: Ticket) -> str:
    if ticket.sender_verified is None:
        return ""
    state = "verified" if ticket.sender_verified else "UNVERIFIED"
    return f"  ({state}: {ticket.authentication})"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def _day(day: date | None, missing: str = "-") -> str:
    return day.isoformat() if day else missing


def _short(value: Any) -> str:
    if isinstance(value, dict):
        text = " ".join(f"{k}:{_short(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ";".join(map(str, value))
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."

"""`ceip privacy ...`: the privacy team's inbox. Tickets are listed nearest deadline first; every change
is recorded in the ticket's history with the actor (--actor, default $USER) and the reason given.

`register` returns the `privacy` subcommands so request handlers (erasure, data export) can add
theirs beside these.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ceip.cli.dates import parse_day
from ceip.cli.environment import required
from ceip.cli.privacy_views import LIST_COLUMNS, csv_text, list_rows, show_text, table, ticket_view
from ceip.privacy import worklist
from ceip.privacy.changes import TicketNotFound
from ceip.privacy.classify import Label
from ceip.privacy.deadlines import ExtensionRefused, Jurisdiction, Law
from ceip.privacy.inbox import S3RawMailStore
from ceip.privacy.mailer import SesMailer
from ceip.privacy.service import RequestRefused, TicketService
from ceip.privacy.templates import Kind
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.privacy.tickets import OPEN, DenyReason, IllegalTransition, MissingReason, Status

TRANSITION_ALIASES: dict[str, Status] = {
    "acknowledge": Status.ACKNOWLEDGED,
    "await": Status.AWAITING_REQUESTER,
    "start": Status.IN_PROGRESS,
    "reopen": Status.IN_PROGRESS,
    "fulfil": Status.FULFILLED,
    "fulfill": Status.FULFILLED,
    "resolve": Status.RESOLVED,
    "deny": Status.DENIED,
    "withdraw": Status.WITHDRAWN,
    "close": Status.CLOSED,
    **{status.value: status for status in Status},
}
_FAILURES = (TicketNotFound, RequestRefused, IllegalTransition, MissingReason, ExtensionRefused, ValueError)


def register(commands: Any) -> Any:
    parser = commands.add_parser("privacy", help="the privacy inbox: tickets, deadlines, replies")
    parser.add_argument("--actor", default=None, help="who is acting, for the history (default: $USER)")
    sub = parser.add_subparsers(dest="privacy_command", required=True, metavar="SUBCOMMAND")
    _reading_commands(sub)
    _change_commands(sub)
    _intake_commands(sub)
    return sub


def _reading_commands(sub: Any) -> None:
    listing = sub.add_parser("list", help="tickets, nearest deadline first (open ones by default)")
    listing.add_argument(
        "--status",
        action="append",
        choices=[*sorted(s.value for s in Status), "all", "open"],
        help="repeatable",
    )
    listing.add_argument("--label", choices=[x.value for x in Label])
    listing.add_argument("--overdue", action="store_true", help="a legal deadline has passed")
    listing.add_argument("--due-before", type=parse_day, help="answer due on or before YYYY-MM-DD")
    listing.add_argument("--assignee")
    listing.add_argument("--unacknowledged", action="store_true", help="acknowledgement owed or failed")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)

    show = sub.add_parser("show", help="a ticket, its history and its messages")
    show.add_argument("ref")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)

    export = sub.add_parser(
        "export",
        help="without TICKET: tickets as CSV (no personal data unless asked); with TICKET: the ticket's "
        "machine data to the requester (after approve-export)",
    )
    export.add_argument("ticket", nargs="?", help="send this ticket's requester their machine's reports")
    export.add_argument(
        "--status", action="append", choices=[*sorted(s.value for s in Status), "all", "open"]
    )
    export.add_argument("--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--with-personal-data", action="store_true", help="add sender and GUID columns")
    export.set_defaults(run=run_export)


def _change_commands(sub: Any) -> None:
    assign = sub.add_parser("assign", help="give a ticket to someone (--to -, nobody)")
    assign.add_argument("ref")
    assign.add_argument("--to", required=True)
    assign.add_argument("--why")
    assign.set_defaults(run=run_assign)

    label = sub.add_parser("label", help="override the labels (and/or set the jurisdiction)")
    label.add_argument("ref")
    label.add_argument("--set", dest="labels", help="comma-separated: " + ",".join(x.value for x in Label))
    label.add_argument("--jurisdiction", choices=[j.value for j in Jurisdiction])
    label.add_argument("--why", required=True)
    label.set_defaults(run=run_label)

    note = sub.add_parser("note", help="add a note to the history")
    note.add_argument("ref")
    note.add_argument("text")
    note.set_defaults(run=run_note)

    reply = sub.add_parser("reply", help="send a templated message to the requester by SES")
    reply.add_argument("ref")
    reply.add_argument(
        "--template", choices=[Kind.ANSWER.value, Kind.NEED_INFO.value], default=Kind.ANSWER.value
    )
    _text_arguments(reply)
    reply.add_argument(
        "--then", choices=sorted(TRANSITION_ALIASES), help="then move the ticket (e.g. resolve)"
    )
    reply.set_defaults(run=run_reply)

    extend = sub.add_parser("extend", help="extend the answer deadline, notifying the requester")
    extend.add_argument("ref")
    extend.add_argument("--reason", required=True, help="told to the requester")
    extend.add_argument(
        "--law", action="append", choices=[law.value for law in Law], help="default: all that apply"
    )
    extend.set_defaults(run=run_extend)

    move = sub.add_parser("transition", help="change the state: resolve, deny, withdraw, close, reopen...")
    move.add_argument("ref")
    move.add_argument("to", choices=sorted(TRANSITION_ALIASES), metavar="STATE")
    move.add_argument("--reason-code", choices=[r.value for r in DenyReason], help="required to deny")
    move.add_argument("--of", dest="duplicate_of", help="the original, for duplicate")
    move.add_argument("--why")
    move.set_defaults(run=run_transition)

    release = sub.add_parser("release", help="a quarantined (spam) or held message is genuine: triage it")
    release.add_argument("ref")
    release.add_argument("--why", required=True)
    release.set_defaults(run=run_release)

    ack = sub.add_parser("ack", help="send an owed or failed acknowledgement now")
    ack.add_argument("ref")
    ack.set_defaults(run=run_ack)


def _intake_commands(sub: Any) -> None:
    new = sub.add_parser("new", help="record a letter (or a message that did not come through SES)")
    new.add_argument("--channel", choices=["postal"], default="postal")
    new.add_argument("--received", type=parse_day, required=True, help="YYYY-MM-DD the letter arrived")
    _text_arguments(new)
    new.add_argument("--subject", default="")
    new.add_argument("--sender", help="postal address of the sender")
    new.add_argument("--email", help="e-mail address given in the letter (the acknowledgement goes there)")
    new.add_argument("--language", choices=["en", "de", "fr", "es"])
    new.add_argument(
        "--jurisdiction", choices=[j.value for j in Jurisdiction], default=Jurisdiction.UNKNOWN.value
    )
    new.add_argument("--json", action="store_true")
    new.set_defaults(run=run_new)

    deliver = sub.add_parser("deliver", help="local stack: deliver an .eml file as if SES had received it")
    deliver.add_argument("file", type=Path)
    deliver.add_argument("--spam", default="PASS", choices=["PASS", "FAIL", "GRAY", "PROCESSING_FAILED"])
    deliver.add_argument("--virus", default="PASS", choices=["PASS", "FAIL", "GRAY", "PROCESSING_FAILED"])
    deliver.add_argument("--source", help="envelope sender (default: the Return-Path or From header)")
    deliver.add_argument("--json", action="store_true")
    deliver.set_defaults(run=run_deliver)


def _text_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--text")
    group.add_argument("--file", type=Path, help="read the text from a file (- for stdin)")


def _text(args: argparse.Namespace) -> str:
    if args.file is not None:
        return sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
    return str(args.text or "")


def service() -> TicketService:
    return TicketService(
        store=DynamoTicketStore(required("TICKETS_TABLE")),
        mailer=SesMailer(),
        inbox=S3RawMailStore(required("INBOX_BUCKET")),
        mail_from=required("PRIVACY_MAIL_FROM"),
        internal_target_days=int(os.environ.get("PRIVACY_INTERNAL_TARGET_DAYS") or 7),
    )


def actor(args: argparse.Namespace) -> str:
    if args.actor:
        return str(args.actor)
    try:
        return os.environ.get("USER") or getpass.getuser()
    except OSError:
        return "unknown"


def today() -> date:
    return datetime.now(UTC).date()


def statuses(chosen: list[str] | None) -> frozenset[Status]:
    if not chosen or chosen == ["open"]:
        return OPEN
    if "all" in chosen:
        return frozenset(Status)
    found = set(OPEN) if "open" in chosen else set()
    return frozenset(found | {Status(c) for c in chosen if c != "open"})


def guarded(run: Any) -> Any:
    """Turn refused operations into one line on stderr and exit status 1."""

    def wrapper(args: argparse.Namespace) -> int:
        try:
            result: int = run(args)
        except _FAILURES as error:
            print(f"ceip: {error}", file=sys.stderr)
            return 1
        return result

    return wrapper


@guarded
def run_list(args: argparse.Namespace) -> int:
    chosen = statuses(args.status)
    filters = worklist.Filters(
        statuses=chosen,
        label=Label(args.label) if args.label else None,
        overdue=args.overdue,
        due_before=args.due_before,
        assignee=args.assignee,
        unacknowledged=args.unacknowledged,
    )
    found = worklist.select(service().tickets(sorted(chosen)), filters, today())
    if args.json:
        print(json.dumps([ticket_view(t, today()) for t in found], indent=2))
        return 0
    print(table(list_rows(found, today()), LIST_COLUMNS) if found else "no tickets")
    return 0


@guarded
def run_show(args: argparse.Namespace) -> int:
    tickets = service()
    ticket = tickets.get(args.ref)
    history = tickets.history(ticket.ref)
    thread = tickets.thread(ticket.ref)
    if args.json:
        view = ticket_view(ticket, today())
        view["history"] = [h.model_dump(mode="json") for h in history]
        view["thread"] = [
            {
                **m.record.model_dump(mode="json"),
                "subject": m.mail.subject if m.mail else None,
                "text": m.mail.text if m.mail else None,
            }
            for m in thread
        ]
        print(json.dumps(view, indent=2))
        return 0
    print(show_text(ticket, history, thread, today()))
    return 0


def _done(ticket: Any, what: str) -> int:
    print(f"{ticket.ref}: {what} (status {ticket.status.value})")
    return 0


@guarded
def run_assign(args: argparse.Namespace) -> int:
    to = None if args.to in ("-", "") else args.to
    return _done(
        service().assign(args.ref, to, actor=actor(args), why=args.why), f"assigned to {to or 'nobody'}"
    )


@guarded
def run_label(args: argparse.Namespace) -> int:
    if not args.labels and not args.jurisdiction:
        raise RequestRefused("give --set LABELS and/or --jurisdiction")
    tickets = service()
    ticket = None
    if args.labels:
        labels = [Label(x.strip()) for x in args.labels.split(",") if x.strip()]
        ticket = tickets.override_labels(args.ref, labels, actor=actor(args), why=args.why)
    if args.jurisdiction:
        ticket = tickets.set_jurisdiction(
            args.ref, Jurisdiction(args.jurisdiction), actor=actor(args), why=args.why
        )
    assert ticket is not None
    return _done(
        ticket,
        f"labels {','.join(x.value for x in ticket.labels)}, jurisdiction {ticket.jurisdiction.value}, "
        f"answer due {ticket.deadlines.answer_due.isoformat()}",
    )


@guarded
def run_note(args: argparse.Namespace) -> int:
    return _done(service().note(args.ref, args.text, actor=actor(args)), "note added")


@guarded
def run_reply(args: argparse.Namespace) -> int:
    then = TRANSITION_ALIASES[args.then] if args.then else None
    ticket = service().reply(args.ref, Kind(args.template), _text(args), actor=actor(args), then=then)
    return _done(ticket, f"{args.template} sent")


@guarded
def run_extend(args: argparse.Namespace) -> int:
    laws = [Law(x) for x in args.law or []]
    ticket = service().extend(args.ref, args.reason, actor=actor(args), laws=laws)
    return _done(ticket, f"answer now due {ticket.deadlines.answer_due.isoformat()}, requester notified")


@guarded
def run_transition(args: argparse.Namespace) -> int:
    target = TRANSITION_ALIASES[args.to]
    ticket = service().transition(
        args.ref,
        target,
        actor=actor(args),
        why=args.why,
        deny_reason=DenyReason(args.reason_code) if args.reason_code else None,
        duplicate_of=args.duplicate_of,
    )
    return _done(ticket, f"now {target.value}")


@guarded
def run_release(args: argparse.Namespace) -> int:
    ticket = service().release(args.ref, actor=actor(args), why=args.why)
    return _done(ticket, f"released, acknowledgement {ticket.acknowledgement.state.value}")


@guarded
def run_ack(args: argparse.Namespace) -> int:
    ticket = service().acknowledge(args.ref, actor=actor(args))
    return _done(ticket, f"acknowledgement {ticket.acknowledgement.state.value}")


@guarded
def run_new(args: argparse.Namespace) -> int:
    ticket = service().new_postal(
        received=args.received,
        text=_text(args),
        actor=actor(args),
        postal_address=args.sender,
        email=args.email,
        subject=args.subject,
        language=args.language,
        jurisdiction=Jurisdiction(args.jurisdiction),
    )
    if args.json:
        print(json.dumps(ticket_view(ticket, today()), indent=2))
        return 0
    labels = ",".join(x.value for x in ticket.labels)
    due = ticket.deadlines.answer_due.isoformat()
    return _done(
        ticket, f"labels {labels}, answer due {due}, acknowledgement {ticket.acknowledgement.state.value}"
    )


@guarded
def run_export(args: argparse.Namespace) -> int:
    """The tickets CSV; with a ticket, ceip.cli.datasubject takes the command over (a person's data)."""
    chosen = statuses(args.status or ["all"])
    tickets = worklist.select(service().tickets(sorted(chosen)), worklist.Filters(statuses=chosen), today())
    text = csv_text(tickets, personal=args.with_personal_data)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"{len(tickets)} tickets written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


@guarded
def run_deliver(args: argparse.Namespace) -> int:
    from ceip.cli.privacy_deliver import deliver  # noqa: PLC0415 - loads the Lambda handler: only here

    result = deliver(args.file.read_bytes(), spam=args.spam, virus=args.virus, source=args.source)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for filed in result["filed"]:
        ses_id = result["ses_message_id"]
        print(f"delivered {args.file.name} (SES message {ses_id}): {filed['ref']} {filed['outcome']}")
    return 0

"""`ceip privacy ...` runners for the inbox: they parse nothing and decide nothing, they call the
ticket service (built by PrivacyFunction's composition root) and print. The grammar is in
ceip.cli.parser; refused operations become one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ceip.cli.failures import Refused, UsageError, user_file_error
from ceip.cli.identity import whoami
from ceip.cli.parser import TRANSITION_ALIASES
from ceip.cli.privacy_views import LIST_COLUMNS, csv_text, list_rows, message_text, show_text, ticket_view
from ceip.cli.tables import print_table
from ceip.privacy import worklist
from ceip.privacy.changes import RequestRefused, TicketNotFound
from ceip.privacy.classify import Label
from ceip.privacy.deadlines import ExtensionRefused, Jurisdiction, Law
from ceip.privacy.letters import Letter
from ceip.privacy.service import TicketService
from ceip.privacy.settings import PrivacySettings
from ceip.privacy.templates import Kind
from ceip.privacy.tickets import OPEN, DenyReason, IllegalTransition, MissingReason, Status
from ceip.privacy.wiring import build_ticket_service
from ceip.runtime.settings import MissingSettings

_FAILURES = (TicketNotFound, RequestRefused, IllegalTransition, MissingReason, ExtensionRefused, ValueError)


def read_user_file(path: str) -> bytes:
    """A file named on the command line; one line naming it when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise user_file_error(path, error) from None


def _text(args: argparse.Namespace) -> str:
    if args.file is None:
        return str(args.text or "")
    if args.file == "-":
        return sys.stdin.read()
    try:
        return read_user_file(args.file).decode("utf-8")
    except UnicodeDecodeError as error:
        raise user_file_error(args.file, error) from None


def service() -> TicketService:
    return build_ticket_service(PrivacySettings.from_environment())


def actor(args: argparse.Namespace) -> str:
    """Who acts, for the ticket's history: the verified AWS principal (ceip.cli.identity)."""
    if getattr(args, "actor", None):
        raise UsageError(
            "--actor is no longer accepted: actions are recorded under your verified AWS identity "
            "(STS GetCallerIdentity); sign in as yourself instead"
        )
    return whoami().arn


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
        except MissingSettings:
            raise  # a ValueError too, explained by the entry point
        except _FAILURES as error:
            raise Refused(str(error)) from error
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
        unverified=args.unverified,
    )
    found = worklist.select(service().tickets(sorted(chosen)), filters, today())
    if args.json:
        print(json.dumps([ticket_view(t, today()) for t in found], indent=2))
        return 0
    if found:
        print_table(LIST_COLUMNS, list_rows(found, today()))
    else:
        print("no tickets")
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


def print_draft(raw: bytes | None, instead: str = "") -> int:
    """A dry run's answer: the message exactly as it would go out, and that nothing was sent."""
    print(message_text(raw) if raw is not None else instead)
    print("(dry run: nothing sent, nothing recorded)", file=sys.stderr)
    return 0


@guarded
def run_reply(args: argparse.Namespace) -> int:
    then = TRANSITION_ALIASES[args.then] if args.then else None
    tickets, kind, text = service(), Kind(args.template), _text(args)
    if args.dry_run:
        return print_draft(tickets.draft_reply(args.ref, kind, text, actor=actor(args), then=then))
    ticket = tickets.reply(args.ref, kind, text, actor=actor(args), then=then)
    return _done(ticket, f"{args.template} sent")


@guarded
def run_extend(args: argparse.Namespace) -> int:
    laws = [Law(x) for x in args.law or []]
    tickets = service()
    if args.dry_run:
        draft = tickets.draft_extension(args.ref, args.reason, actor=actor(args), laws=laws)
        return print_draft(draft, instead="the requester gave no e-mail address: the notice goes by post")
    ticket = tickets.extend(args.ref, args.reason, actor=actor(args), laws=laws)
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
    if args.dry_run:
        draft = service().draft_release(args.ref, actor=actor(args), why=args.why)
        return print_draft(draft, instead="released, it would be owed no acknowledgement by e-mail")
    ticket = service().release(args.ref, actor=actor(args), why=args.why)
    return _done(ticket, f"released, acknowledgement {ticket.acknowledgement.state.value}")


@guarded
def run_ack(args: argparse.Namespace) -> int:
    if args.dry_run:
        return print_draft(service().draft_acknowledgement(args.ref))
    ticket = service().acknowledge(args.ref, actor=actor(args))
    return _done(ticket, f"acknowledgement {ticket.acknowledgement.state.value}")


@guarded
def run_new(args: argparse.Namespace) -> int:
    letter = Letter(
        received=args.received,
        text=_text(args),
        postal_address=args.sender,
        email=args.email,
        subject=args.subject,
        language=args.language,
        jurisdiction=Jurisdiction(args.jurisdiction),
    )
    if args.dry_run:
        draft = service().draft_postal(letter, actor=actor(args))
        return print_draft(draft, instead="no e-mail address given: the letter is acknowledged by post")
    ticket = service().new_postal(letter, actor=actor(args))
    if args.json:
        print(json.dumps(ticket_view(ticket, today()), indent=2))
        return 0
    labels = ",".join(x.value for x in ticket.labels)
    due = ticket.deadlines.answer_due.isoformat()
    return _done(
        ticket, f"labels {labels}, answer due {due}, acknowledgement {ticket.acknowledgement.state.value}"
    )


@guarded
def run_attach(args: argparse.Namespace) -> int:
    ticket = service().attach(args.ref, args.guids, actor=actor(args))
    return _done(ticket, f"{len(ticket.guids)} machine GUID(s) on the ticket")


@guarded
def run_detach(args: argparse.Namespace) -> int:
    ticket = service().detach(args.ref, args.guids, actor=actor(args))
    return _done(ticket, f"{len(ticket.guids)} machine GUID(s) on the ticket")


@guarded
def run_tickets_csv(args: argparse.Namespace) -> int:
    chosen = statuses(args.status or ["all"])
    tickets = worklist.select(service().tickets(sorted(chosen)), worklist.Filters(statuses=chosen), today())
    text = csv_text(tickets, personal=args.with_personal_data)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as error:
            raise Refused(f"cannot write {args.output}: {error.strerror or type(error).__name__}") from None
        print(f"{len(tickets)} tickets written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


@guarded
def run_deliver(args: argparse.Namespace) -> int:
    from ceip.cli.privacy_deliver import deliver  # noqa: PLC0415 - loads the Lambda handler: only here

    raw = read_user_file(args.file)
    verdicts = {"spf": args.spf, "dkim": args.dkim, "dmarc": args.dmarc}
    result = deliver(raw, spam=args.spam, virus=args.virus, source=args.source, authentication=verdicts)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for filed in result["filed"]:
        ses_id = result["ses_message_id"]
        print(f"delivered {Path(args.file).name} (SES message {ses_id}): {filed['ref']} {filed['outcome']}")
    return 0

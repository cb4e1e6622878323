"""The grammar of the `ceip` command: every command, argument, help text and example.

Light on purpose: each command names its runner as "module:function", imported only when that command
runs, so `ceip --version` and `--help` load neither boto3 nor DuckDB. The global options are accepted
before or after the subcommand (a parent parser on every level, its defaults suppressed so a value given
on one level is not reset by another).
"""

from __future__ import annotations

import argparse
from typing import Any

from ceip.aggregate.tables import TABLES
from ceip.cli.dates import parse_day
from ceip.privacy.classify import Label
from ceip.privacy.deadlines import Jurisdiction, Law
from ceip.privacy.templates import Kind
from ceip.privacy.tickets import DenyReason, Status

EXIT_CODES = "exit status: 0 done, 1 refused or failed (one line on stderr), 2 usage error"
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
STATUS_CHOICES = [*sorted(s.value for s in Status), "all", "open"]
VERDICTS = ["PASS", "FAIL", "GRAY", "PROCESSING_FAILED"]


class _Version(argparse.Action):
    """Reads the installed distribution's version only when asked (importlib.metadata costs ~30 ms)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - only for --version

        try:
            found = version("ceip")
        except PackageNotFoundError:
            found = "unknown (not installed)"
        print(f"ceip {found}")
        parser.exit()


def _global_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("global options (before or after the subcommand)")
    group.add_argument(
        "--local-state",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="state file written by `make run` (default: the first .ceip/local.json in this folder or "
        "above, unless AWS_ENDPOINT_URL or REPORTS_BUCKET is set)",
    )
    # Gone: the history records the verified AWS identity. Kept hidden to say so instead of "unrecognized".
    group.add_argument("--actor", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return options


GLOBAL = _global_options()


def command(sub: Any, name: str, *, help: str, example: str, run: str | None = None, **kwargs: Any) -> Any:
    """A subcommand with the global options, its example in the epilog and its runner."""
    parser = sub.add_parser(
        name,
        help=help,
        description=kwargs.pop("description", help),
        epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[GLOBAL],
        **kwargs,
    )
    if run:
        parser.set_defaults(run=run)
    return parser


def subcommands(parser: argparse.ArgumentParser, dest: str) -> Any:
    return parser.add_subparsers(dest=dest, required=True, metavar="SUBCOMMAND")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ceip",
        description="The `ceip` command: operators' and the privacy team's tools, against the local stack "
        "(`make run`) or AWS with the usual credentials.",
        epilog=f"example:\n  ceip privacy list\n\n{EXIT_CODES}; docs/cli.md lists every command",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[GLOBAL],
    )
    parser.add_argument("--version", action=_Version, help="print the installed version and exit")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _reports(commands)
    _privacy(commands)
    _aggregate(commands)
    return parser


# -- ceip reports ------------------------------------------------------------------------------------
def _reports(commands: Any) -> None:
    reports = command(
        commands, "reports", help="inspect stored raw reports", example="ceip reports list --date today"
    )
    listing = command(
        subcommands(reports, "reports_command"),
        "list",
        help="list the report objects of one UTC day",
        example="ceip reports list --date yesterday --show | head",
        run="ceip.cli.reports:list_reports",
    )
    listing.add_argument("--date", type=parse_day, default="today", help="YYYY-MM-DD, today or yesterday")
    listing.add_argument("--json", action="store_true", help="one JSON object per stored object")
    listing.add_argument("--show", action="store_true", help="also print every stored report line")


# -- ceip privacy ------------------------------------------------------------------------------------
def _privacy(commands: Any) -> None:
    privacy = command(
        commands,
        "privacy",
        help="the privacy inbox: tickets, deadlines, replies, erasure and exports",
        description="The privacy team's inbox. Tickets are listed nearest deadline first; every change is "
        "recorded in the ticket's history with your verified AWS identity (STS GetCallerIdentity) and "
        "the reason given.",
        example="ceip privacy list --overdue",
    )
    sub = subcommands(privacy, "privacy_command")
    _privacy_reading(sub)
    _privacy_changes(sub)
    _privacy_mail(sub)
    _privacy_intake(sub)
    _privacy_data_requests(sub)


def _json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _ref(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="TICKET", help="the ticket's reference, e.g. CEIP-7K2M")


def _dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the message that would be sent (To, From, Subject, text); send and record nothing",
    )


def _text_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--text", help=what)
    group.add_argument("--file", help="read the text from this UTF-8 file (- for stdin)")


def _privacy_reading(sub: Any) -> None:
    listing = command(
        sub,
        "list",
        help="tickets, nearest deadline first (open ones by default)",
        example="ceip privacy list --label erasure --due-before 2026-03-01",
        run="ceip.cli.privacy:run_list",
    )
    listing.add_argument("--status", action="append", choices=STATUS_CHOICES, help="repeatable")
    listing.add_argument("--label", choices=[x.value for x in Label], help="only tickets with this label")
    listing.add_argument("--overdue", action="store_true", help="a legal deadline has passed")
    listing.add_argument("--due-before", type=parse_day, help="answer due on or before YYYY-MM-DD")
    listing.add_argument("--assignee", help="only tickets assigned to this person")
    listing.add_argument("--unacknowledged", action="store_true", help="acknowledgement owed or failed")
    listing.add_argument(
        "--unverified", action="store_true", help="sender not authenticated by SPF/DKIM/DMARC"
    )
    _json(listing)

    show = command(
        sub,
        "show",
        help="a ticket, its history and the text of its messages",
        example="ceip privacy show CEIP-7K2M | less",
        run="ceip.cli.privacy:run_show",
    )
    _ref(show)
    _json(show)

    csv_export = command(
        sub,
        "tickets-csv",
        help="the tickets as CSV (no personal data unless asked)",
        example="ceip privacy tickets-csv --status open --output tickets.csv",
        run="ceip.cli.privacy:run_tickets_csv",
    )
    csv_export.add_argument("--status", action="append", choices=STATUS_CHOICES, help="default: all")
    csv_export.add_argument("--output", help="file to write (default: stdout)")
    csv_export.add_argument("--with-personal-data", action="store_true", help="add sender and GUID columns")


def _privacy_changes(sub: Any) -> None:
    assign = command(
        sub,
        "assign",
        help="give a ticket to someone (--to - for nobody)",
        example="ceip privacy assign CEIP-7K2M --to ben --why 'knows telemetry'",
        run="ceip.cli.privacy:run_assign",
    )
    _ref(assign)
    assign.add_argument("--to", required=True, help="the assignee, or - for nobody")
    assign.add_argument("--why", help="the reason, for the history")

    label = command(
        sub,
        "label",
        help="override the labels (and/or set the jurisdiction)",
        example="ceip privacy label CEIP-7K2M --set complaint --why 'reads like a complaint'",
        run="ceip.cli.privacy:run_label",
    )
    _ref(label)
    label.add_argument("--set", dest="labels", help="comma-separated: " + ",".join(x.value for x in Label))
    label.add_argument("--jurisdiction", choices=[j.value for j in Jurisdiction], help="sets the deadlines")
    label.add_argument("--why", required=True, help="the reason, for the history")

    note = command(
        sub,
        "note",
        help="add a note to the history",
        example="ceip privacy note CEIP-7K2M 'Called the requester back.'",
        run="ceip.cli.privacy:run_note",
    )
    _ref(note)
    note.add_argument("text", help="the note")

    states = ", ".join(sorted(TRANSITION_ALIASES))
    move = command(
        sub,
        "transition",
        help="change the state: resolve, deny, withdraw, close, reopen...",
        description=f"Move a ticket to another state along the transition table. STATE is one of: {states}.",
        example="ceip privacy transition CEIP-7K2M deny --reason-code identity_unverified --why 'no reply'",
        run="ceip.cli.privacy:run_transition",
    )
    _ref(move)
    move.add_argument(
        "to", choices=sorted(TRANSITION_ALIASES), metavar="STATE", help=f"the new state: {states}"
    )
    move.add_argument("--reason-code", choices=[r.value for r in DenyReason], help="required to deny")
    move.add_argument("--of", dest="duplicate_of", help="the original ticket, for duplicate")
    move.add_argument("--why", help="the reason, for the history")

    attach = command(
        sub,
        "attach",
        help="record machine GUIDs the requester gave later (then `erase` or `export` work)",
        example="ceip privacy attach CEIP-7K2M 9b2e4f6a-8c1d-4e3f-a5b7-c9d1e3f5a7b9",
        run="ceip.cli.privacy:run_attach",
    )
    _ref(attach)
    attach.add_argument("guids", nargs="+", metavar="GUID", help="machine GUID(s), any spelling")
    detach = command(
        sub,
        "detach",
        help="remove machine GUIDs recorded by mistake",
        example="ceip privacy detach CEIP-7K2M 9b2e4f6a-8c1d-4e3f-a5b7-c9d1e3f5a7b9",
        run="ceip.cli.privacy:run_detach",
    )
    _ref(detach)
    detach.add_argument("guids", nargs="+", metavar="GUID", help="machine GUID(s) to remove")


def _privacy_mail(sub: Any) -> None:
    reply = command(
        sub,
        "reply",
        help="send a templated message to the requester by SES",
        example="ceip privacy reply CEIP-7K2M --template need-info --text 'Which version?' --dry-run",
        run="ceip.cli.privacy:run_reply",
    )
    _ref(reply)
    reply.add_argument(
        "--template",
        choices=[Kind.ANSWER.value, Kind.NEED_INFO.value],
        default=Kind.ANSWER.value,
        help="the message's template (default: answer)",
    )
    _text_arguments(reply, "the text of the message")
    reply.add_argument(
        "--then", choices=sorted(TRANSITION_ALIASES), help="then move the ticket (e.g. resolve)"
    )
    _dry_run(reply)

    extend = command(
        sub,
        "extend",
        help="extend the answer deadline, notifying the requester",
        example="ceip privacy extend CEIP-7K2M --reason 'The deletion spans several archives.' --dry-run",
        run="ceip.cli.privacy:run_extend",
    )
    _ref(extend)
    extend.add_argument("--reason", required=True, help="told to the requester")
    extend.add_argument(
        "--law", action="append", choices=[law.value for law in Law], help="default: all that apply"
    )
    _dry_run(extend)

    release = command(
        sub,
        "release",
        help="a quarantined (spam) or held message is genuine: triage it (and acknowledge it)",
        example="ceip privacy release CEIP-7K2M --why 'a person, not spam' --dry-run",
        run="ceip.cli.privacy:run_release",
    )
    _ref(release)
    release.add_argument("--why", required=True, help="the reason, for the history")
    _dry_run(release)

    ack = command(
        sub,
        "ack",
        help="send an owed or failed acknowledgement now",
        example="ceip privacy ack CEIP-7K2M --dry-run",
        run="ceip.cli.privacy:run_ack",
    )
    _ref(ack)
    _dry_run(ack)


def _privacy_intake(sub: Any) -> None:
    new = command(
        sub,
        "new",
        help="record a letter (or a message that did not come through SES)",
        example="ceip privacy new --received 2026-02-03 --sender 'E. Muster, Berlin' --file letter.txt",
        run="ceip.cli.privacy:run_new",
    )
    new.add_argument("--channel", choices=["postal"], default="postal", help="how it came (default: postal)")
    new.add_argument("--received", type=parse_day, required=True, help="YYYY-MM-DD the letter arrived")
    _text_arguments(new, "the letter's text")
    new.add_argument("--subject", default="", help="a subject for the transcript")
    new.add_argument("--sender", help="postal address of the sender")
    new.add_argument("--email", help="e-mail address given in the letter (the acknowledgement goes there)")
    new.add_argument("--language", choices=["en", "de", "fr", "es"], help="default: detected from the text")
    new.add_argument(
        "--jurisdiction",
        choices=[j.value for j in Jurisdiction],
        default=Jurisdiction.UNKNOWN.value,
        help="sets the deadlines (default: unknown)",
    )
    _json(new)
    _dry_run(new)

    deliver = command(
        sub,
        "deliver",
        help="local stack: deliver an .eml file as if SES had received it",
        example="ceip privacy deliver tests/fixtures/mail/inquiry-en-erasure.eml",
        run="ceip.cli.privacy:run_deliver",
    )
    deliver.add_argument("file", help="the message, as an .eml file")
    deliver.add_argument("--spam", default="PASS", choices=VERDICTS, help="SES's spam verdict")
    deliver.add_argument("--virus", default="PASS", choices=VERDICTS, help="SES's virus verdict")
    for check in ("spf", "dkim", "dmarc"):
        deliver.add_argument(
            f"--{check}",
            default="PASS",
            choices=VERDICTS,
            help=f"SES's {check.upper()} verdict (FAIL: the sender is not authenticated, no automatic mail)",
        )
    deliver.add_argument("--source", help="envelope sender (default: the Return-Path or From header)")
    _json(deliver)


def _privacy_data_requests(sub: Any) -> None:
    purge = command(
        sub,
        "purge",
        help="run the purge now: erase the reports of machines with open requests",
        example="ceip privacy purge --json",
        run="ceip.cli.datasubject:run_purge",
    )
    purge.add_argument("--resume-only", action="store_true", help="only finish an interrupted pass")
    _json(purge)

    requests = command(
        sub,
        "requests",
        help="erasure requests and their receipts",
        example="ceip privacy requests --open",
        run="ceip.cli.datasubject:show_requests",
    )
    requests.add_argument("request_id", nargs="?", metavar="REQUEST_ID", help="show this request")
    requests.add_argument("--open", action="store_true", help="only requests not yet fulfilled")
    _json(requests)

    erase = command(
        sub,
        "erase",
        help="file the erasure of a ticket's machine GUID(s); links receipts",
        example="ceip privacy erase CEIP-7K2M",
        run="ceip.cli.datasubject:run_erase",
    )
    _ref(erase)

    approve = command(
        sub,
        "approve-export",
        help="record that you checked the requester owns the ticket's GUIDs (covers exactly those)",
        example="ceip privacy approve-export CEIP-7K2M --why 'GUID shown on a screenshot'",
        run="ceip.cli.datasubject:run_approve_export",
    )
    _ref(approve)
    approve.add_argument("--why", required=True, help="how ownership of the GUID was established")

    export = command(
        sub,
        "export",
        help="send a ticket's requester the reports of the machines another person approved",
        example="ceip privacy export CEIP-7K2M --dry-run",
        run="ceip.cli.datasubject:run_export",
    )
    _ref(export)
    _dry_run(export)

    revoke = command(
        sub,
        "revoke-export",
        help="delete a ticket's export documents (their links stop working) and revoke its approvals",
        example="ceip privacy revoke-export CEIP-7K2M --why 'sent to the wrong address'",
        run="ceip.cli.datasubject:run_revoke_export",
    )
    _ref(revoke)
    revoke.add_argument("--why", required=True, help="why the export is withdrawn")


# -- ceip aggregate ----------------------------------------------------------------------------------
def _build_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--date", type=parse_day, required=required, help="YYYY-MM-DD, today or yesterday")
    parser.add_argument("--until", type=parse_day, default=None, help="last day of a range (inclusive)")
    parser.add_argument(
        "--min-machines",
        type=int,
        default=None,
        help="K for the partner tables (default: PARTNER_MIN_MACHINES)",
    )
    parser.add_argument(
        "--new-partner-release",
        action="store_true",
        help="draw the partner tables anew instead of republishing the day's release (charged to the "
        "privacy budget; the manifest counts every drawing)",
    )
    _json(parser)


def _aggregate(commands: Any) -> None:
    aggregate = command(
        commands,
        "aggregate",
        help="build the prevalence tables of a UTC day (or a range), list and print them",
        description="Build, list and print the prevalence tables. `ceip aggregate --date D` (without a "
        "subcommand) is `ceip aggregate build --date D`.",
        example="ceip aggregate build --date yesterday",
    )
    sub = aggregate.add_subparsers(dest="aggregate_command", metavar="SUBCOMMAND")
    _build_arguments(aggregate, required=False)
    aggregate.set_defaults(run="ceip.cli.aggregate:run")
    build = command(
        sub,
        "build",
        help="build the tables of a day, or of a range for backfills",
        description="Runs the same service as the scheduled AggregateFunction, in this process, against the "
        "local stack from `make run` or AWS (REPORTS_BUCKET, AGGREGATES_BUCKET, ...).",
        example="ceip aggregate build --date 2026-01-01 --until 2026-01-31",
        run="ceip.cli.aggregate:run",
    )
    _build_arguments(build, required=True)

    tables = command(
        sub,
        "tables",
        help="what was published for a day: tables, audience, rows (from the day's manifest)",
        example="ceip aggregate tables --date yesterday",
        run="ceip.cli.aggregate_tables:run_tables",
    )
    tables.add_argument("--date", type=parse_day, default="yesterday", help="YYYY-MM-DD (default: yesterday)")
    _json(tables)

    declare = command(
        sub,
        "declare",
        help="store a product's data dictionary: declared ids, always kept by the caps and published",
        example="ceip aggregate declare contoso.editor.json",
        run="ceip.cli.aggregate:run_declare",
    )
    declare.add_argument(
        "file", metavar="FILE", help="the dictionary (JSON; docs/aggregates.md#data-dictionary)"
    )
    declare.add_argument("--dry-run", action="store_true", help="check the file, store nothing")

    show = command(
        sub,
        "show",
        help="print a published table",
        example="ceip aggregate show active --date yesterday --partner --format csv | head",
        run="ceip.cli.aggregate_tables:run_show",
    )
    show.add_argument("table", choices=TABLES, metavar="TABLE", help="one of: " + ", ".join(TABLES))
    show.add_argument("--date", type=parse_day, default="yesterday", help="YYYY-MM-DD (default: yesterday)")
    show.add_argument("--partner", action="store_true", help="the partner table (default: internal)")
    show.add_argument("--limit", type=int, default=50, help="at most this many rows (default: 50, 0 for all)")
    show.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)"
    )

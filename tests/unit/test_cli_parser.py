"""The `ceip` grammar: help and an example everywhere, runners that exist, global options on every
level; and the CLI's pure pieces (state file search, CSV cells, message text, AWS error lines)."""

from __future__ import annotations

import argparse
import importlib
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ceip.cli import aws_calls, build_parser, main
from ceip.cli.environment import find_state_file
from ceip.cli.privacy_views import message_text
from ceip.cli.tables import print_table, write_csv
from ceip.privacy import outbound, templates
from ceip.privacy.ticket_table import TicketStoreUnavailable
from ceip.privacy.tickets import Status


def parsers(
    parser: argparse.ArgumentParser, path: str = "ceip"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


ALL = list(parsers(build_parser()))
LEAVES = [(path, p) for path, p in ALL if p.get_default("run")]


def test_every_command_has_an_example_and_every_argument_help() -> None:
    assert len(LEAVES) >= 25
    for path, parser in ALL:
        assert parser.epilog and "example:\n  ceip " in parser.epilog, path
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, f"{path}: {action.dest} has no help"


def test_every_runner_exists() -> None:
    for path, parser in LEAVES:
        module, name = parser.get_default("run").split(":")
        assert callable(getattr(importlib.import_module(module), name)), path


def test_transition_help_lists_the_states(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["privacy", "transition", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for status in Status:
        assert status.value in text
    assert "reopen" in text


def test_version_comes_from_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as raised:
        main(["--version"])
    assert raised.value.code == 0
    assert capsys.readouterr().out == f"ceip {version('ceip')}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["--local-state", "s.json", "privacy", "note", "CEIP-AAAA", "x"],
        ["privacy", "--local-state", "s.json", "note", "CEIP-AAAA", "x"],
        ["privacy", "note", "CEIP-AAAA", "x", "--local-state", "s.json"],
    ],
)
def test_global_options_before_or_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.local_state, args.text) == ("s.json", "x")


def test_the_old_aggregate_form_and_build_are_the_same_command() -> None:
    old = build_parser().parse_args(["aggregate", "--date", "2026-01-01", "--until", "2026-01-02"])
    new = build_parser().parse_args(["aggregate", "build", "--date", "2026-01-01", "--until", "2026-01-02"])
    assert old.run == new.run
    assert (old.date, old.until) == (new.date, new.until)


def test_the_state_file_is_found_from_any_folder_below_the_checkout(tmp_path: Path) -> None:
    # Given a checkout with the local stack's state at its root
    state = tmp_path / ".ceip" / "local.json"
    state.parent.mkdir()
    state.write_text("{}")
    deep = tmp_path / "functions" / "ceip" / "cli"
    deep.mkdir(parents=True)
    # Then it is found from the root and from deep inside, and not from outside
    assert find_state_file(tmp_path) == state
    assert find_state_file(deep) == state
    assert find_state_file(tmp_path.parent) is None


def test_csv_output_is_neutralised_and_quoted() -> None:
    stream = io.StringIO()
    write_csv(["sender", "n"], [["=cmd|' /C calc'!A0", 1]], stream)
    assert stream.getvalue() == "sender,n\n'=cmd|' /C calc'!A0,1\n"


def test_a_message_is_shown_with_its_headers_and_text() -> None:
    rendered = templates.render(templates.Kind.ANSWER, "de", ref="CEIP-AAAA", text="Erledigt.")
    raw = outbound.compose(
        rendered, ref="CEIP-AAAA", mail_from="privacy@example.com", to="a@example.org", at=datetime.now(UTC)
    )
    text = message_text(raw)
    assert text.splitlines()[:3] == [
        "To: a@example.org",
        "From: CEIP Privacy <privacy@example.com>",
        "Subject: [CEIP-AAAA] Ihre Datenschutzanfrage",
    ]
    assert "Guten Tag,\n\nErledigt." in text


def test_aws_errors_name_the_operation_and_the_last_resource_called() -> None:
    class Model:
        name = "GetItem"

        class service_model:
            service_name = "dynamodb"

    aws_calls._remember({"TableName": "tickets", "Key": {}}, Model())
    refused = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "user x"}}, "GetItem")
    wrapped = TicketStoreUnavailable("AccessDeniedException")
    wrapped.__cause__ = refused
    assert aws_calls.explain(refused) == "AWS call failed: AccessDeniedException (GetItem on tickets)"
    assert aws_calls.explain(wrapped) == "ticket store failed: AccessDeniedException (GetItem on tickets)"
    assert aws_calls.explain(ValueError("x")) is None


def test_tables_print_as_plain_columns_where_rich_is_not_installed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an installation without the `cli` extra (rich cannot be imported)
    monkeypatch.setitem(sys.modules, "rich", None)
    # When a command prints a table with a sender that looks like rich markup
    print_table(("REF", "FROM"), [("CEIP-AB12", "[b]x@example.com"), ("CEIP-CD34", None)], title="Tickets")
    # Then the columns are padded plain text, the cell unchanged
    assert capsys.readouterr().out.splitlines() == [
        "Tickets",
        "REF        FROM",
        "CEIP-AB12  [b]x@example.com",
        "CEIP-CD34",
    ]

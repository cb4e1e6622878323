"""Nothing a user can do ends in a traceback: each case is one line on stderr and the exit status
docs/cli.md documents (1 refused or failed, 2 usage); a closed pipe ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ceip.cli import main
from tests.functional.test_privacy_cli import receive
from tests.support.privacy import PrivacyAws, mail

ROOT = Path(__file__).resolve().parents[2]


def one_line_failure(capsys: pytest.CaptureFixture[str], *args: str, code: int = 1) -> str:
    """Run the CLI in-process; assert the documented status and exactly one line on stderr."""
    status = main(list(args))
    out, err = capsys.readouterr()
    assert status == code
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith("ceip: "), err
    return err


@pytest.fixture
def ticket(privacy_aws: PrivacyAws, capsys: Any) -> str:
    ref = receive(privacy_aws, mail())
    capsys.readouterr()
    return ref


def test_a_missing_eml_file_names_the_file(privacy_aws: PrivacyAws, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # deliver runs on the local stack only
    err = one_line_failure(capsys, "privacy", "deliver", "/missing.eml")
    assert err == "ceip: cannot read /missing.eml: No such file or directory\n"


def test_a_missing_or_binary_text_file_names_the_file(ticket: str, capsys: Any, tmp_path: Path) -> None:
    err = one_line_failure(capsys, "privacy", "new", "--received", "today", "--file", "/missing.txt")
    assert "/missing.txt" in err
    binary = tmp_path / "letter.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    err = one_line_failure(capsys, "privacy", "reply", ticket, "--file", str(binary))
    assert err == f"ceip: cannot read {binary}: not UTF-8 text\n"
    err = one_line_failure(capsys, "privacy", "reply", ticket, "--file", str(tmp_path))
    assert str(tmp_path) in err


def test_an_aws_error_names_the_action_and_the_resource(
    privacy_aws: PrivacyAws, capsys: Any, monkeypatch: Any
) -> None:
    # Given a tickets table that does not exist
    monkeypatch.setenv("TICKETS_TABLE", "ceip-no-such-table")
    # When the team lists tickets, Then one line says which call on which table failed
    err = one_line_failure(capsys, "privacy", "list")
    assert "ResourceNotFoundException" in err
    assert "on ceip-no-such-table" in err


def test_an_unreachable_endpoint_is_one_line(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    err = one_line_failure(capsys, "reports", "list")
    assert "s3://ceip-test-reports" in err and "make run" in err


def test_missing_settings_name_the_variables_and_the_way_out(capsys: Any, monkeypatch: Any) -> None:
    for name in ("TICKETS_TABLE", "INBOX_BUCKET"):
        monkeypatch.delenv(name)
    err = one_line_failure(capsys, "privacy", "list")
    assert "INBOX_BUCKET, TICKETS_TABLE" in err
    assert "make run" in err and "--local-state" in err


def test_a_missing_local_state_file_names_it(capsys: Any) -> None:
    err = one_line_failure(capsys, "--local-state", "/nowhere/local.json", "privacy", "list")
    assert "/nowhere/local.json" in err


def test_usage_errors_exit_2(capsys: Any) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["privacy", "transition", "CEIP-AAAA", "sideways"])
    assert raised.value.code == 2
    capsys.readouterr()
    one_line_failure(capsys, "aggregate", code=2)


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # Given a command with more output than the reader wants (the help of every privacy command)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    reader_closes = subprocess.run(
        f"{sys.executable} -m ceip.cli reports list --local-state /nowhere.json --help | head -1",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert reader_closes.stdout.startswith("usage: ceip reports list")
    assert reader_closes.stderr == ""
    # And a command whose runner writes into a pipe closed before it starts
    read_end, write_end = os.pipe()
    os.close(read_end)
    closed = subprocess.run(
        [sys.executable, "-c", PRINT_MANY],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    os.close(write_end)
    assert "Traceback" not in closed.stderr and closed.stderr == ""
    assert closed.returncode == 1


PRINT_MANY = """
import sys
from ceip import cli
from ceip.cli import main
def many(args):
    for n in range(100_000):
        print(n)
    return 0
cli.runner = lambda args: many
sys.exit(main(["reports", "list"]))
"""

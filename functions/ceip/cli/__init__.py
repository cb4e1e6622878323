"""The `ceip` command: operators' and the privacy team's tools, against the local stack or AWS.

`main` is the one entry point: it parses (ceip.cli.parser), points the process at the local stack or
AWS, runs the command's runner and turns whatever a user can cause into one line on stderr and an exit
status (0 done, 1 refused or failed, 2 usage), never a traceback. docs/cli.md lists every command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from ceip.cli.failures import FAILED, explain
from ceip.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def runner(args: argparse.Namespace) -> Callable[[argparse.Namespace], int]:
    """The command's function, imported now: its module (boto3, DuckDB...) loads only when it runs."""
    module, name = str(args.run).split(":")
    found: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from ceip.cli import aws_calls  # noqa: PLC0415 - keeps --version and --help free of boto3
        from ceip.cli.environment import use_local_stack_if_running  # noqa: PLC0415

        use_local_stack_if_running(getattr(args, "local_state", None))
        aws_calls.watch()
        result = runner(args)(args)
        sys.stdout.flush()  # a closed pipe fails here, inside the try, not at the interpreter's exit
    except BrokenPipeError:
        _silence_stdout()
        return FAILED
    except Exception as error:
        explained = explain(error)
        if explained is None:
            raise
        line, code = explained
        print(f"ceip: {line}", file=sys.stderr)
        return code
    return result


def _silence_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null so the interpreter's own flush at exit
    does not raise (and print) a second BrokenPipeError."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing will be flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)

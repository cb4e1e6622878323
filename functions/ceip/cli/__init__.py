"""The `ceip` command: operators' and the privacy team's tools, against the local stack or AWS."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ceip.cli import aggregate, datasubject, privacy, reports
from ceip.cli.environment import use_local_stack_if_running


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ceip", description=__doc__)
    parser.add_argument(
        "--local-state",
        default=None,
        help="state file written by `make run` (default: .ceip/local.json when it exists and no "
        "AWS_ENDPOINT_URL is set)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reports.register(commands)
    datasubject.add_commands(privacy.register(commands))
    aggregate.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    use_local_stack_if_running(args.local_state)
    result: int = args.run(args)
    return result

"""Run benchmarks, print their figures and PASS/FAIL per target, and rewrite docs/benchmarks.md.

Usage: `python -m benchmarks [NAME ...]` (all registered benchmarks when no name is given). Only the
sections of the benchmarks that ran are rewritten. Exit status 1 if any target is missed, 2 for an
unknown name. To add a benchmark, write a module with `run() -> Section` and register it below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from benchmarks.render import DOC_PATH, Section, write_document

BENCHMARKS: dict[str, str] = {
    "ingest": "benchmarks.ingest",
    "aggregate": "benchmarks.aggregate",
    "hostile": "benchmarks.hostile",
    "purge": "benchmarks.purge",
    "purge-flood": "benchmarks.purge_flood",
    "suppression": "benchmarks.suppression",
    "cli": "benchmarks.cli",
    "partner_utility": "benchmarks.partner_utility",
    "mail-parse": "benchmarks.mail_parse",
}
"""Benchmark name -> module; modules are imported only when they run (the ingest one sets its
environment before importing the handler)."""


def load(name: str) -> Callable[[], Section]:
    module = importlib.import_module(BENCHMARKS[name])
    return cast(Callable[[], Section], module.run)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    sections: list[Section] = []
    for name in names:
        print(f"== {name}", flush=True)
        section = load(name)()
        sections.append(section)
        print(section.table)
        for check in section.checks:
            print(check.describe())
        print(flush=True)
    write_document(sections, list(BENCHMARKS))
    print(f"wrote {DOC_PATH}")
    return 0 if all(check.passed for section in sections for check in section.checks) else 1


if __name__ == "__main__":
    sys.exit(main())

"""CLI start-up benchmark: `ceip --version` in fresh processes, against the interpreter's own start-up.

The target (issue 15): the CLI starts in under 0.5 s, median of 10 runs, so rich (tables) may be used
only if imported lazily. The floor, `python -c "import argparse"`, is measured in the same run, so the
section also says what the CLI itself adds on this machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Check, interleave, median, seconds
from benchmarks.render import Section, machine_line, markdown_table

RUNS = 10
TARGET_SECONDS = 0.5
CEIP = Path(sys.executable).with_name("ceip")
COMMANDS: dict[str, list[str]] = {
    "floor: python -c 'import argparse'": [sys.executable, "-c", "import argparse"],
    "ceip --version": [str(CEIP), "--version"],
    "ceip --help": [str(CEIP), "--help"],
}


def _started(command: list[str]) -> float:
    return seconds(
        lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    )


def run() -> Section:
    steps = [lambda command=command: _started(command) for command in COMMANDS.values()]
    interleave(1, *steps)  # warm the page cache and .pyc files: the steady state an operator sees
    # Interleaved, so a burst of other work on the machine hits each command alike.
    timings = dict(zip(COMMANDS, interleave(RUNS, *steps), strict=True))
    medians = {label: median(values) for label, values in timings.items()}
    floor = medians["floor: python -c 'import argparse'"]
    rows = [
        (f"`{label}`", f"{value * 1000:.0f} ms", f"{(value - floor) * 1000:+.0f} ms")
        for label, value in medians.items()
    ]
    check = Check(
        "ceip --version, median of 10 fresh processes (s)", medians["ceip --version"], TARGET_SECONDS, True
    )
    table = markdown_table(("Command", f"Median of {RUNS}", "Over the floor"), rows)
    markdown = f"""## CLI start-up

{machine_line()}

`ceip --version` and `ceip --help`, each in a fresh process ({RUNS} runs each, interleaved with the
floor, after one untimed run of each), against `python -c "import argparse"` in the same run. Rerun
with `.venv/bin/python -m benchmarks cli`. The parser imports only the enums its choices list (pydantic
models); each command's runner, and with it boto3, DuckDB and rich, is imported when that command runs.

{table}

{check.describe()}
"""
    return Section("cli", markdown, table, (check,))

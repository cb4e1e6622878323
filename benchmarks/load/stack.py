"""The stack the load runs against: its own (`python -m infra.local` on free ports, in a subprocess, so
the clients and the gateway do not share an interpreter), or one already running (its state file)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.gateway import CLIENT_GONE

from benchmarks.render import PROJECT_ROOT

START_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class Stack:
    url: str
    state_file: Path
    state: dict[str, Any]
    console: Path | None
    """The own stack's stdout and stderr (None for a stack someone else runs)."""
    own: bool
    """True when nothing but this run has written to the stack."""

    @property
    def environment(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.state["environment"].items()}

    def console_text(self) -> str:
        return self.console.read_text(encoding="utf-8", errors="replace") if self.console else ""

    def handler_failures(self) -> int:
        """Requests the gateway answered 500 because a handler raised, and tracebacks it printed."""
        text = self.console_text()
        return len(re.findall(r"^gateway: handler raised", text, re.M)) + text.count("Traceback (most recent")

    def dropped_answers(self) -> int | None:
        """Answers the gateway could not deliver because the client had hung up (abandoned requests);
        None when the console is not this run's to read."""
        if self.console is None:
            return None
        return self.console_text().count(f"gateway: {CLIENT_GONE} before the answer")


def _environment_without_aws() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "REPORTS_BUCKET"}


@contextlib.contextmanager
def own_stack() -> Iterator[Stack]:
    """A fresh local stack on free ports for the duration of the block."""
    with tempfile.TemporaryDirectory(prefix="ceip-load-") as scratch:
        state_file = Path(scratch) / "local.json"
        console = Path(scratch) / "console.log"
        with console.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "infra.local", "--port", "0", "--state-file", str(state_file)],
                cwd=PROJECT_ROOT,
                env=_environment_without_aws(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            try:
                deadline = time.monotonic() + START_TIMEOUT_S
                while not state_file.exists():
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("local stack did not start:\n" + console.read_text())
                    time.sleep(0.05)
                state = json.loads(state_file.read_text())
                yield Stack(state["url"], state_file, state, console, own=True)
            finally:
                process.terminate()
                process.wait(timeout=30)


def running_stack(state_file: Path) -> Stack:
    """A stack started elsewhere (`make run` writes .ceip/local.json)."""
    if not state_file.is_file():
        raise SystemExit(f"no local stack state at {state_file} (is `make run` running?)")
    state = json.loads(state_file.read_text())
    return Stack(state["url"], state_file, state, None, own=False)


def run_cli(stack: Stack, *args: str, timeout_s: float = 600.0) -> subprocess.CompletedProcess[str]:
    """The `ceip` command against the stack, in its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "ceip.cli", "--local-state", str(stack.state_file), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=_environment_without_aws(),
        cwd=PROJECT_ROOT,
        check=False,
    )

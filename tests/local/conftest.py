"""The local stack as `make run` starts it, in a subprocess on free ports."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningStack:
    url: str
    state_file: Path
    state: dict[str, Any]
    output: Path

    def cli(self, *args: str, person: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `ceip` CLI against this stack, as an operator would in a second terminal; as
        `person` (a session of the local privacy-team role, infra.local.identity) when given."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "REPORTS_BUCKET"}
        if person is not None:
            env.update(self.credentials_of(person))
        return subprocess.run(
            [sys.executable, "-m", "ceip.cli", "--local-state", str(self.state_file), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=ROOT,
            check=False,
        )

    def credentials_of(self, person: str) -> dict[str, str]:
        printed = subprocess.run(
            [sys.executable, "-m", "infra.local.identity", person, "--local-state", str(self.state_file)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
            check=True,
        ).stdout
        pairs = (line.removeprefix("export ").split("=", 1) for line in printed.splitlines())
        return {name: shlex.split(value)[0] for name, value in pairs}

    def console(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    workdir = tmp_path_factory.mktemp("local-stack")
    state_file = workdir / "local.json"
    output = workdir / "console.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    with output.open("w") as console:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--port", "0", "--state-file", str(state_file)],
            cwd=ROOT,
            env=env,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not state_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("local stack did not start:\n" + output.read_text())
                time.sleep(0.1)
            state = json.loads(state_file.read_text())
            yield RunningStack(state["url"], state_file, state, output)
        finally:
            process.terminate()
            process.wait(timeout=30)

"""Where the CLI points: the local stack started by `make run`, or AWS with the usual credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULT_STATE_FILE = Path(".ceip") / "local.json"


def use_local_stack_if_running(state_file: str | None) -> bool:
    """Adopt the local stack's endpoint and resource names unless the environment already chose AWS.

    An explicit state file always wins; the default one only when AWS_ENDPOINT_URL is unset and the
    resource variables are not set either.
    """
    path = Path(state_file) if state_file else DEFAULT_STATE_FILE
    if not path.is_file():
        if state_file:
            raise SystemExit(f"ceip: no local stack state at {path} (is `make run` running?)")
        return False
    if not state_file and ("AWS_ENDPOINT_URL" in os.environ or "REPORTS_BUCKET" in os.environ):
        return False
    state = json.loads(path.read_text(encoding="utf-8"))
    override = state_file is not None
    for name, value in state.get("environment", {}).items():
        if override or name not in os.environ:
            os.environ[name] = str(value)
    return True


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"ceip: set {name} (or start the local stack with `make run`)")
    return value

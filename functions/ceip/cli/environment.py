"""Where the CLI points: the local stack started by `make run`, or AWS with the usual credentials."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ceip.cli.failures import Refused

STATE_FILE = Path(".ceip") / "local.json"


CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
"""Who the caller is (STS GetCallerIdentity): never taken from the stack's state when already set."""


def find_state_file(start: Path) -> Path | None:
    """The first .ceip/local.json in `start` or a folder above it, as `make run` writes it at the
    checkout's root, so the CLI finds the stack from any folder inside the checkout."""
    for folder in (start, *start.parents):
        candidate = folder / STATE_FILE
        if candidate.is_file():
            return candidate
    return None


def use_local_stack_if_running(state_file: str | None, cwd: Path | None = None) -> bool:
    """Adopt the local stack's endpoint and resource names unless the environment already chose AWS.

    An explicit state file always wins; the one found from the working folder only when
    AWS_ENDPOINT_URL and REPORTS_BUCKET are unset.
    """
    if state_file:
        path = Path(state_file)
        if not path.is_file():
            raise Refused(f"no local stack state at {path} (is `make run` running?)")
    else:
        if "AWS_ENDPOINT_URL" in os.environ or "REPORTS_BUCKET" in os.environ:
            return False
        found = find_state_file(cwd or Path.cwd())
        if found is None:
            return False
        path = found
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise Refused(f"cannot read the local stack state {path}: {type(error).__name__}") from None
    override = state_file is not None
    # Credentials are the person's, not the stack's: ones already set are kept (infra.local.identity).
    personal = {name for name in CREDENTIALS if name in os.environ}
    for name, value in state.get("environment", {}).items():
        if name not in personal and (override or name not in os.environ):
            os.environ[name] = str(value)
    return True

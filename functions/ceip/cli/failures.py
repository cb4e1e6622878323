"""What the `ceip` command says when something a user can cause goes wrong: one line on stderr and an
exit status (1 refused or failed, 2 usage), never a traceback.

The line names the file, the AWS resource and action, or the missing variables; it never quotes what
AWS answered beyond its error code (a message may quote input).
"""

from __future__ import annotations

from ceip.cli import aws_calls
from ceip.runtime.settings import MissingSettings

FAILED = 1
USAGE = 2


class Refused(Exception):
    """The command cannot do what was asked; the message says why (exit status 1)."""


class UsageError(Exception):
    """The arguments do not make a command (exit status 2)."""


def user_file_error(path: str, error: OSError | UnicodeDecodeError) -> Refused:
    if isinstance(error, UnicodeDecodeError):
        return Refused(f"cannot read {path}: not UTF-8 text")
    return Refused(f"cannot read {path}: {error.strerror or type(error).__name__}")


def explain(error: BaseException) -> tuple[str, int] | None:
    """The one line and exit status for an error a user can cause; None for a bug (a traceback)."""
    if isinstance(error, UsageError):
        return str(error), USAGE
    if isinstance(error, Refused):
        return str(error), FAILED
    if isinstance(error, MissingSettings):
        return (
            f"set {', '.join(error.names)} (or start the local stack with `make run`, or point at its "
            "state with --local-state FILE)",
            FAILED,
        )
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or type(error).__name__}", FAILED
    aws = aws_calls.explain(error)
    if aws is not None:
        return aws, FAILED
    return None

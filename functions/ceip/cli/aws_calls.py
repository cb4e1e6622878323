"""Which AWS call failed, for the one line the CLI prints: the operation and the resource it named.

botocore's errors carry the operation but not the bucket, table or secret, and the adapters turn them
into their own *Unavailable exceptions; so the CLI watches the calls it makes (a botocore event hook on
the default session, installed when a command runs) and names the last one when one fails.
"""

from __future__ import annotations

import threading
from typing import Any

_RESOURCE_PARAMETERS = ("Bucket", "TableName", "SecretId", "QueueUrl")
_UNAVAILABLE_SUFFIX = "Unavailable"
_last = threading.local()
_watched: list[object] = []


def watch() -> None:
    """Remember the service, operation and resource of every AWS call of this process from now on."""
    import boto3  # noqa: PLC0415 - only for commands that talk to AWS, after any mock has started

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    if session is None or any(s is session for s in _watched):
        return
    session.events.register("provide-client-params", _remember)
    _watched[:] = [session]


def _remember(params: dict[str, Any], model: Any, **_: Any) -> None:
    resource = next((str(params[p]) for p in _RESOURCE_PARAMETERS if p in params), None)
    if resource is not None and "Bucket" in params:
        resource = f"s3://{resource}"
    _last.call = (model.service_model.service_name, model.name, resource)


def last_call() -> tuple[str, str, str | None] | None:
    call: tuple[str, str, str | None] | None = getattr(_last, "call", None)
    return call


def explain(error: BaseException) -> str | None:
    """'<what> failed: <code> (<operation> on <resource>)' for AWS errors and the adapters' *Unavailable
    exceptions; None for anything else."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - loaded by any AWS call

    cause = error
    while not isinstance(cause, ClientError | BotoCoreError) and cause.__cause__ is not None:
        cause = cause.__cause__
    named = type(error).__name__
    if not isinstance(cause, ClientError | BotoCoreError) and not named.endswith(_UNAVAILABLE_SUFFIX):
        return None
    if isinstance(cause, ClientError):
        code = str(cause.response.get("Error", {}).get("Code") or "error")[:80]
        operation = cause.operation_name
    elif isinstance(cause, BotoCoreError):
        code, operation = type(cause).__name__, None
    else:
        code, operation = str(error)[:80] or named, None
    call = last_call()
    where = ""
    if call is not None:
        service, called, resource = call
        where = f" ({operation or called} on {resource or service})"
    elif operation:
        where = f" ({operation})"
    what = named.removesuffix(_UNAVAILABLE_SUFFIX) if named.endswith(_UNAVAILABLE_SUFFIX) else "AWS call"
    hint = "; is `make run` running, or are AWS credentials set?" if isinstance(cause, BotoCoreError) else ""
    return f"{_spaced(what)} failed: {code}{where}{hint}"


def _spaced(name: str) -> str:
    """TicketStore -> ticket store; 'AWS call' stays."""
    if " " in name:
        return name
    out = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return out

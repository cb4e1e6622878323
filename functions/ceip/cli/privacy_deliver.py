"""`ceip privacy deliver FILE.eml`: the local stack's stand-in for SES inbound mail.

Moto cannot receive mail, so this plays the receipt rule: it stores the file in the inbox bucket under
inbox/<new messageId> (the S3 action) and invokes PrivacyFunction's handler in this process with the
event SES's Lambda action would send (the Lambda action). Local stack only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import string
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.privacy.inbox import S3RawMailStore
from ceip.privacy.ses_event import receipt_event
from ceip.privacy.settings import privacy_settings
from ceip.storage.inbox_keys import inbound_key

LOCAL_ACCOUNT = "123456789012"


@dataclass
class _Context:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "PrivacyFunction"
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def new_ses_message_id() -> str:
    """An id shaped like SES's (40 lower-case letters and digits)."""
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(40))


def deliver(
    raw: bytes,
    *,
    spam: str = "PASS",
    virus: str = "PASS",
    source: str | None = None,
    authentication: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Store `raw` as SES would and run the handler on it; returns the handler's result. `authentication`
    sets SES's spf, dkim and dmarc verdicts (PASS each by default)."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise SystemExit(
            "ceip: `privacy deliver` works against the local stack only (start it with `make run`)"
        )
    from ceip.privacy import app  # noqa: PLC0415 - the handler (and Powertools) only when delivering

    settings = privacy_settings()
    message_id = new_ses_message_id()
    S3RawMailStore(settings.inbox_bucket).put(inbound_key(message_id), raw)
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    arn = f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:PrivacyFunction"
    event = receipt_event(
        raw,
        message_id=message_id,
        received_at=datetime.now(UTC),
        recipient=settings.mail_from,
        function_arn=arn,
        spam=spam,
        virus=virus,
        source=source,
        **(authentication or {}),
    )
    # The function's log lines and metrics go to stderr, so stdout stays the command's answer.
    handler = app.logger.registered_handler
    previous = handler.setStream(sys.stderr) if isinstance(handler, logging.StreamHandler) else None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result: dict[str, Any] = app.lambda_handler(
                event, cast("LambdaContext", _Context(invoked_function_arn=arn))
            )
    finally:
        if previous is not None and isinstance(handler, logging.StreamHandler):
            handler.setStream(previous)
    return {"ses_message_id": message_id, **result}

"""The MIME messages we send: plain UTF-8 text, threaded to the requester's message."""

from __future__ import annotations

from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from ceip.privacy.templates import Rendered

DISPLAY_NAME = "CEIP Privacy"
# Headers unfolded up to RFC 5322's hard limit: the standard library folds a subject that begins with
# a long reference as a whole onto a continuation line, which readers then show with a leading blank.
_POLICY = policy.SMTP.clone(max_line_length=998)


def compose(
    rendered: Rendered,
    *,
    ref: str,
    mail_from: str,
    to: str,
    at: datetime,
    in_reply_to: str | None = None,
    automatic: bool = False,
) -> bytes:
    message = EmailMessage(policy=_POLICY)
    message["From"] = formataddr((DISPLAY_NAME, mail_from))
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(at)
    message["X-CEIP-Ticket"] = ref
    if in_reply_to:
        message["In-Reply-To"] = f"<{in_reply_to}>"
        message["References"] = f"<{in_reply_to}>"
    if automatic:
        # RFC 3834: responders must not answer this, which stops loops between auto-responders.
        message["Auto-Submitted"] = "auto-replied"
    message.set_content(rendered.body)
    message["Content-Language"] = rendered.language  # after set_content, which resets Content-* headers
    return message.as_bytes()

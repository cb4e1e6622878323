"""Key layout of the privacy inbox bucket. Pure functions.

SES's receipt rule stores each message under its S3 action's ObjectKeyPrefix followed by the SES
messageId; letters recorded by hand are stored beside them with a `postal-` name.
"""

from __future__ import annotations

import re

INBOX_PREFIX = "inbox/"
_SES_MESSAGE_ID = re.compile(r"[A-Za-z0-9._-]{1,200}")


def inbound_key(ses_message_id: str) -> str:
    """Where the receipt rule's S3 action put the raw message with this SES messageId."""
    if not _SES_MESSAGE_ID.fullmatch(ses_message_id):
        raise ValueError("not an SES messageId")
    return f"{INBOX_PREFIX}{ses_message_id}"


def postal_key(letter_id: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{32}", letter_id):
        raise ValueError("letter_id must be 32 lower-case hex digits")
    return f"{INBOX_PREFIX}postal-{letter_id}"


def sent_key(message_id: str) -> str:
    """Where a copy of a message the team sent (reply, extension notice) is kept beside the thread."""
    if not re.fullmatch(r"[0-9a-f]{32}", message_id):
        raise ValueError("message_id must be 32 lower-case hex digits")
    return f"{INBOX_PREFIX}sent-{message_id}"

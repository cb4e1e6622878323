"""Ticket references (CEIP-7F3K) and the keys under which message ids are looked up. Pure."""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "CEIP-"
# Crockford's base32: no I, L, O or U, so a reference read aloud or retyped is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 4
_IN_TEXT = re.compile(r"\[\s*CEIP-([0-9A-HJKMNP-TV-Z]{4})\s*\]", re.IGNORECASE)
_BARE = re.compile(r"^CEIP-[0-9A-HJKMNP-TV-Z]{4}$")


def new_ref() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(ref: str) -> str:
    """`ceip-7f3k` or `7F3K` -> CEIP-7F3K; ValueError when it is not a reference."""
    text = ref.strip().upper()
    if not text.startswith(PREFIX):
        text = PREFIX + text
    if not _BARE.fullmatch(text):
        raise ValueError(f"not a ticket reference: {ref!r} (expected CEIP-XXXX)")
    return text


def refs_in_subject(subject: str) -> tuple[str, ...]:
    """References written as [CEIP-XXXX] in a subject, in order."""
    return tuple(dict.fromkeys(PREFIX + m.upper() for m in _IN_TEXT.findall(subject)))


def subject_tag(ref: str) -> str:
    return f"[{ref}]"


def message_id_key(message_id: str) -> str:
    """A stable lookup key for a Message-ID (they can be long and hold host names: keep a digest)."""
    return hashlib.sha256(message_id.strip().strip("<>").encode("utf-8", "replace")).hexdigest()[:40]


def ses_local_id(message_id: str) -> str | None:
    """The SES message id inside a Message-ID SES assigned to a message we sent, e.g.
    <0100018c...-000000@email.amazonses.com>; replies quote it in In-Reply-To and References."""
    local, _, domain = message_id.strip().strip("<>").partition("@")
    return local if domain.lower().endswith("amazonses.com") and local else None

"""Ticket references and the keys under which message ids are looked up. Pure.

New references are `CEIP-` and three groups of five symbols of Crockford's base32 (no I, L, O or U,
so one read aloud or retyped is unambiguous): fourteen random symbols (70 bits from `secrets`) and a
check symbol (Luhn mod 32) that catches any single mistyped symbol and most swapped neighbours, e.g.
CEIP-7F3K9-QX2M4-TBC8Z. Guessing a live one is hopeless: with a million tickets, one guess in about
10^15 hits any of them. References of the first format (`CEIP-7F3K`, 20 bits) stay valid everywhere
a reference is read; none is made any more.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "CEIP-"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 14
GROUP = 5
RANDOM_BITS = RANDOM_SYMBOLS * 5
LEGACY_LENGTH = 4
_SYMBOL = "[0-9A-HJKMNP-TV-Z]"
_NEW = rf"{_SYMBOL}{{5}}-{_SYMBOL}{{5}}-{_SYMBOL}{{5}}"
_LEGACY = rf"{_SYMBOL}{{4}}"
_IN_TEXT = re.compile(rf"\[\s*CEIP-({_NEW}|{_LEGACY})\s*\]", re.IGNORECASE)
_BARE = re.compile(rf"^CEIP-(?:{_NEW}|{_LEGACY})$")


def check_symbol(symbols: str) -> str:
    """Luhn mod 32 over Crockford symbols."""
    total, factor = 0, 2
    for symbol in reversed(symbols):
        addend = factor * ALPHABET.index(symbol)
        total += addend // 32 + addend % 32
        factor = 1 if factor == 2 else 2
    return ALPHABET[(32 - total % 32) % 32]


def _grouped(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP))


def new_ref() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return PREFIX + _grouped(body + check_symbol(body))


def is_valid(ref: str) -> bool:
    """A well-formed reference of either format whose check symbol (new format) is right."""
    if not _BARE.fullmatch(ref):
        return False
    symbols = ref[len(PREFIX) :].replace("-", "")
    return len(symbols) == LEGACY_LENGTH or check_symbol(symbols[:-1]) == symbols[-1]


def normalize(ref: str) -> str:
    """`ceip-7f3k`, `7F3K` or `7f3k9qx2m4tbc8z` -> the canonical reference; ValueError otherwise."""
    text = ref.strip().upper()
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    symbols = text.replace("-", "")
    if len(symbols) == RANDOM_SYMBOLS + 1:
        text = _grouped(symbols)
    text = PREFIX + text
    if not is_valid(text):
        raise ValueError(f"not a ticket reference: {ref!r} (expected CEIP-XXXXX-XXXXX-XXXXX or CEIP-XXXX)")
    return text


def refs_in_subject(subject: str) -> tuple[str, ...]:
    """Valid references written as [CEIP-...] in a subject, in order."""
    found = (PREFIX + m.upper() for m in _IN_TEXT.findall(subject))
    return tuple(dict.fromkeys(r for r in found if is_valid(r)))


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

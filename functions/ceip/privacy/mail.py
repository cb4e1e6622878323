"""Parse a raw inbound message (RFC 5322 / MIME) into what triage needs. Never raises.

Real mail is often broken: unknown charsets, multiparts without a boundary, message/rfc822 or
multipart/digest at the top (get_body() returns None), undecodable headers, 8-bit junk. Every such
problem is noted as a defect and parsing carries on with what can be read; the raw message itself is
kept in the inbox bucket either way.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from ceip.privacy.html_text import html_to_text
from ceip.privacy.mime_limits import Limits, exceeded

MAX_TEXT_CHARS = 200_000
MAX_HTML_CHARS = 4 * MAX_TEXT_CHARS
"""HTML read for its text: markup makes up most of it, so more than the text limit, still bounded."""
MAX_IDS = 30
MAX_DEFECTS = 20
MAX_HEADER_BYTES = 256 * 1024
"""A message past a limit is read for its headers only, and only this much of them."""
_ID = re.compile(r"<([^<>\s]{1,500})>")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FALLBACK_CHARSETS = ("utf-8", "cp1252")
# Deliberately loose (internationalised addresses included): SES decides whether it can deliver.
_ADDRESS = re.compile(r"[^@\s<>\"(),;:\[\]]+@[^@\s<>\"(),;:\[\]]+\.[^@\s<>\"(),;:\[\].]{2,}")


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject: str = ""
    sender: str | None = None
    """The From address (lower case), when it is a plausible address."""
    from_addresses: int = 0
    """Addresses in all From headers together: authentication needs exactly one."""
    headers: dict[str, str] = field(default_factory=dict)
    """Unfolded raw values of the headers that drive loop detection, by lower-case name."""
    content_type: str = "text/plain"
    text: str = ""
    html_only: bool = False
    attachments: int = 0
    defects: tuple[str, ...] = ()


_KEPT_HEADERS = frozenset(
    {
        "auto-submitted",
        "precedence",
        "return-path",
        "sender",
        "x-autoreply",
        "x-autorespond",
        "x-auto-response-suppress",
        "x-mailman-version",
        "x-beenthere",
        "x-loop",
        "mailing-list",
        "x-mailing-list",
        "content-language",
    }
)
"""Besides these, every `List-*` header (RFC 2369, 2919, 8058) is kept: any of them marks list mail."""


def clean(text: str) -> str:
    """Text safe to store and print: raw 8-bit header bytes read as UTF-8 where they are, no lone
    surrogates, no control characters."""
    # Surrogates that are not escaped bytes cannot be re-encoded: they are replaced below.
    with contextlib.suppress(UnicodeEncodeError):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _SURROGATES.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ids in a Message-ID, In-Reply-To or References value, without angle brackets."""
    if not value:
        return ()
    if "=?" in value:
        # Some mailers (Python's email package among them) fold long ids into encoded words.
        with contextlib.suppress(Exception):
            value = str(make_header(decode_header(value)))
    found = _ID.findall(value)
    if not found:
        bare = value.strip().split()
        found = bare[:1] if bare and "@" in bare[0] and len(bare[0]) <= 500 else []
    return tuple(dict.fromkeys(clean(i) for i in found))[:MAX_IDS]


def parse(raw: bytes, limits: Limits | None = None) -> ParsedMail:
    """The message read in full, or, past a limit (size, MIME parts, nesting), its headers only with
    the limit's defect code: a crafted message must not take the function's time."""
    over = exceeded(raw, limits or Limits())
    if over:
        return _headers_only(raw, over)
    defects: list[str] = []
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:  # the parser is lenient; this is a last resort
        return ParsedMail(
            text=clean(raw[:MAX_TEXT_CHARS].decode("utf-8", "replace")), defects=(type(error).__name__,)
        )
    assert isinstance(message, EmailMessage)
    raw_headers = _raw_headers(message)
    notes: list[str] = []
    text, html_only, attachments = _body(message, notes)
    # After decoding the body: the parser records some defects (bad base64...) only while decoding.
    for part in message.walk():
        defects.extend(type(d).__name__ for d in part.defects)
    defects.extend(notes)
    references = message_ids(raw_headers.get("references"))
    return ParsedMail(
        message_id=next(iter(message_ids(raw_headers.get("message-id"))), None),
        in_reply_to=message_ids(raw_headers.get("in-reply-to")),
        references=references[-MAX_IDS:],
        subject=_subject(message, raw_headers, defects),
        sender=_sender(message, raw_headers, defects),
        from_addresses=_from_addresses(message),
        headers=_kept(raw_headers),
        content_type=_safe(message.get_content_type, "text/plain", "ContentTypeUnreadable", defects),
        text=text,
        html_only=html_only,
        attachments=attachments,
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
    )


def _headers_only(raw: bytes, over: tuple[str, ...]) -> ParsedMail:
    """What a message past a limit still tells: its header block (bounded), no body."""
    head = raw[:MAX_HEADER_BYTES]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    head = head[: min(ends)] + b"\n\n" if ends else head
    defects = list(over)
    try:
        message = BytesParser(policy=policy.default).parsebytes(head, headersonly=True)
    except Exception as error:
        return ParsedMail(defects=(*over, type(error).__name__))
    assert isinstance(message, EmailMessage)
    raw_headers = _raw_headers(message)
    return ParsedMail(
        message_id=next(iter(message_ids(raw_headers.get("message-id"))), None),
        in_reply_to=message_ids(raw_headers.get("in-reply-to")),
        references=message_ids(raw_headers.get("references"))[-MAX_IDS:],
        subject=_subject(message, raw_headers, defects),
        sender=_sender(message, raw_headers, defects),
        from_addresses=_from_addresses(message),
        headers=_kept(raw_headers),
        content_type=_safe(message.get_content_type, "text/plain", "ContentTypeUnreadable", defects),
        defects=tuple(dict.fromkeys(defects))[:MAX_DEFECTS],
    )


def _kept(raw_headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in raw_headers.items() if k in _KEPT_HEADERS or k.startswith("list-")}


def _from_addresses(message: EmailMessage) -> int:
    """How many addresses all From headers name (a header that cannot be parsed counts as two, so
    that it is never taken for one authenticated sender)."""
    try:
        headers = message.get_all("from") or []
        if len(headers) != 1:
            return len(headers)
        return len(getattr(headers[0], "addresses", ())) or 2
    except Exception:
        return 2


def _safe(call: object, default: str, defect: str, defects: list[str]) -> str:
    try:
        value = call()  # type: ignore[operator]
    except Exception:
        defects.append(defect)
        return default
    return str(value)


def _raw_headers(message: Message) -> dict[str, str]:
    """First value of each header, unfolded, straight from the source (no header parsing involved)."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.strip().lower()
        if key not in found:
            found[key] = clean(re.sub(r"\r?\n[ \t]+", " ", str(value))).strip()
    return found


def _subject(message: EmailMessage, raw: dict[str, str], defects: list[str]) -> str:
    try:
        header = message["subject"]
        return clean(str(header)).strip() if header is not None else ""
    except Exception:
        defects.append("SubjectUnreadable")
    try:
        return clean(str(make_header(decode_header(raw.get("subject", ""))))).strip()
    except Exception:
        return raw.get("subject", "")


def _sender(message: EmailMessage, raw: dict[str, str], defects: list[str]) -> str | None:
    try:
        header = message["from"]
        addresses = [a.addr_spec for a in getattr(header, "addresses", ())] if header is not None else []
    except Exception:
        defects.append("FromUnreadable")
        addresses = [address for _, address in getaddresses([raw.get("from", "")])]
    if not addresses:
        addresses = [parseaddr(raw.get("from", ""))[1]]
    for found in addresses:
        address = clean(found).strip().lower()
        if _ADDRESS.fullmatch(address):
            return address
    return None


def _decode(part: Message, defects: list[str]) -> str:
    if part.get_content_maintype() == "multipart":  # a multipart without a usable boundary: raw text
        return _decode_bytes(part, [])
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except LookupError:
        defects.append(f"UnknownCharset:{str(part.get_content_charset())[:40]}")
    except Exception as error:
        defects.append(f"ContentUndecodable:{type(error).__name__}")
    return _decode_bytes(part, defects)


def _decode_bytes(part: Message, defects: list[str]) -> str:
    """The part's bytes in its declared charset, else UTF-8, else Windows-1252, else Latin-1."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
    charsets = [part.get_content_charset() or "", *_FALLBACK_CHARSETS]
    for charset in charsets:
        try:
            codecs.lookup(charset)
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return payload.decode("latin-1")


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def _body(message: EmailMessage, defects: list[str]) -> tuple[str, bool, int]:
    """(text, whether it came from HTML only, number of attachments)."""
    parts: list[Message] = list(message.walk())
    attachments = sum(1 for p in parts if _is_attachment(p))
    try:
        chosen = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        defects.append("BodyUnreadable")
        chosen = None
    bodies: list[Message]
    if chosen is not None:
        bodies = [chosen]
    else:
        # message/rfc822 or multipart/digest tops, broken multiparts: read every inline text part.
        defects.append("NoBodyPart")
        inline: list[Message] = [p for p in parts if not p.is_multipart() and not _is_attachment(p)]
        plain: list[Message] = [p for p in inline if p.get_content_maintype() in ("text", "multipart")]
        bodies = [p for p in plain if p.get_content_subtype() != "html"] or plain
    texts: list[str] = []
    html_only = bool(bodies) and all(p.get_content_type() == "text/html" for p in bodies)
    for part in bodies:
        is_html = part.get_content_type() == "text/html"
        # Only the first MAX_TEXT_CHARS are kept: cut before cleaning and converting, whose time grows
        # with the input (10 MB of HTML took 6 s to convert, the cut part 0.1 s).
        content = clean(_decode(part, defects)[: MAX_HTML_CHARS if is_html else MAX_TEXT_CHARS])
        texts.append(html_to_text(content) if is_html else content)
    text = "\n\n".join(t.strip() for t in texts if t.strip())
    return text[:MAX_TEXT_CHARS], html_only, attachments

"""Is a message machine-generated (auto-reply, bounce, list mail, our own)? Then it never gets an
acknowledgement, so two auto-responders can never answer each other for ever and a list never hears
from us (RFC 3834 section 2, and the list headers of RFC 2369 and 2919). Pure.

The reasons are stable codes, shown on the ticket (`automatic`) and in docs/privacy-inbox.md.
"""

from __future__ import annotations

from email.utils import parseaddr

from ceip.privacy.mail import ParsedMail

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply", "auto-reply"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "noreply", "no-reply", "donotreply"})
# List software's own addresses (RFC 3834 section 2: "owner-*", "*-request"; Mailman's "-bounces").
_LIST_ROBOTS = frozenset({"listserv", "majordomo", "mailman", "sympa", "lyris", "ezmlm"})
_LIST_PREFIXES = ("owner-",)
_LIST_SUFFIXES = ("-request", "-owner", "-bounces", "-bounce", "-admin", "-confirm", "-join", "-leave")
_LIST_MARKERS = ("x-mailman-version", "x-beenthere", "mailing-list", "x-mailing-list")
_SUPPRESSED = frozenset({"all", "autoreply", "oof"})

MAILING_LIST = "mailing-list"
LIST_ADDRESS = "list-address"
LIST_MAIL = frozenset({MAILING_LIST, LIST_ADDRESS})
"""Reasons that mark mail sent by or through a list: its text (footers about unsubscribing, other
people's messages in a digest) says nothing about what the sender asks of us, so it is not triaged."""


def _local_part(address: str) -> str:
    """The local part of a bare address or of a header value with a display name."""
    bare = parseaddr(address)[1] or address
    return bare.strip().strip("<> ").rsplit("@", 1)[0].lower()


def _is_list_address(local: str) -> bool:
    return (
        local in _LIST_ROBOTS
        or local.startswith(_LIST_PREFIXES)
        or local.endswith(_LIST_SUFFIXES)
        or "-bounces+" in local  # Mailman's VERP form: list-bounces+member=host@
    )


def automatic_reason(mail: ParsedMail, *, envelope_source: str | None, own_address: str) -> str | None:
    """Why this message must not be answered automatically, or None when it may be."""
    headers = mail.headers
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence == "list":
        return MAILING_LIST
    if precedence in _BULK_PRECEDENCE:
        return "precedence"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply"
    suppress = {v.strip().lower() for v in headers.get("x-auto-response-suppress", "").split(",")}
    if suppress & _SUPPRESSED:
        return "auto-response-suppressed"
    if any(name.startswith("list-") for name in headers) or any(m in headers for m in _LIST_MARKERS):
        return MAILING_LIST
    return_path = headers.get("return-path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "bounce"
    source = (envelope_source or "").strip().lower()
    if envelope_source is not None and source in ("", "<>"):
        return "bounce"
    addresses = (source, (return_path or "").lower(), mail.sender or "", headers.get("sender", ""))
    locals_ = [_local_part(a) for a in addresses if a.strip()]
    if any(local in _DAEMONS for local in locals_):
        return "bounce"
    if any(_is_list_address(local) for local in locals_):
        return LIST_ADDRESS
    if mail.content_type == "multipart/report":
        return "bounce"
    own = own_address.lower()
    if (mail.sender and mail.sender == own) or own in headers.get("x-loop", "").lower():
        return "loop"
    return None

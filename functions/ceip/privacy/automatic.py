"""Is a message machine-generated (auto-reply, bounce, list mail, our own)? Then it never gets an
acknowledgement, so two auto-responders can never answer each other for ever (RFC 3834). Pure.
"""

from __future__ import annotations

from ceip.privacy.mail import ParsedMail

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "noreply", "no-reply", "donotreply"})


def automatic_reason(mail: ParsedMail, *, envelope_source: str | None, own_address: str) -> str | None:
    """Why this message must not be answered automatically, or None when it may be."""
    headers = mail.headers
    auto_submitted = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto-submitted"
    if headers.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return "precedence"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "auto-reply"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "mailing-list"
    return_path = headers.get("return-path")
    if return_path is not None and return_path.strip() in ("", "<>"):
        return "bounce"
    source = (envelope_source or "").strip().lower()
    if envelope_source is not None and source in ("", "<>"):
        return "bounce"
    for address in (source, (return_path or "").lower(), mail.sender or ""):
        local = address.strip("<> ").split("@", 1)[0]
        if local in _DAEMONS:
            return "bounce"
    if mail.content_type == "multipart/report":
        return "bounce"
    if mail.sender and mail.sender == own_address.lower():
        return "loop"
    return None

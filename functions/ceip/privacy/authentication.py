"""Is the From address of a received message authenticated? Only then may anything we send
automatically go to it, or may the message act on a ticket of that address. Pure.

What SES gives: a verdict each for SPF, DKIM and DMARC, not which domain each check concerned. So:
- DMARC `PASS`: SES evaluated the policy of the From domain and found an aligned SPF or DKIM pass.
  Authenticated.
- DMARC `GRAY` (the From domain publishes no DMARC policy): SPF `PASS` and DKIM `PASS`, and the SPF
  result aligned with From, checked here: SPF's verdict is about the envelope MAIL FROM (the event's
  `mail.source`), so its domain must be the From domain or a parent or child of it (relaxed alignment
  without a public-suffix list: sibling subdomains are refused, which only costs a person's review).
  DKIM alignment cannot be checked: SES does not say which signature passed, and a DKIM-Signature
  header naming the From domain proves nothing beside another, valid, signature. The DKIM pass is
  required as a second sign of a real sender; the SPF alignment binds the message to the From domain.
- Anything else (`FAIL`, `PROCESSING_FAILED`, a missing verdict, no or several From addresses, an
  empty envelope sender): not authenticated.
"""

from __future__ import annotations

from dataclasses import dataclass

PASS, GRAY = "PASS", "GRAY"


@dataclass(frozen=True)
class Verdicts:
    """SES's receipt verdicts, upper case (a missing one is `PROCESSING_FAILED`, as in ses_event)."""

    spf: str = "PROCESSING_FAILED"
    dkim: str = "PROCESSING_FAILED"
    dmarc: str = "PROCESSING_FAILED"

    def summary(self) -> str:
        return f"dmarc={self.dmarc} spf={self.spf} dkim={self.dkim}"


@dataclass(frozen=True)
class Authentication:
    authenticated: bool
    basis: str
    """`dmarc`, `spf+dkim`, or why not (e.g. `dmarc-fail`, `spf-not-aligned`): shown on the ticket."""


def _domain(address: str | None) -> str | None:
    if not address or "@" not in address:
        return None
    domain = address.strip().strip("<>").rsplit("@", 1)[1].strip().rstrip(".").lower()
    return domain or None


def aligned(envelope_domain: str, from_domain: str) -> bool:
    """Relaxed alignment approximated without the public-suffix list: equal, or one a subdomain of
    the other."""
    return (
        envelope_domain == from_domain
        or envelope_domain.endswith("." + from_domain)
        or from_domain.endswith("." + envelope_domain)
    )


def authenticate(
    verdicts: Verdicts, *, sender: str | None, from_addresses: int, envelope_source: str | None
) -> Authentication:
    """Whether the From address `sender` is authenticated by SES's verdicts (see the module docstring)."""
    if sender is None or from_addresses != 1:
        return Authentication(False, "no-single-from")
    dmarc, spf, dkim = verdicts.dmarc.upper(), verdicts.spf.upper(), verdicts.dkim.upper()
    if dmarc == PASS:
        return Authentication(True, "dmarc")
    if dmarc != GRAY:
        return Authentication(False, f"dmarc-{dmarc.lower()}")
    if spf != PASS or dkim != PASS:
        return Authentication(False, f"no-dmarc-spf-{spf.lower()}-dkim-{dkim.lower()}")
    envelope, from_domain = _domain(envelope_source), _domain(sender)
    if envelope is None or from_domain is None or not aligned(envelope, from_domain):
        return Authentication(False, "spf-not-aligned")
    return Authentication(True, "spf+dkim")

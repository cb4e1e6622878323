"""The pure rules that keep forged and machine mail from acting: authentication from SES's verdicts,
RFC 3834 list and robot senders, references, parsing limits, the daily caps' twin."""

from __future__ import annotations

import time
from datetime import date

import pytest
from benchmarks.workloads import mime_messages

from ceip.privacy import references
from ceip.privacy.allowance import SENDER_CAP, TOTAL_CAP, Caps, MemoryAllowance, sender_digest
from ceip.privacy.authentication import Verdicts, aligned, authenticate
from ceip.privacy.automatic import automatic_reason
from ceip.privacy.mail import parse
from ceip.privacy.mime_limits import TOO_DEEP, TOO_LARGE, TOO_MANY_PARTS, Limits, exceeded, scan
from tests.support.privacy import MAIL, mail

OWN = "privacy@example.com"
DAY = date(2026, 11, 16)


# ---------------------------------------------------------------- authentication
@pytest.mark.parametrize(
    ("dmarc", "spf", "dkim", "source", "expected"),
    [
        ("PASS", "FAIL", "FAIL", "x@elsewhere.example", (True, "dmarc")),
        ("FAIL", "PASS", "PASS", "jane@example.net", (False, "dmarc-fail")),
        ("GRAY", "PASS", "PASS", "jane@example.net", (True, "spf+dkim")),
        ("GRAY", "PASS", "PASS", "b@bounce.example.net", (True, "spf+dkim")),
        ("GRAY", "PASS", "PASS", "b@sub.example.org", (False, "spf-not-aligned")),
        ("GRAY", "PASS", "GRAY", "jane@example.net", (False, "no-dmarc-spf-pass-dkim-gray")),
        ("GRAY", "PASS", "PASS", "", (False, "spf-not-aligned")),
        ("PROCESSING_FAILED", "PASS", "PASS", "jane@example.net", (False, "dmarc-processing_failed")),
    ],
)
def test_authentication_rules(
    dmarc: str, spf: str, dkim: str, source: str, expected: tuple[bool, str]
) -> None:
    found = authenticate(
        Verdicts(spf=spf, dkim=dkim, dmarc=dmarc),
        sender="jane@example.net",
        from_addresses=1,
        envelope_source=source,
    )
    assert (found.authenticated, found.basis) == expected


def test_no_or_several_from_addresses_are_never_authenticated() -> None:
    verdicts = Verdicts(spf="PASS", dkim="PASS", dmarc="PASS")
    for sender, count in ((None, 0), ("jane@example.net", 2), ("jane@example.net", 0)):
        assert not authenticate(
            verdicts, sender=sender, from_addresses=count, envelope_source=None
        ).authenticated


def test_alignment_is_parent_or_child_never_sibling() -> None:
    assert aligned("mail.example.net", "example.net") and aligned("example.net", "eu.example.net")
    assert not aligned("a.example.net", "b.example.net")
    assert not aligned("badexample.net", "example.net")


def test_the_parser_counts_every_from_address() -> None:
    assert parse(mail(sender="a@example.net")).from_addresses == 1
    assert parse(mail(sender="a@example.net, b@example.org")).from_addresses == 2
    two_headers = b"From: a@example.net\r\nFrom: b@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse(two_headers).from_addresses == 2


# ---------------------------------------------------------------- RFC 3834: list and robot mail
@pytest.mark.parametrize(
    ("sender", "extra", "reason"),
    [
        ("announce-request@lists.example.org", {}, "list-address"),
        ("owner-announce@lists.example.org", {}, "list-address"),
        ("announce-bounces@lists.example.org", {}, "list-address"),
        ("announce-bounces+jane=example.net@lists.example.org", {}, "list-address"),
        ("listserv@lists.example.org", {}, "list-address"),
        ("jane@example.net", {"Sender": '"Announce" <owner-announce@lists.example.org>'}, "list-address"),
        (
            "jane@example.net",
            {"Sender": "other@example.net", "List-Post": "<mailto:l@x.example>"},
            "mailing-list",
        ),
        ("jane@example.net", {"List-Help": "<mailto:l-request@x.example>"}, "mailing-list"),
        ("jane@example.net", {"X-Mailman-Version": "2.1.39"}, "mailing-list"),
        ("jane@example.net", {"Precedence": "list"}, "mailing-list"),
        ("jane@example.net", {"X-Auto-Response-Suppress": "OOF, AutoReply"}, "auto-response-suppressed"),
        ("jane@example.net", {"X-Loop": OWN}, "loop"),
        ("jane@example.net", {"Sender": "assistant@example.net"}, None),
        ("requests@example.net", {}, None),
    ],
)
def test_list_and_robot_senders(sender: str, extra: dict[str, str], reason: str | None) -> None:
    parsed = parse(mail(sender=sender, extra=extra))
    assert automatic_reason(parsed, envelope_source=sender, own_address=OWN) == reason


def test_the_mailman_digest_is_list_mail() -> None:
    parsed = parse((MAIL / "mailman-digest.eml").read_bytes())
    source = "privacy-talk-bounces@lists.example.org"
    assert automatic_reason(parsed, envelope_source=source, own_address=OWN) == "mailing-list"


# ---------------------------------------------------------------- references
def test_new_references_have_seventy_random_bits_and_a_valid_check_symbol() -> None:
    assert references.RANDOM_BITS >= 60
    refs = {references.new_ref() for _ in range(2000)}
    assert len(refs) == 2000
    for ref in refs:
        assert len(ref) == len("CEIP-XXXXX-XXXXX-XXXXX")
        assert references.is_valid(ref) and references.normalize(ref[5:].lower().replace("-", "")) == ref


def test_the_check_symbol_catches_every_single_substitution() -> None:
    ref = references.new_ref()
    positions = [i for i, c in enumerate(ref) if i >= len("CEIP-") and c != "-"]
    for i in positions:
        for symbol in references.ALPHABET.replace(ref[i], ""):
            assert not references.is_valid(ref[:i] + symbol + ref[i + 1 :]), (ref, i, symbol)


def test_check_symbol_by_hand() -> None:
    # Luhn mod 32 of "1": the doubled 1 is 2, and 32 - 2 = 30, which is Y in Crockford's alphabet
    assert references.check_symbol("1") == "Y"
    assert references.check_symbol("0") == "0"


def test_short_references_of_the_first_format_keep_working() -> None:
    assert references.normalize("7f3k") == "CEIP-7F3K"
    assert references.normalize("ceip-7f3k") == "CEIP-7F3K"
    assert references.refs_in_subject("Re: [ceip-7f3k] and [CEIP-0000] [CEIP-ABC]") == (
        "CEIP-7F3K",
        "CEIP-0000",
    )


def test_references_in_subjects_of_both_formats_and_only_valid_ones() -> None:
    ref = references.new_ref()
    broken = ref[:-1] + ("0" if ref[-1] != "0" else "1")
    subject = f"Re: [{ref.lower()}] [{broken}] [CEIP-7F3K]"
    assert references.refs_in_subject(subject) == (ref, "CEIP-7F3K")
    with pytest.raises(ValueError, match="not a ticket reference"):
        references.normalize(broken)


# ---------------------------------------------------------------- parsing limits
HEAD = b"From: a@example.net\r\nSubject: s\r\nMIME-Version: 1.0\r\n"


def multipart(parts: int) -> bytes:
    return mime_messages.multipart(parts, head=HEAD)


def nested(depth: int) -> bytes:
    return mime_messages.nested(depth, head=HEAD, body=b"innermost\r\n")


def test_the_scan_counts_parts_and_depth_as_a_hand_count() -> None:
    # 3 parts; 4 nested multiparts (each holds one part)
    assert (scan(multipart(3), Limits()).parts, scan(multipart(3), Limits()).depth) == (3, 1)
    assert (scan(nested(4), Limits()).parts, scan(nested(4), Limits()).depth) == (4, 4)
    # a line of dashes in a text body is no delimiter
    assert scan(b"From: a@b.example\r\n\r\n------\r\n--not a part\r\n", Limits()).parts == 0


def test_each_limit_has_its_stable_defect() -> None:
    limits = Limits(max_bytes=100_000, max_parts=10, max_depth=3)
    assert exceeded(multipart(10), limits) == ()
    assert exceeded(multipart(11), limits) == (TOO_MANY_PARTS,)
    assert exceeded(nested(3), limits) == ()
    assert exceeded(nested(4), limits) == (TOO_DEEP,)
    assert exceeded(multipart(1) + b"x" * 100_000, limits) == (TOO_LARGE,)


def test_an_rfc2231_boundary_cannot_hide_parts_from_the_scan() -> None:
    raw = multipart(20).replace(b'boundary="b"', b"boundary*=''b")
    assert exceeded(raw, Limits(max_parts=10)) == (TOO_MANY_PARTS,)


def test_past_a_limit_the_headers_are_still_read_quickly() -> None:
    raw = multipart(50_000).replace(b"Subject: s", b"Subject: Please delete my data")
    started = time.perf_counter()
    parsed = parse(raw)
    assert time.perf_counter() - started < 1
    assert (parsed.sender, parsed.subject, parsed.text) == ("a@example.net", "Please delete my data", "")
    assert parsed.defects == (TOO_MANY_PARTS,)


def test_within_the_limits_the_message_is_parsed_in_full() -> None:
    parsed = parse(multipart(5))
    assert parsed.defects == () and parsed.text == "x"


# ---------------------------------------------------------------- daily caps (the in-memory twin)
def test_caps_per_sender_and_in_total() -> None:
    allowance = MemoryAllowance()
    caps = Caps(per_sender=2, total=3)
    assert [allowance.take("a@example.net", DAY, caps) for _ in range(3)] == [None, None, SENDER_CAP]
    assert allowance.take("B@example.net", DAY, caps) is None
    assert allowance.take("c@example.net", DAY, caps) == TOTAL_CAP
    # a new day starts again
    assert allowance.take("a@example.net", date(2026, 11, 17), caps) is None
    assert MemoryAllowance().take("a@example.net", DAY, Caps(per_sender=0, total=5)) == SENDER_CAP


def test_the_sender_digest_links_one_day_only() -> None:
    assert sender_digest("Jane@Example.net", DAY) == sender_digest("jane@example.net", DAY)
    assert sender_digest("jane@example.net", DAY) != sender_digest("jane@example.net", date(2026, 11, 17))
    assert "jane" not in sender_digest("jane@example.net", DAY)

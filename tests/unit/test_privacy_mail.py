"""Parsing real and broken MIME: never an exception, defects noted, text found; loop detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from ceip.privacy.automatic import automatic_reason
from ceip.privacy.html_text import html_to_text
from ceip.privacy.mail import clean, message_ids, parse
from tests.support.privacy import corpus, mail

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
OWN = "privacy@example.com"


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_every_corpus_message_parses_to_storable_text(path: Path) -> None:
    # When any message of the corpus is parsed
    parsed = parse(path.read_bytes())
    # Then nothing raises and every string can be stored as UTF-8 (no surrogates, no NULs)
    for text in (parsed.subject, parsed.text, parsed.sender or "", *parsed.defects, *parsed.headers.values()):
        text.encode("utf-8")
        assert "\x00" not in text


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_plain_quoted_printable_inquiry() -> None:
    parsed = parse(read("inquiry-de-access.eml"))
    assert parsed.subject == "Auskunftsersuchen nach Art. 15 DSGVO"
    assert parsed.sender == "max.mustermann@example.de"
    assert parsed.message_id is not None and parsed.message_id.endswith("@mail.example.net")
    assert "Kopie meiner Daten" in parsed.text
    assert (parsed.html_only, parsed.defects) == (False, ())


def test_html_only_mail_becomes_text_without_markup_scripts_or_styles() -> None:
    parsed = parse(read("html-only-newsletter-style.eml"))
    assert parsed.html_only
    assert "Bitte löschen Sie meine Daten." in parsed.text
    assert "Danke & Grüße" in parsed.text
    for markup in ("<", "color:red", "a comment"):
        assert markup not in parsed.text


def test_multipart_with_attachments_reads_the_plain_body_and_counts_attachments() -> None:
    parsed = parse(read("multipart-attachments.eml"))
    assert parsed.attachments == 2
    assert "C0FFEE00-1234-4ABC-8DEF-0123456789AB" in parsed.text
    assert "JVBER" not in parsed.text and "iVBOR" not in parsed.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("charset-iso-8859-1.eml", "Grüße aus Köln"),
        (
            "charset-windows-1252.eml",
            "je m\u2019oppose à la collecte « anonyme » \u2013 veuillez supprimer mes données… Coût : 0 €",
        ),
        ("charset-shift-jis.eml", "個人データの削除をお願いします"),
    ],
)
def test_non_utf8_charsets_are_decoded(name: str, expected: str) -> None:
    assert expected in parse(read(name)).text


def test_encoded_word_subjects_are_decoded() -> None:
    assert parse(read("charset-windows-1252.eml")).subject == "Opposition \u2013 données"
    assert parse(read("charset-shift-jis.eml")).subject == "データ削除"


def test_unknown_charset_is_a_defect_and_the_text_is_still_read() -> None:
    parsed = parse(read("charset-unknown.eml"))
    assert "UnknownCharset:x-klingon-8bit" in parsed.defects
    assert "Please delete my data. Café" in parsed.text


def test_missing_boundary_is_a_defect_and_the_raw_text_is_kept() -> None:
    parsed = parse(read("missing-boundary.eml"))
    assert "NoBoundaryInMultipartDefect" in parsed.defects
    assert "Please delete my data" in parsed.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [("rfc822-top.eml", "I object to the collection"), ("digest-top.eml", "Why is the machine GUID random?")],
)
def test_message_rfc822_and_digest_tops_without_a_body_part_are_read(name: str, expected: str) -> None:
    parsed = parse(read(name))
    assert "NoBodyPart" in parsed.defects
    assert expected in parsed.text


def test_broken_headers_do_not_stop_parsing() -> None:
    parsed = parse(read("broken-headers.eml"))
    assert parsed.sender is None
    assert parsed.message_id is None
    assert parsed.references == ("ok-ref@example.com",)
    assert "Please delete my data." in parsed.text


def test_eight_bit_junk_is_replaced_not_fatal() -> None:
    parsed = parse(read("8bit-junk.eml"))
    assert parsed.sender == "junk@example.com"
    assert "please erase my data" in parsed.text
    assert "\ufffd" in parsed.text


def test_bad_base64_is_a_defect() -> None:
    assert "InvalidBase64CharactersDefect" in parse(read("bad-base64.eml")).defects


def test_raw_utf8_headers_are_read_as_utf8() -> None:
    parsed = parse(read("smtputf8-headers.eml"))
    assert parsed.sender == "jörg@bücher.example"
    assert parsed.subject == "Bitte Daten löschen"


@pytest.mark.parametrize("raw", [b"", b"\r\n", b"\xff" * 10, b"From: a\r\n" * 5000, b"--\r\n" * 100])
def test_degenerate_input_never_raises(raw: bytes) -> None:
    parse(raw)


def test_message_ids_are_read_from_ids_lists() -> None:
    assert message_ids("<a@b> <c@d>\r\n <e@f>") == ("a@b", "c@d", "e@f")
    assert message_ids("bare@example.com") == ("bare@example.com",)
    assert message_ids("no id here") == ()
    assert message_ids(None) == ()


def test_clean_removes_controls_and_surrogates() -> None:
    assert clean("a\x00b\udcffc\r\nd\te") == "ab\ufffdc\nd\te"


def test_html_to_text_keeps_blocks_on_lines_and_never_raises() -> None:
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\n\ntwo\nthree"
    assert html_to_text("<div><<<</script><style>x</style>&#xZZZ; ok") != ""


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto-reply-out-of-office.eml", "auto-submitted"),
        ("bounce-mailer-daemon.eml", "auto-submitted"),
        ("precedence-bulk.eml", "precedence"),
    ],
)
def test_machine_generated_corpus_messages_are_recognised(name: str, reason: str) -> None:
    assert automatic_reason(parse(read(name)), envelope_source="x@example.org", own_address=OWN) == reason


@pytest.mark.parametrize(
    ("extra", "source", "reason"),
    [
        ({"Auto-Submitted": "auto-generated"}, "a@example.org", "auto-submitted"),
        ({"Auto-Submitted": "no"}, "a@example.org", None),
        ({"Precedence": "junk"}, "a@example.org", "precedence"),
        ({"X-Autoreply": "yes"}, "a@example.org", "auto-reply"),
        ({"List-Id": "<privacy.lists.example.org>"}, "a@example.org", "mailing-list"),
        ({"Return-Path": "<>"}, "a@example.org", "bounce"),
        ({}, "", "bounce"),
        ({}, "MAILER-DAEMON@mx.example.org", "bounce"),
        ({}, "a@example.org", None),
    ],
)
def test_loop_protection_rules(extra: dict[str, str], source: str, reason: str | None) -> None:
    parsed = parse(mail(extra=extra))
    assert automatic_reason(parsed, envelope_source=source, own_address=OWN) == reason


def test_our_own_address_is_a_loop() -> None:
    parsed = parse(mail(sender=OWN))
    assert automatic_reason(parsed, envelope_source="bounce@ses.example", own_address=OWN) == "loop"

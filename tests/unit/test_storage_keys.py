"""S3 key layout and the stored report codec."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ceip.reports.validation import validate_reports
from ceip.storage import keys, report_codec
from tests.support.reports import make_report


def test_partition_uses_the_utc_hour_of_receipt() -> None:
    # Given a receive time expressed in another offset, just after midnight UTC
    received = datetime(2026, 11, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    # Then the partition is the UTC day and hour
    assert keys.report_partition(received) == "reports/dt=2026-11-28/hr=23/"


def test_object_key_round_trips_to_its_partition() -> None:
    key = keys.report_object_key(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "ab" * 16)
    assert key == "reports/dt=2026-01-02/hr=03/" + "ab" * 16 + ".ndjson.gz"
    assert keys.partition_of(key) == (date(2026, 1, 2), 3)
    assert keys.partition_of("aggregates/x") is None


def test_object_key_rejects_anything_but_hex_digests() -> None:
    with pytest.raises(ValueError):
        keys.report_object_key(datetime(2026, 1, 2, tzinfo=UTC), "../../etc")


def test_identical_batches_get_the_same_digest_and_different_ones_do_not() -> None:
    # Given two validated reports
    now = datetime.now(UTC)
    reports = validate_reports([make_report(), make_report()], now=now).accepted
    lines = [report_codec.canonical_line(r) for r in reports]
    # Then the digest depends on the content only
    assert report_codec.content_digest(lines) == report_codec.content_digest(list(lines))
    assert report_codec.content_digest(lines) != report_codec.content_digest(lines[:1])


def test_encoded_object_holds_each_report_plus_received_at_and_nothing_else() -> None:
    # Given a validated report
    now = datetime(2026, 11, 29, 4, 5, 6, 789000, tzinfo=UTC)
    source = make_report(created_at="2026-11-29T04:00:00Z")
    report = validate_reports([source], now=now).accepted[0]
    # When encoded and decoded
    data = report_codec.encode_lines([report_codec.canonical_line(report)], now)
    (line,) = list(report_codec.decode_lines(data))
    # Then the line is the report as sent, plus received_at
    assert line.pop("received_at") == "2026-11-29T04:05:06.789Z"
    assert line == source


def test_encoding_is_deterministic() -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    line = report_codec.canonical_line(validate_reports([make_report()], now=datetime.now(UTC)).accepted[0])
    assert report_codec.encode_lines([line], now) == report_codec.encode_lines([line], now)

"""Deadline arithmetic: GDPR month ends and leap years, CCPA business days, extensions, jurisdictions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ceip.privacy.deadlines import (
    ExtensionRefused,
    Jurisdiction,
    Law,
    add_business_days,
    add_months,
    ccpa_ack_due,
    ccpa_due,
    check_extension,
    compute,
    gdpr_due,
    receipt_day,
)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 3, 5), date(2026, 4, 5)),  # the same date next month
        (date(2027, 1, 31), date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2027, 1, 29), date(2027, 2, 28)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),  # across the year
        (date(2026, 8, 31), date(2026, 9, 30)),
    ],
)
def test_gdpr_one_month_is_the_same_date_or_the_months_last_day(received: date, due: date) -> None:
    assert gdpr_due(received) == due


def test_gdpr_deadline_is_not_moved_off_a_weekend() -> None:
    # Given a request received on a Saturday whose deadline falls on a Sunday a month later
    received = date(2026, 10, 31)
    # Then the deadline stays on that day (earlier is always safe)
    assert gdpr_due(received) == date(2026, 11, 30)
    assert date(2026, 1, 4).weekday() == 6 and gdpr_due(date(2025, 12, 4)) == date(2026, 1, 4)


@pytest.mark.parametrize(
    ("received", "extended"),
    [
        (date(2026, 3, 5), date(2026, 6, 5)),
        (date(2027, 1, 31), date(2027, 4, 28)),  # two months after 28 February: earlier than 30 April
        (date(2028, 1, 31), date(2028, 4, 29)),
        (date(2026, 11, 30), date(2027, 2, 28)),
    ],
)
def test_gdpr_extension_adds_two_months_counted_the_earlier_way(received: date, extended: date) -> None:
    assert gdpr_due(received, extended=True) == extended


def test_add_months_handles_december_and_many_months() -> None:
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 48) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("received", "ack_due"),
    [
        (date(2026, 11, 16), date(2026, 11, 30)),  # Monday -> Monday two weeks later
        (date(2026, 11, 20), date(2026, 12, 4)),  # Friday -> Friday
        (date(2026, 11, 21), date(2026, 12, 4)),  # Saturday: Monday is business day 1
        (date(2026, 11, 22), date(2026, 12, 4)),  # Sunday
    ],
)
def test_ccpa_acknowledgement_counts_ten_business_days_skipping_weekends(
    received: date, ack_due: date
) -> None:
    assert ccpa_ack_due(received) == ack_due
    assert ack_due.weekday() < 5


def test_business_days_never_land_on_a_weekend() -> None:
    start = date(2026, 1, 1)
    for offset in range(14):
        for count in range(1, 12):
            assert add_business_days(start + timedelta(days=offset), count).weekday() < 5


def test_ccpa_answer_is_45_calendar_days_extendable_once_by_45() -> None:
    assert ccpa_due(date(2026, 11, 16)) == date(2026, 12, 31)
    assert ccpa_due(date(2026, 11, 16), extended=True) == date(2027, 2, 14)
    assert ccpa_due(date(2028, 1, 20)) == date(2028, 3, 5)  # through a leap February


def test_receipt_day_is_utc_for_gdpr_and_pacific_standard_for_ccpa() -> None:
    # Given an e-mail received at 05:00 UTC on 1 March (still 28 February in California)
    received = datetime(2027, 3, 1, 5, 0, tzinfo=UTC)
    assert receipt_day(received, Law.GDPR) == date(2027, 3, 1)
    assert receipt_day(received, Law.CCPA) == date(2027, 2, 28)
    # A timestamp with an offset is converted, not read as local
    assert receipt_day(datetime(2027, 3, 1, 1, 0, tzinfo=timezone(timedelta(hours=2))), Law.GDPR) == date(
        2027, 2, 28
    )


def test_unknown_jurisdiction_takes_the_earliest_deadline_of_both_laws() -> None:
    # Given a request received on 16 November (GDPR: 16 December; CCPA: 31 December)
    deadlines = compute(datetime(2026, 11, 16, 9, 30, tzinfo=UTC))
    # Then GDPR governs, and every deadline is computed from the receipt, with the internal target beside
    assert deadlines.answer_due == date(2026, 12, 16)
    assert deadlines.governed_by is Law.GDPR
    assert deadlines.ccpa_ack_due == date(2026, 11, 30)
    assert deadlines.ccpa_due == date(2026, 12, 31)
    assert deadlines.internal_target == date(2026, 11, 23)


def test_ccpa_governs_when_it_is_earlier_than_the_month() -> None:
    # Given a request received on 31 January 2027 with only the GDPR deadline extended
    deadlines = compute(datetime(2027, 1, 31, 12, tzinfo=UTC), extended=frozenset({Law.GDPR}))
    # Then the unextended CCPA deadline (17 March) is earlier than the extended GDPR one (28 April)
    assert deadlines.gdpr_due == date(2027, 4, 28)
    assert deadlines.answer_due == date(2027, 3, 17)
    assert deadlines.governed_by is Law.CCPA


def test_known_jurisdiction_applies_only_its_law() -> None:
    received = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    eu = compute(received, jurisdiction=Jurisdiction.EU)
    california = compute(received, jurisdiction=Jurisdiction.CALIFORNIA, internal_target_days=3)
    assert (eu.ccpa_due, eu.ccpa_ack_due, eu.answer_due) == (None, None, date(2026, 12, 16))
    assert (california.gdpr_due, california.answer_due) == (None, date(2026, 12, 31))
    assert california.internal_target == date(2026, 11, 19)


def test_extension_is_allowed_until_the_first_deadline_and_only_once() -> None:
    received = datetime(2027, 1, 31, 12, tzinfo=UTC)
    kwargs = {"received_at": received, "jurisdiction": Jurisdiction.UNKNOWN, "extended": frozenset[Law]()}
    check_extension(Law.GDPR, today=date(2027, 2, 28), **kwargs)  # the last day of the first month
    with pytest.raises(ExtensionRefused, match="notified by 2027-02-28"):
        check_extension(Law.GDPR, today=date(2027, 3, 1), **kwargs)
    check_extension(Law.CCPA, today=date(2027, 3, 17), **kwargs)
    with pytest.raises(ExtensionRefused, match="ccpa"):
        check_extension(Law.CCPA, today=date(2027, 3, 18), **kwargs)
    with pytest.raises(ExtensionRefused, match="already extended"):
        check_extension(
            Law.GDPR,
            received_at=received,
            jurisdiction=Jurisdiction.UNKNOWN,
            extended=frozenset({Law.GDPR}),
            today=date(2027, 2, 1),
        )
    with pytest.raises(ExtensionRefused, match="does not apply"):
        check_extension(
            Law.CCPA,
            received_at=received,
            jurisdiction=Jurisdiction.EU,
            extended=frozenset(),
            today=date(2027, 2, 1),
        )

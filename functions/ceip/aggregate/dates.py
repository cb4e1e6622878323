"""Date arithmetic of aggregation: which day a run covers, windows and the lookback. Pure functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

MAX_DAYS_PER_RUN = 366
"""A backfill longer than a year is almost certainly a typo in --until."""


def previous_utc_day(moment: datetime) -> date:
    """The UTC day before `moment`: what the 02:00 UTC schedule aggregates."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(UTC).date() - timedelta(days=1)


def day_range(first: date, last: date) -> list[date]:
    """first..last inclusive, oldest first (rolling windows read the sketches of earlier days)."""
    if last < first:
        raise ValueError("the last day is before the first")
    count = (last - first).days + 1
    if count > MAX_DAYS_PER_RUN:
        raise ValueError(f"at most {MAX_DAYS_PER_RUN} days per run")
    return [first + timedelta(days=offset) for offset in range(count)]


def window_days(day: date, length: int) -> list[date]:
    """The `length` days ending with `day`, oldest first."""
    if length < 1:
        raise ValueError("a window has at least one day")
    return [day - timedelta(days=offset) for offset in range(length - 1, -1, -1)]


def lookback_hours(hours: int) -> list[int]:
    """The last `hours` hours of the previous day, whose report ids a day's run treats as already seen."""
    if not 0 <= hours <= 24:
        raise ValueError("lookback must be 0..24 hours")
    return list(range(24 - hours, 24))


def requested_day(day: date | None, scheduled_time: datetime | None, now: datetime) -> date:
    """An explicit day wins; else the UTC day before the scheduled time (so a retry after midnight still
    builds the day the schedule meant), else the UTC day before now."""
    if day is not None:
        return day
    return previous_utc_day(scheduled_time or now)

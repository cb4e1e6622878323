"""Legal and internal deadlines of a privacy request. Pure date arithmetic, no clock, no I/O.

- GDPR Art. 12(3): answer within one month of receipt, counted as in Regulation 1182/71 Art. 3(2)(c)
  (the same date in the next month, or that month's last day when it has no such date); extendable by
  two further months when the data subject is told, with the reasons, within the first month.
- CCPA (Cal. Civ. Code 1798.130(a)(2), CCPA Regulations 7021): confirm receipt within 10 business days;
  answer within 45 calendar days, extendable once by another 45 with notice within the first 45.
- An internal target (default 7 days) beside them.

Without a known jurisdiction every law applies and the earliest deadline governs. Every choice here errs
early: weekends do not push a GDPR deadline to Monday, holidays are not business days we skip, and the
receipt day is taken where it is earliest (UTC for GDPR, UTC-8 for CCPA).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

CCPA_ACK_BUSINESS_DAYS = 10
CCPA_ANSWER_DAYS = 45
CCPA_EXTENSION_DAYS = 45
GDPR_MONTHS = 1
GDPR_EXTENSION_MONTHS = 2
DEFAULT_INTERNAL_TARGET_DAYS = 7
# Pacific Standard Time: never later than the Californian calendar date (PDT is UTC-7).
_CALIFORNIA_EARLIEST = timezone(timedelta(hours=-8))


class Law(StrEnum):
    GDPR = "gdpr"
    CCPA = "ccpa"


class Jurisdiction(StrEnum):
    UNKNOWN = "unknown"
    EU = "eu"
    CALIFORNIA = "california"


LAWS_BY_JURISDICTION: dict[Jurisdiction, tuple[Law, ...]] = {
    Jurisdiction.UNKNOWN: (Law.GDPR, Law.CCPA),
    Jurisdiction.EU: (Law.GDPR,),
    Jurisdiction.CALIFORNIA: (Law.CCPA,),
}


class ExtensionRefused(Exception):
    """An extension the law does not allow (too late, already extended, or the law does not apply)."""


class Deadlines(BaseModel):
    model_config = ConfigDict(frozen=True)

    gdpr_due: date | None = None
    gdpr_extended: bool = False
    ccpa_ack_due: date | None = None
    ccpa_due: date | None = None
    ccpa_extended: bool = False
    internal_target: date
    answer_due: date
    """The governing answer deadline: the earliest of the applicable laws' (extended) deadlines."""
    governed_by: Law


def add_months(day: date, months: int) -> date:
    """The same date `months` later, or that month's last day when it has no such date."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_business_days(day: date, count: int) -> date:
    """`count` Monday-to-Friday days after `day` (the day itself not counted)."""
    current = day
    remaining = count
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def receipt_day(received_at: datetime, law: Law) -> date:
    """The calendar day a request was received, where that day is earliest for the law's territory."""
    utc = received_at.astimezone(UTC)
    return utc.astimezone(_CALIFORNIA_EARLIEST).date() if law is Law.CCPA else utc.date()


def gdpr_due(received: date, *, extended: bool = False) -> date:
    first = add_months(received, GDPR_MONTHS)
    if not extended:
        return first
    # "Two further months": whether counted from receipt or from the first deadline, take the earlier.
    return min(
        add_months(received, GDPR_MONTHS + GDPR_EXTENSION_MONTHS), add_months(first, GDPR_EXTENSION_MONTHS)
    )


def ccpa_ack_due(received: date) -> date:
    return add_business_days(received, CCPA_ACK_BUSINESS_DAYS)


def ccpa_due(received: date, *, extended: bool = False) -> date:
    return received + timedelta(days=CCPA_ANSWER_DAYS + (CCPA_EXTENSION_DAYS if extended else 0))


def compute(
    received_at: datetime,
    *,
    jurisdiction: Jurisdiction = Jurisdiction.UNKNOWN,
    extended: frozenset[Law] = frozenset(),
    internal_target_days: int = DEFAULT_INTERNAL_TARGET_DAYS,
) -> Deadlines:
    laws = LAWS_BY_JURISDICTION[jurisdiction]
    due: dict[Law, date] = {}
    fields: dict[str, object] = {}
    if Law.GDPR in laws:
        day = receipt_day(received_at, Law.GDPR)
        due[Law.GDPR] = gdpr_due(day, extended=Law.GDPR in extended)
        fields.update(gdpr_due=due[Law.GDPR], gdpr_extended=Law.GDPR in extended)
    if Law.CCPA in laws:
        day = receipt_day(received_at, Law.CCPA)
        due[Law.CCPA] = ccpa_due(day, extended=Law.CCPA in extended)
        fields.update(
            ccpa_ack_due=ccpa_ack_due(day), ccpa_due=due[Law.CCPA], ccpa_extended=Law.CCPA in extended
        )
    governing = min(due, key=lambda law: (due[law], law.value))
    return Deadlines.model_validate(
        {
            **fields,
            "internal_target": received_at.astimezone(UTC).date() + timedelta(days=internal_target_days),
            "answer_due": due[governing],
            "governed_by": governing,
        }
    )


def check_extension(
    law: Law,
    *,
    received_at: datetime,
    jurisdiction: Jurisdiction,
    extended: frozenset[Law],
    today: date,
) -> None:
    """Raise ExtensionRefused unless `law` may be extended today (notice within the first period)."""
    if law not in LAWS_BY_JURISDICTION[jurisdiction]:
        raise ExtensionRefused(
            f"{law.value} does not apply to a request from jurisdiction {jurisdiction.value}"
        )
    if law in extended:
        raise ExtensionRefused(f"the {law.value} deadline was already extended; the law allows one extension")
    day = receipt_day(received_at, law)
    first = gdpr_due(day) if law is Law.GDPR else ccpa_due(day)
    if today > first:
        raise ExtensionRefused(
            f"the {law.value} extension must be notified by {first.isoformat()} (end of the first period); "
            f"today is {today.isoformat()}"
        )

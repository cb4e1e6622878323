"""Date arguments of the CLI: YYYY-MM-DD, today or yesterday (UTC)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta


def parse_day(text: str, today: date | None = None) -> date:
    base = today or datetime.now(UTC).date()
    keyword = text.strip().lower()
    if keyword == "today":
        return base
    if keyword == "yesterday":
        return base - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected YYYY-MM-DD, today or yesterday") from error

"""Calendar days in China Standard Time, the days citizens and authorities speak of."""
from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8), "CST")
DAY = 86400
WINDOW_DAYS = 14


def today(now: int) -> dt.date:
    return dt.datetime.fromtimestamp(now, CST).date()


def start_of(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=CST).timestamp())


def window_start(now: int, days: int = WINDOW_DAYS) -> dt.date:
    """The earliest day still inside the last `days` days (today counts as one of them... plus 14 before)."""
    return today(now) - dt.timedelta(days=days)


def lapses_at(day: dt.date, days: int = WINDOW_DAYS) -> int:
    """A stay on `day` matters through the 14 whole days after it."""
    return start_of(day) + (days + 1) * DAY


def iso(moment: int) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

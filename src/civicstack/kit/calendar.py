"""Vietnam's days and working days. A day is Vietnam's whatever the server's zone; statutory
processing times count Monday to Friday, less Vietnam's public
holidays (the `holidays` package's VN calendar: Tết by the lunar calendar, Hùng Kings' day,
30 April, 1 May, National Day, and the substitute days the government announces)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from civicstack.kit.db import as_utc

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # what citizens and officials read clocks and days in


def day_of(moment: datetime) -> date:
    """The day in Vietnam of an instant (a naive one is UTC, as SQLite hands it back)."""
    return as_utc(moment).astimezone(VIETNAM).date()


def today() -> date:
    return datetime.now(VIETNAM).date()


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the day of receipt does not count)."""
    current, remaining = start, days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1)
               if is_working_day(start + timedelta(days=n)))

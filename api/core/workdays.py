"""Working days on the mainland calendar: official holidays and make-up working days (chinese-calendar).

Years the calendar does not know yet (the State Council publishes each year's holidays in the
autumn before) fall back to Monday to Friday, which is what an office does until the notice comes.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    """True when government offices work on `day`."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def utc_now() -> dt.datetime:
    """The current time, in UTC (what the database stores)."""
    return dt.datetime.now(dt.timezone.utc)


def today() -> dt.date:
    """Today in China."""
    return dt.datetime.now(SHANGHAI).date()


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def sla_state(*, due_date: dt.date | None, on: dt.date, paused: bool) -> str:
    """`paused` while the applicant owes a supplement; `warning` on the last working day; `overdue` after it."""
    if paused:
        return "paused"
    if due_date is None or on < due_date:
        return "on_track"
    if on == due_date:
        return "warning"
    return "overdue"

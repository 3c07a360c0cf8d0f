"""Working days on the mainland calendar: official holidays and make-up working days.

The built-in years are chinese-calendar's (2004 to the year of its release). A year an admin loaded (the State
Council's holiday notice for it, see api/admin/calendar.py) extends them, or replaces the built-in one of the same
year; each process holds the loaded years in memory (`install`), put there at start-up and after every change. A day
of a year neither knows is refused with 503 `calendar_missing`, never guessed: Monday to Friday would count New
Year's Day and the Spring Festival as working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from api.core.errors import AppError

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUILTIN_FIRST_YEAR = min(chinese_calendar.constants.holidays).year
BUILTIN_LAST_YEAR = max(chinese_calendar.constants.holidays).year
BUILTIN_SOURCE = f"chinese-calendar {chinese_calendar.__version__}"
RETRY_AFTER_SECONDS = 3600  # loading a year is an admin's work: nothing to retry within seconds


class CalendarMissing(AppError):
    """A date falls in a year no calendar covers yet."""

    status, code = 503, "calendar_missing"

    def __init__(self, year: int):
        super().__init__(f"{year} 年的法定节假日安排尚未导入，暂时无法计算办理时限，请稍后再试",
                         headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        self.year = year


@dataclass(frozen=True)
class LoadedYear:
    """One loaded year: the holidays (any day of the week) and the make-up working days (weekend days)."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


_loaded: dict[int, LoadedYear] = {}
_horizon_working_days = 0


def install(years: Mapping[int, LoadedYear]) -> None:
    """Make `years` the loaded years of this process (replacing those installed before)."""
    global _loaded
    _loaded = dict(years)
    is_working_day.cache_clear()


def set_horizon(working_days: int) -> None:
    """How far ahead the calendar must reach to be ready: the longest time limit (working days) a case can get."""
    global _horizon_working_days
    _horizon_working_days = max(0, working_days)


def horizon() -> int:
    """The horizon `set_horizon` set (working days)."""
    return _horizon_working_days


def year_known(year: int) -> bool:
    """True when a loaded or built-in calendar covers `year`."""
    return year in _loaded or BUILTIN_FIRST_YEAR <= year <= BUILTIN_LAST_YEAR


def loaded_years() -> list[int]:
    """The years loaded into this process, in order."""
    return sorted(_loaded)


@lru_cache(maxsize=4096)
def is_working_day(day: dt.date) -> bool:
    """True when government offices work on `day`; CalendarMissing when no calendar covers its year."""
    loaded = _loaded.get(day.year)
    if loaded is not None:
        return day in loaded.workdays or (day.weekday() < 5 and day not in loaded.holidays)
    if BUILTIN_FIRST_YEAR <= day.year <= BUILTIN_LAST_YEAR:
        return chinese_calendar.is_workday(day)
    raise CalendarMissing(day.year)


def missing_years(*, on: dt.date, working_days: int) -> list[int]:
    """The year (a list of at most one) that counting `working_days` from `on` would need and no calendar covers."""
    if not year_known(on.year):
        return [on.year]
    try:
        add_working_days(on, working_days)
    except CalendarMissing as exc:
        return [exc.year]
    return []


def readiness() -> list[int]:
    """The missing year that makes this process not ready: today's, or one the horizon from today reaches."""
    return missing_years(on=today(), working_days=_horizon_working_days)


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

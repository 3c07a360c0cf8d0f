"""What every dashboard shares: its `?from=&to=` days (Beijing calendar days), who sees which departments, the SQL
that puts a timestamp into its Beijing day or hour on SQLite and PostgreSQL alike, and chart-ready series."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from api.core import rawsql
from api.core.errors import ValidationFailed
from api.core.workdays import SHANGHAI, today

DEFAULT_DAYS, MAX_DAYS = 30, 366
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)
ALL_SEEING = ("super_admin", "auditor")  # the roles whose dashboards cover every department
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
RANGE_QUERY = {"from": f"起始日（含，YYYY-MM-DD，北京时间），默认为 to 之前的 {DEFAULT_DAYS} 天（含 to）",
               "to": f"截止日（含，YYYY-MM-DD，北京时间），默认今天；与 from 最多相隔 {MAX_DAYS} 天（含两端）"}


@dataclass(frozen=True)
class DayRange:
    """The Beijing calendar days from `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    def days(self) -> list[str]:
        """Every day of the range as `YYYY-MM-DD`, in order."""
        return [(self.first + dt.timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The first instant of the range and the first instant after it (Beijing midnight)."""
        start = dt.datetime.combine(self.first, dt.time(), SHANGHAI)
        return start, dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), SHANGHAI)

    def body(self) -> dict:
        """The range as an answer states it."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _date(args, name: str, problems: dict) -> dt.date | None:
    value = args.get(name)
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None:
        problems[name] = "日期格式须为 YYYY-MM-DD"
    elif not FIRST_DAY <= day <= LAST_DAY:
        problems[name] = "日期须在 2000 年至 2099 年之间"
        day = None
    return day


def day_range(args) -> DayRange:
    """The `from` and `to` of a dashboard's query (the last 30 days by default); 422 naming the field when a date is
    malformed, `to` is before `from`, or the range is longer than 366 days."""
    problems: dict[str, str] = {}
    first, last = _date(args, "from", problems), _date(args, "to", problems)
    if problems:
        raise ValidationFailed(fields=problems)
    given_to = last is not None
    last = last if given_to else today()
    if first is None:
        first = max(last - dt.timedelta(days=DEFAULT_DAYS - 1), FIRST_DAY)
    if last < first:
        raise ValidationFailed(fields={"to": "截止日不能早于起始日"} if given_to else {"from": "起始日不能晚于今天"})
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(fields={"from": f"起止日期最多相隔 {MAX_DAYS} 天（含两端）"})
    return DayRange(first, last)


def scope(actor) -> list[str] | None:
    """The departments a staff member's dashboards cover: all (None) for a super admin or an auditor, else theirs."""
    return None if set(ALL_SEEING) & set(actor.roles) else list(actor.depts)


def in_depts(column: str, depts: list[str] | None) -> tuple[str, list]:
    """An SQL condition (with its parameters) keeping rows of these departments; always true for None."""
    if depts is None:
        return "1 = 1", []
    if not depts:
        return "1 = 0", []
    return f"{column} IN {rawsql.in_list(depts)}", list(depts)


# Beijing has kept +08:00 all year since 1991, so SQLite's fixed '+8 hours' is the zone's own offset.
def local_day(column: str) -> str:
    """SQL giving a timestamp column's Beijing calendar day as `YYYY-MM-DD` text."""
    if rawsql.dialect() == "postgres":
        return f"to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
    # The ORM writes Beijing time as text ('2026-03-01 09:30:00+08:00'), whose first ten characters are the day; a
    # time written in another offset (an update writes a value as given) is read as a time by date().
    return f"CASE WHEN substr({column}, -6) = '+08:00' THEN substr({column}, 1, 10) ELSE date({column}, '+8 hours') END"


def local_hour(column: str) -> str:
    """SQL giving a timestamp column's Beijing hour of day (0-23) as an integer."""
    if rawsql.dialect() == "postgres":
        return f"CAST(EXTRACT(HOUR FROM {column} AT TIME ZONE 'Asia/Shanghai') AS INTEGER)"
    return (f"CAST(CASE WHEN substr({column}, -6) = '+08:00' THEN substr({column}, 12, 2) "
            f"ELSE strftime('%H', {column}, '+8 hours') END AS INTEGER)")


def within(column: str, span: DayRange) -> tuple[str, list]:
    """An SQL condition (with its parameters) keeping rows whose timestamp falls on a day of the range; it bounds the
    column itself so that an index on it serves."""
    start, end = span.bounds()
    if rawsql.dialect() == "postgres":
        return f"{column} >= ? AND {column} < ?", [start, end]
    # SQLite compares the stored text: rows written in another offset are within a day of their place, so the text
    # bounds are widened by a day and the exact Beijing day decides.
    wide_start, wide_end = start - dt.timedelta(days=1), end + dt.timedelta(days=1)
    return (f"{column} >= ? AND {column} < ? AND {local_day(column)} BETWEEN ? AND ?",
            [wide_start.isoformat(" "), wide_end.isoformat(" "), span.first.isoformat(), span.last.isoformat()])


def day_series(span: DayRange, rows: list[dict], *, key: str, keys: Iterable) -> list[dict]:
    """One series per value of `key` (those of `keys` in their order, then any other the rows hold), each with its
    count on every day of the range and its total; `rows` hold `day`, the key and `n`."""
    index = {day: n for n, day in enumerate(span.days())}
    series: dict = {k: [0] * len(index) for k in keys}
    for row in rows:
        counts = series.setdefault(row[key], [0] * len(index))
        at = index.get(str(row["day"]))
        if at is not None:
            counts[at] += int(row["n"])
    return [{key: k, "counts": counts, "total": sum(counts)} for k, counts in series.items()]


def share(part: int, whole: int) -> float:
    """part / whole to four places (0 when there is no whole)."""
    return round(part / whole, 4) if whole else 0.0


class RangeRead(BaseModel):
    """The days a dashboard answer covers (the base of every dashboard's answer)."""

    first: dt.date = Field(alias="from", description="起始日（含，北京时间）")
    last: dt.date = Field(alias="to", description="截止日（含，北京时间）")


class DaySeriesRead(RangeRead):
    days: list[dt.date] = Field(description="横轴：from 至 to 的每一天，每个序列的 counts 与之一一对应")

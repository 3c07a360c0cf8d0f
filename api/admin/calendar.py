"""The working-day calendar's loaded years: each year's State Council holiday notice, loaded by an admin (route or
command line), kept in the database and installed into every process's api.core.workdays.

Every process (server worker or job worker) reads the loaded years at start-up and then looks every
RECHECK_SECONDS for a change (one small query: the years and their load times), so a load reaches every worker
within seconds; the process that loads installs at once. The same look keeps the readiness horizon (the longest
legal time limit of the catalogue) and logs an error while a year it needs is missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import chinese_calendar
from pydantic import ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.admin.models import WorkCalendarYear
from api.admin.schemas import CalendarDay, CalendarFile, CalendarLoad
from api.catalog import service as catalog_service
from api.core import audit, workdays
from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.http import field_errors
from api.core.jobs import cancel_and_wait
from api.core.logging import get_logger

log = get_logger("api.calendar")
RECHECK_SECONDS = 5.0
REPEAT_MISSING_SECONDS = 3600.0  # while a needed year is missing, the error is logged again every hour
FIRST_YEAR, LAST_YEAR = 2000, 2100
CLI_ACTOR = "cli"
LOAD_HINT = "python server.py load-calendar FILE, or PUT /api/v1/admin/calendar/{year}"
_TASK = "calendar.watch"

_fingerprint: tuple | None = None  # the (year, loaded_at) pairs installed in this process


def parse_file(data: object) -> CalendarFile:
    """A calendar file's content (the command line's), checked as the route checks its body."""
    try:
        return CalendarFile.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("日历文件格式有误", fields=field_errors(exc)) from None


def _problems(year: int, days: list[CalendarDay]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems["year"] = f"年份须在 {FIRST_YEAR} 到 {LAST_YEAR} 之间"
    seen: set[dt.date] = set()
    for n, day in enumerate(days):
        if day.date.year != year:
            problems[f"days.{n}.date"] = f"不在 {year} 年内"
        elif day.date in seen:
            problems[f"days.{n}.date"] = "日期重复"
        elif day.kind == "workday" and day.date.weekday() < 5:
            problems[f"days.{n}.date"] = "调休上班日须为周六或周日（工作日本就上班）"
        seen.add(day.date)
    if not any(day.kind == "holiday" for day in days):
        problems["days"] = "至少须有一个法定节假日（如元旦）"
    return problems


def _counts(days: list[dict]) -> dict:
    kinds = [d["kind"] for d in days]
    return {"holidays": kinds.count("holiday"), "workdays": kinds.count("workday")}


async def load_year(*, year: int, body: CalendarLoad, actor=None) -> tuple[bool, dict]:
    """Write one year's holidays and make-up working days (replacing a loaded or built-in year) and audit it, then
    install it in this process; `actor` is the request's, or None for the command line. (created, the year)."""
    if body.year is not None and body.year != year:
        raise ValidationFailed(fields={"year": "与路径中的年份不一致"})
    problems = _problems(year, body.days)
    if problems:
        raise ValidationFailed("节假日安排有误", fields=problems)
    days = [d.model_dump(mode="json") for d in sorted(body.days, key=lambda d: d.date)]
    loaded_by = actor.actor_id if actor is not None else CLI_ACTOR
    try:
        async with in_transaction():
            row = await WorkCalendarYear.filter(year=year).select_for_update().first()
            before = {"source": row.source, **_counts(row.days)} if row is not None else None
            values = {"source": body.source, "days": days, "loaded_by": loaded_by, "loaded_at": workdays.utc_now()}
            if row is None:
                row = await WorkCalendarYear.create(year=year, **values)
            else:
                await row.update_from_dict(values).save()
            detail = {"year": year, "source": body.source, **_counts(days), "before": before,
                      "over_builtin": workdays.BUILTIN_FIRST_YEAR <= year <= workdays.BUILTIN_LAST_YEAR}
            if actor is not None:
                await audit.record_for(actor, action="admin.calendar.load", target_type="calendar",
                                       target_id=str(year), detail=detail)
            else:
                await audit.record(actor_type="system", actor_id=CLI_ACTOR, action="admin.calendar.load",
                                   target_type="calendar", target_id=str(year), detail=detail)
    except IntegrityError:  # the first load of this year by a concurrent request committed first
        raise Conflict("该年份正由另一请求导入，请稍后重试", code="calendar_load_conflict") from None
    await refresh()
    log.info("calendar_loaded", year=year, loaded_by=loaded_by, **_counts(days))
    return before is None, _year_read(row)


def _builtin_days(year: int) -> list[dict]:
    names = {h.value: h.chinese for h in chinese_calendar.constants.Holiday}
    days = [{"date": d.isoformat(), "kind": "holiday", "name": names.get(holiday, holiday)}
            for d, holiday in chinese_calendar.constants.holidays.items() if d.year == year]
    days += [{"date": d.isoformat(), "kind": "workday", "name": f"{names.get(holiday, holiday)}调休上班"}
             for d, holiday in chinese_calendar.constants.workdays.items() if d.year == year]
    return sorted(days, key=lambda d: d["date"])


def _builtin_summary(year: int) -> dict:
    return {"year": year, "origin": "builtin", "source": workdays.BUILTIN_SOURCE, **_counts(_builtin_days(year)),
            "loaded_at": None, "loaded_by": None}


def _summary(row: WorkCalendarYear) -> dict:
    return {"year": row.year, "origin": "loaded", "source": row.source, **_counts(row.days),
            "loaded_at": row.loaded_at, "loaded_by": row.loaded_by}


def _year_read(row: WorkCalendarYear) -> dict:
    return {**_summary(row), "days": row.days}


async def known_years() -> dict:
    """Every year a calendar covers (a loaded one over the built-in one of its year), newest first, with the
    readiness horizon and the year it misses."""
    loaded = {row.year: _summary(row) for row in await WorkCalendarYear.all()}
    builtin = range(workdays.BUILTIN_FIRST_YEAR, workdays.BUILTIN_LAST_YEAR + 1)
    items = [loaded.get(year) or _builtin_summary(year) for year in sorted({*loaded, *builtin}, reverse=True)]
    return {"items": items, "horizon_working_days": workdays.horizon(), "missing": workdays.readiness()}


async def year_days(*, year: int) -> dict:
    """One year's holidays and make-up working days, in the shape a load takes; 404 for a year nothing covers."""
    row = await WorkCalendarYear.get_or_none(year=year) if FIRST_YEAR <= year <= LAST_YEAR else None
    if row is not None:
        return _year_read(row)
    if workdays.BUILTIN_FIRST_YEAR <= year <= workdays.BUILTIN_LAST_YEAR:
        return {**_builtin_summary(year), "days": _builtin_days(year)}
    raise NotFound(f"{year} 年的节假日安排尚未导入")


async def refresh() -> bool:
    """Install the loaded years in this process when they changed since the last look; True when they did."""
    global _fingerprint
    stamps = tuple(await WorkCalendarYear.all().order_by("year").values_list("year", "loaded_at"))
    if stamps == _fingerprint:
        return False
    rows = await WorkCalendarYear.all()
    workdays.install({row.year: _loaded_year(row.days) for row in rows})
    _fingerprint = stamps
    return True


def _loaded_year(days: list[dict]) -> workdays.LoadedYear:
    def dates(kind: str) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d["date"]) for d in days if d["kind"] == kind)

    return workdays.LoadedYear(holidays=dates("holiday"), workdays=dates("workday"))


async def update_horizon(*, redis) -> int:
    """Set the readiness horizon to the catalogue's longest legal time limit; the horizon (working days)."""
    catalogue = await catalog_service.current(redis=redis)
    days = max((item.legal_days for item in catalogue.items.values()), default=0)
    workdays.set_horizon(days)
    return days


class _Watch:
    """The per-process look for changes, and the error while a needed year is missing."""

    def __init__(self):
        self.missing: list[int] = []
        self.logged_at = 0.0

    def report(self) -> None:
        missing = workdays.readiness()
        now = time.monotonic()
        if missing and (missing != self.missing or now - self.logged_at >= REPEAT_MISSING_SECONDS):
            log.error("calendar_missing", missing_years=missing, horizon_working_days=workdays.horizon(),
                      known_through=max([workdays.BUILTIN_LAST_YEAR, *workdays.loaded_years()]), load_with=LOAD_HINT)
            self.logged_at = now
        elif not missing and self.missing:
            log.info("calendar_complete", horizon_working_days=workdays.horizon())
        self.missing = missing

    async def look(self, deps) -> None:
        await refresh()
        await update_horizon(redis=deps.redis)
        self.report()

    async def run(self, deps) -> None:
        while True:
            await asyncio.sleep(RECHECK_SECONDS)
            try:
                await self.look(deps)
            except Exception as exc:  # noqa: BLE001 - a store outage: the calendar stays as installed, look again
                log.warning("calendar_refresh_failed", error_type=type(exc).__name__)


async def start(deps) -> None:
    """Install the loaded years, set the horizon, log an error when a needed year is missing, and keep looking
    (called once per process at start-up)."""
    watch = _Watch()
    try:
        await watch.look(deps)
    except Exception as exc:  # noqa: BLE001 - a store outage at start: the watch loads the years once it answers
        log.error("calendar_not_loaded", error_type=type(exc).__name__)
    deps.state[_TASK] = asyncio.get_running_loop().create_task(watch.run(deps))


async def stop(deps) -> None:
    """Stop looking (the process is shutting down)."""
    await cancel_and_wait(deps.state.pop(_TASK, None))

"""Clean state between tests: after each test that ran the app, its rows and Redis keys are gone.

What stays is the reference data the session loads once: the migrations' own table, the test catalogue, the
working-day calendar's test years, the code signing keys (the in-process key ring caches them) and rows a session
fixture registered with `keep` (the staff accounts tests log in once per session). Everything else is emptied after
each test, once the job queue has finished what the test queued, so no test sees another's data or faults and the
suite can run in parallel.
"""

from __future__ import annotations

import asyncio
import time
import warnings

from tortoise import Tortoise

from api.admin import calendar
from api.admin.models import WorkCalendarYear
from api.catalog import service as catalog_service
from api.catalog.models import Bundle, Department, ServiceItem
from api.codes.models import CodeSigningKey
from api.core import workdays

CATALOGUE_MODELS = (Bundle, ServiceItem, Department)
# Redis keys the session sets up and every test may rely on (the catalogue's version is restored with it).
REFERENCE_KEYS = frozenset({catalog_service.VERSION_KEY})
SANDBOX_PLATFORMS = ("wechat", "alipay", "sms")
JOBS_SETTLE_SECONDS = 30.0

_kept: dict[tuple[str, str], set[str]] = {}  # (table, primary key column) -> values kept across tests
_order: list[str] | None = None  # the tables to empty, children before parents (computed once per session)


def keep(model, pk) -> None:
    """Keep this row (made by a session fixture) when the tables are emptied after each test."""
    meta = model._meta
    _kept.setdefault((meta.db_table, meta.db_pk_column), set()).add(str(pk))


def reference_tables() -> set[str]:
    """Tables never emptied between tests."""
    return {"aerich", CodeSigningKey._meta.db_table, WorkCalendarYear._meta.db_table,
            *(m._meta.db_table for m in CATALOGUE_MODELS)}


def _dialect() -> str:
    return Tortoise.get_connection("default").capabilities.dialect


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def _tables_children_first(conn) -> list[str]:
    if _dialect() == "postgres":
        tables = [r["t"] for r in await conn.execute_query_dict(
            # A partition is emptied through its parent (and may come and go during the session: monthly ones).
            "SELECT c.relname AS t FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
            "AND c.relkind IN ('r', 'p') AND NOT c.relispartition")]
        edges = [(r["child"], r["parent"]) for r in await conn.execute_query_dict(
            "SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid "
            "WHERE k.contype = 'f'")]
    else:
        tables = [r["t"] for r in await conn.execute_query_dict(
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        edges = [(t, r["table"]) for t in tables
                 for r in await conn.execute_query_dict(f'PRAGMA foreign_key_list("{t}")')]
    parents = {t: {p for c, p in edges if c == t and p != t} for t in tables}
    order: list[str] = []
    while parents:  # a table goes once every table referencing it has gone
        ready = sorted(t for t in parents if not any(t in ps for c, ps in parents.items() if c != t))
        if not ready:  # a cycle between tables: their foreign keys cascade or the DELETE says which
            ready = sorted(parents)
        for t in ready:
            order.append(t)
            del parents[t]
    return order


async def _tables(conn) -> list[str]:
    global _order
    if _order is None:
        _order = [t for t in await _tables_children_first(conn) if t not in reference_tables()]
    return _order


def _unkept(table: str) -> str:
    """The WHERE clause of the rows of `table` that are not kept ("" for all of them)."""
    kept = [f'"{column}" NOT IN ({", ".join(map(_quote, sorted(values)))})'
            for (t, column), values in _kept.items() if t == table and values]
    return f" WHERE {' AND '.join(kept)}" if kept else ""


async def empty_tables() -> list[str]:
    """Delete every row but the reference data; the tables that had rows."""
    conn = Tortoise.get_connection("default")
    order = await _tables(conn)
    probe = " UNION ALL ".join(f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in order)
    filled = {r["t"] for r in await conn.execute_query_dict(probe)}
    statements = [f'DELETE FROM "{t}"{_unkept(t)};' for t in order if t in filled]
    if statements:  # one script on one connection, in one transaction
        await conn.execute_script("\n".join(["BEGIN;", *statements, "COMMIT;"]))
    return sorted(filled)


async def leftovers() -> dict[str, int]:
    """The rows the cleaning would delete now, by table (none right after it)."""
    conn = Tortoise.get_connection("default")
    counts = " UNION ALL ".join(f"SELECT '{t}' AS t, COUNT(*) AS n FROM \"{t}\"{_unkept(t)}"
                                for t in await _tables(conn))
    return {r["t"]: r["n"] for r in await conn.execute_query_dict(counts) if r["n"]}


async def restore_catalogue(redis, catalogue: dict, version: str | None) -> str:
    """Put the test catalogue back if a test loaded another one; the catalogue's version in Redis."""
    now = await redis.get(catalog_service.VERSION_KEY)
    if version is not None and now == version:
        return version
    for model in CATALOGUE_MODELS:
        await model.all().delete()
    await catalog_service.load_catalogue(data=catalogue, redis=redis)
    if hasattr(catalog_service, "_checked_at"):
        catalog_service._checked_at = 0.0  # this process looks at the new version on its next read
    return await redis.get(catalog_service.VERSION_KEY)


def session_calendar_years() -> list[int]:
    """The years past chinese-calendar's that the session loads, through next year: a due date the suite computes
    (a month ahead, a supplement's 60 days) is never refused for a missing year, whatever the day it runs."""
    return list(range(workdays.BUILTIN_LAST_YEAR + 1, workdays.today().year + 2))


async def restore_calendar(redis, stamps: tuple | None) -> tuple:
    """Put the session's calendar back if a test loaded or removed a year; the loaded years' stamps."""
    now = tuple(await WorkCalendarYear.all().order_by("year").values_list("year", "loaded_at"))
    if stamps is None or now != stamps:
        await WorkCalendarYear.all().delete()
        for year in session_calendar_years():  # not a real notice: New Year's Day alone, which the law fixes
            await WorkCalendarYear.create(year=year, source="测试数据：仅元旦（并非国务院通知）", loaded_by="tests",
                                          days=[{"date": f"{year}-01-01", "kind": "holiday", "name": "元旦"}],
                                          loaded_at=workdays.utc_now())
        now = tuple(await WorkCalendarYear.all().order_by("year").values_list("year", "loaded_at"))
    await calendar.refresh()  # this process installs them when it holds others
    await calendar.update_horizon(redis=redis)  # the test catalogue's longest limit
    return now


async def wait_for_jobs(redis, queue: str, timeout: float = JOBS_SETTLE_SECONDS) -> bool:
    """Wait until the queue holds no job that is due or running (arq keeps a job in its queue until it ends)."""
    deadline = time.monotonic() + timeout
    while await redis.zcount(queue, "-inf", int(time.time() * 1000)):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def sweep_redis(redis, queue: str) -> int:
    """Delete every key but the reference ones and those of a job still running; the number deleted."""
    running = set(await redis.zrangebyscore(queue, "-inf", int(time.time() * 1000)))
    spare = set(REFERENCE_KEYS)
    for job_id in running:
        spare |= {f"arq:job:{job_id}", f"arq:in-progress:{job_id}", f"arq:retry:{job_id}"}
    if running:
        spare.add(queue)
        # Deferred jobs (retries, delayed work) a test left behind go; the ones running finish.
        await redis.zremrangebyscore(queue, f"({int(time.time() * 1000)}", "+inf")
    doomed, deleted = [], 0
    async for key in redis.scan_iter(count=1000):
        if key not in spare:
            doomed.append(key)
        if len(doomed) >= 500:
            deleted += await redis.delete(*doomed)
            doomed = []
    if doomed:
        deleted += await redis.delete(*doomed)
    return deleted


async def clean(live, client, *, catalogue: dict, catalogue_version: str | None) -> str:
    """Return the app to the session's reference state (the calendar's too); the catalogue's version."""
    deps = live.app.ctx.deps
    for platform in SANDBOX_PLATFORMS:  # first, so that jobs held up by a slow sandbox finish quickly
        r = await client.delete(f"/sandbox/{platform}/faults")
        assert r.status_code in (200, 204), r.text
    if not await wait_for_jobs(deps.redis, deps.settings.job_queue):
        warnings.warn(f"jobs still running {JOBS_SETTLE_SECONDS:.0f} s after the test; cleaning around them",
                      stacklevel=1)
    await sweep_redis(deps.redis, deps.settings.job_queue)
    await empty_tables()
    version = await restore_catalogue(deps.redis, catalogue, catalogue_version)
    live.calendar_stamps = await restore_calendar(deps.redis, live.calendar_stamps)
    return version

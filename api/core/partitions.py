"""Monthly range partitions on PostgreSQL (the audit log): made ahead of time, dropped whole when past retention.

A month's partition is `<table>_pYYYYMM` and covers that Beijing month; `<table>_default` takes anything else. On
SQLite (the embedded default) tables are not partitioned and old rows are deleted instead.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from api.core import rawsql
from api.core.logging import get_logger

log = get_logger("api.partitions")
BEIJING = ZoneInfo("Asia/Shanghai")
MONTHS_AHEAD = 2  # besides the current month: a month of slack if the job stops running
_NAME = re.compile(r"_p(\d{4})(\d{2})$")


def month_start(at: dt.datetime) -> dt.datetime:
    """The first moment of `at`'s Beijing month."""
    local = at.astimezone(BEIJING)
    return dt.datetime(local.year, local.month, 1, tzinfo=BEIJING)


def next_month(start: dt.datetime) -> dt.datetime:
    """The first moment of the month after the one starting at `start`."""
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def partition_name(table: str, start: dt.datetime) -> str:
    """The name of `table`'s partition for the month starting at `start`."""
    return f"{table}_p{start:%Y%m}"


async def is_partitioned(table: str) -> bool:
    """Whether `table` is a partitioned table (never on SQLite)."""
    if rawsql.dialect() != "postgres":
        return False
    return bool(await rawsql.fetch_value(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace", [table]))


async def month_partitions(table: str) -> list[str]:
    """The names of `table`'s monthly partitions, oldest first."""
    rows = await rawsql.fetch(
        "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p "
        "ON p.oid = i.inhparent WHERE p.relname = ? AND p.relnamespace = current_schema()::regnamespace", [table])
    return sorted(r["name"] for r in rows if _NAME.search(r["name"]))


async def ensure_months(*, table: str, now: dt.datetime, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make the partitions of `now`'s month and `ahead` months after it that are missing; the names made."""
    if not await is_partitioned(table):
        return []
    have = set(await month_partitions(table))
    made, start = [], month_start(now)
    for _ in range(ahead + 1):
        name = partition_name(table, start)
        if name not in have:
            await _attach_month(table, name, start, next_month(start))
            made.append(name)
        start = next_month(start)
    if made:
        log.info("partitions_made", table=table, partitions=made)
    return made


async def _attach_month(table: str, name: str, lo: dt.datetime, hi: dt.datetime) -> None:
    # Rows of that month already in the default partition would fail a plain CREATE ... PARTITION OF: they move
    # into the new table first, then it is attached, in one transaction; the lock lets one run at a time.
    async with in_transaction() as conn:
        await rawsql.fetch("SELECT pg_advisory_xact_lock(hashtext(?))", [f"partitions:{table}"], conn)
        if await rawsql.fetch_value("SELECT to_regclass(?) IS NOT NULL", [name], conn):
            return
        await rawsql.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)', (), conn)
        await rawsql.execute(
            f'WITH moved AS (DELETE FROM "{table}_default" WHERE created_at >= ? AND created_at < ? RETURNING *) '
            f'INSERT INTO "{name}" SELECT * FROM moved', [lo, hi], conn)
        # ATTACH takes no parameters: the bounds are our own datetimes, written as literals.
        await rawsql.execute(f"ALTER TABLE \"{table}\" ATTACH PARTITION \"{name}\" "
                             f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')", (), conn)


async def drop_months_before(*, table: str, cutoff: dt.datetime) -> list[str]:
    """Drop `table`'s monthly partitions that end at or before `cutoff` and delete older rows of the default
    partition; the partitions dropped."""
    dropped = []
    for name in await month_partitions(table):
        year, month = map(int, _NAME.search(name).groups())
        if next_month(dt.datetime(year, month, 1, tzinfo=BEIJING)) <= cutoff:
            await rawsql.execute(f'DROP TABLE "{name}"')
            dropped.append(name)
    await rawsql.execute(f'DELETE FROM "{table}_default" WHERE created_at < ?', [cutoff])
    if dropped:
        log.info("partitions_dropped", table=table, partitions=dropped)
    return dropped

"""Set-wise SQL for the bulk paths (matching, grants, the outbox) and the hot ones (scans), on SQLite and
PostgreSQL alike.

Statements are written once with `?` placeholders; PostgreSQL gets them numbered. Values are always
parameters, never text in the statement. On PostgreSQL statements go to asyncpg directly (the ORM's
wrapping costs as much as the call, and it counts an INSERT's rows as 0); errors are the ORM's.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import itertools
import re
from typing import NamedTuple

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient
from tortoise.exceptions import IntegrityError, OperationalError

_PLACEHOLDER = re.compile(r"\?")


class Subquery(NamedTuple):
    """A SELECT and its parameters that one module hands another to use as a derived table (`FROM (sql) x`),
    so set-wise SQL spans domains while each one's SQL names only its own tables."""

    sql: str
    params: list


def connection() -> BaseDBAsyncClient:
    """The default connection (inside a transaction, the transaction's own)."""
    return Tortoise.get_connection("default")


def dialect(conn: BaseDBAsyncClient | None = None) -> str:
    """`sqlite` or `postgres`."""
    return (conn or connection()).capabilities.dialect


def numbered(sql: str, conn: BaseDBAsyncClient | None = None) -> str:
    """The statement with PostgreSQL's `$n` placeholders when the connection is PostgreSQL."""
    if dialect(conn) != "postgres":
        return sql
    # Hot statements (a scan's group commit, the session checks) are the same short text every time;
    # the long bulk ones are not worth keeping.
    return _cached_numbering(sql) if len(sql) <= 4096 else _numbering(sql)


@functools.lru_cache(maxsize=1024)
def _cached_numbering(sql: str) -> str:
    return _numbering(sql)


def _numbering(sql: str) -> str:
    counter = itertools.count(1)
    return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)


def ordered_id_sql(prefix: str, conn: BaseDBAsyncClient | None = None) -> str:
    """An SQL expression making a fresh id per row as api.core.ids.ordered_id does: the millisecond, then 80 random
    bits, so rows written in bulk append to their primary key's index instead of landing on random pages of it."""
    if dialect(conn) == "postgres":
        return (f"'{prefix}_' || lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 11, '0') || "
                # 48 and 32 bits of two random UUIDs, before their fixed version digit: 80 random bits. (One UUID
                # named twice would need a subquery, which PostgreSQL evaluates once for the whole statement.)
                "replace(left(gen_random_uuid()::text, 13), '-', '') || left(gen_random_uuid()::text, 8)")
    # The millisecond from text fields: julianday's floating point can land a millisecond early.
    return (f"'{prefix}_' || printf('%011x', CAST(strftime('%s', 'now') AS INTEGER) * 1000 + "
            "CAST(substr(strftime('%f', 'now'), 4) AS INTEGER)) || lower(hex(randomblob(10)))")


# The connection a `held()` block runs its statements on: (the client it came from, the asyncpg connection, the
# task holding it; tasks started inside the block inherit the variable but must not share the connection).
_held: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("rawsql_held", default=None)


@contextlib.asynccontextmanager
async def held():
    """Run the statements inside on one pooled PostgreSQL connection taken once (a batcher's busy spell), not
    one taken per statement, one statement at a time; elsewhere (SQLite, inside a transaction, already held)
    it changes nothing."""
    conn = connection()
    if dialect(conn) != "postgres" or isinstance(conn, TransactionalDBClient) or _held.get() is not None:
        yield
        return
    async with conn.acquire_connection() as raw:
        token = _held.set((conn, raw, asyncio.current_task()))
        try:
            yield
        finally:
            _held.reset(token)


async def _on_asyncpg(conn: BaseDBAsyncClient, call) -> object:
    """`call(asyncpg_connection)` on the held connection if this task holds one, else on a pooled one."""
    held_now = _held.get()
    try:
        if held_now is not None and held_now[0] is conn and held_now[2] is asyncio.current_task():
            return await call(held_now[1])
        async with conn.acquire_connection() as raw:
            return await call(raw)
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(exc) from exc
    except (asyncpg.SyntaxOrAccessError, asyncpg.exceptions.DataError) as exc:
        raise OperationalError(exc) from exc


def _affected(status: str) -> int:
    """Rows touched, from a command tag such as `INSERT 0 3`, `UPDATE 2` or `SELECT 5` (0 for `SET`)."""
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


async def execute(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None) -> int:
    """Run a statement; the number of rows it touched."""
    conn = conn or connection()
    if dialect(conn) == "postgres":
        sql = numbered(sql, conn)
        return _affected(await _on_asyncpg(conn, lambda raw: raw.execute(sql, *params)))
    count, _ = await conn.execute_query(sql, list(params))
    return count


async def fetch(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None) -> list[dict]:
    """Run a query; its rows as dicts."""
    conn = conn or connection()
    if dialect(conn) == "postgres":
        sql = numbered(sql, conn)
        return [dict(r) for r in await _on_asyncpg(conn, lambda raw: raw.fetch(sql, *params))]
    return [dict(r) for r in await conn.execute_query_dict(sql, list(params))]


async def insert_rows(table: str, columns: tuple[str, ...], rows: list[tuple],
                      conn: BaseDBAsyncClient | None = None) -> None:
    """Insert `rows` (values in `columns` order): a binary COPY on PostgreSQL, the cheapest write it takes, and
    one multi-row INSERT on SQLite."""
    conn = conn or connection()
    if dialect(conn) == "postgres":
        await _on_asyncpg(conn, lambda raw: raw.copy_records_to_table(table, records=rows, columns=list(columns)))
        return
    placeholders = "(" + ", ".join("?" for _ in columns) + ")"
    await execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(placeholders for _ in rows),
                  [value for row in rows for value in row], conn)


async def fetch_value(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None):
    """The first column of the first row (None when there is none)."""
    rows = await fetch(sql, params, conn)
    return next(iter(rows[0].values())) if rows else None


def in_list(values: list) -> str:
    """`(?, ?, ...)` for an IN list of these values (callers keep lists to a few hundred)."""
    return "(" + ", ".join("?" for _ in values) + ")"

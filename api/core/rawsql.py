"""Set-wise SQL for the bulk paths (matching, grants, the outbox), on SQLite and PostgreSQL alike.

Statements are written once with `?` placeholders; PostgreSQL gets them numbered. Values are always
parameters, never text in the statement.
"""

from __future__ import annotations

import functools
import itertools
import re

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

_PLACEHOLDER = re.compile(r"\?")


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


def new_id_sql(prefix: str, conn: BaseDBAsyncClient | None = None) -> str:
    """An SQL expression making a fresh opaque id (`prefix_` and 128 random bits) per row."""
    if dialect(conn) == "postgres":
        return f"'{prefix}_' || replace(gen_random_uuid()::text, '-', '')"
    return f"'{prefix}_' || lower(hex(randomblob(16)))"


async def execute(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None) -> int:
    """Run a statement; the number of rows it touched."""
    conn = conn or connection()
    count, _ = await conn.execute_query(numbered(sql, conn), list(params))
    return count


async def fetch(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None) -> list[dict]:
    """Run a query; its rows as dicts."""
    conn = conn or connection()
    return [dict(r) for r in await conn.execute_query_dict(numbered(sql, conn), list(params))]


async def fetch_value(sql: str, params: list | tuple = (), conn: BaseDBAsyncClient | None = None):
    """The first column of the first row (None when there is none)."""
    rows = await fetch(sql, params, conn)
    return next(iter(rows[0].values())) if rows else None


def in_list(values: list) -> str:
    """`(?, ?, ...)` for an IN list of these values (callers keep lists to a few hundred)."""
    return "(" + ", ".join("?" for _ in values) + ")"

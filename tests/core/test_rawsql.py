"""Raw SQL on both stores: row counts, the ORM's errors, one connection held for a batcher's busy spell."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from api.core import rawsql

TABLE = "rawsql_probe"


@pytest.fixture
async def probe(live):
    await rawsql.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (k TEXT PRIMARY KEY, v INTEGER NOT NULL)")
    await rawsql.execute(f"DELETE FROM {TABLE}")
    yield
    await rawsql.execute(f"DROP TABLE {TABLE}")


async def test_statements_count_the_rows_they_touch(probe):
    insert = f"INSERT INTO {TABLE} (k, v) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (k) DO NOTHING"
    assert await rawsql.execute(insert, ["a", 1, "b", 2, "c", 3]) == 3
    assert await rawsql.execute(insert, ["a", 1, "b", 2, "d", 4]) == 1  # two were there already
    assert await rawsql.execute(f"UPDATE {TABLE} SET v = v + 1 WHERE v >= ?", [2]) == 3
    assert await rawsql.execute(f"DELETE FROM {TABLE} WHERE k = ?", ["zzz"]) == 0
    rows = await rawsql.fetch(f"SELECT k, v FROM {TABLE} ORDER BY k")
    assert rows == [{"k": "a", "v": 1}, {"k": "b", "v": 3}, {"k": "c", "v": 4}, {"k": "d", "v": 5}]
    assert await rawsql.fetch_value(f"SELECT v FROM {TABLE} WHERE k = ?", ["c"]) == 4


async def test_errors_are_the_orms(probe):
    await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["a", 1])
    with pytest.raises(IntegrityError):
        await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["a", 2])
    with pytest.raises(IntegrityError):
        await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["b", None])
    with pytest.raises(OperationalError):
        await rawsql.fetch(f"SELECT no_such_column FROM {TABLE}")
    assert await rawsql.fetch(f"SELECT k, v FROM {TABLE}") == [{"k": "a", "v": 1}]


async def test_a_failed_statement_in_a_transaction_rolls_it_back(probe):
    with pytest.raises(IntegrityError):
        async with in_transaction():
            await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["a", 1])
            await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["a", 2])
    assert await rawsql.fetch(f"SELECT k FROM {TABLE}") == []


async def test_a_held_block_runs_on_one_connection(probe):
    if rawsql.dialect() != "postgres":
        pytest.skip("SQLite has a single connection: holding it changes nothing")
    backend = "SELECT pg_backend_pid() AS pid"
    client = rawsql.connection()
    taken, done = asyncio.Event(), asyncio.Event()

    async def another_checkout():  # takes whichever connection the pool hands out next
        async with client.acquire_connection():
            taken.set()
            await done.wait()

    async with rawsql.held():
        first = await rawsql.fetch_value(backend)
        other = asyncio.get_running_loop().create_task(another_checkout(), context=contextvars.Context())
        await taken.wait()
        second = await rawsql.fetch_value(backend)
        await rawsql.execute(f"INSERT INTO {TABLE} (k, v) VALUES (?, ?)", ["held", 1])
        async with rawsql.held():  # nested: the same connection
            third = await rawsql.fetch_value(backend)
        done.set()
        await other
    assert first == second == third
    # Outside, the statement took effect (no transaction was opened around the block).
    assert await rawsql.fetch_value(f"SELECT v FROM {TABLE} WHERE k = ?", ["held"]) == 1


async def test_many_rows_go_in_at_once_with_their_types(probe):
    rows = [(f"k{i}", i) for i in range(300)]
    await rawsql.insert_rows(TABLE, ("k", "v"), rows)
    assert await rawsql.fetch_value(f"SELECT count(*) FROM {TABLE}") == 300
    assert await rawsql.fetch_value(f"SELECT v FROM {TABLE} WHERE k = ?", ["k299"]) == 299
    with pytest.raises(IntegrityError):  # nothing of a failed write stays
        await rawsql.insert_rows(TABLE, ("k", "v"), [("new", 1), ("k0", 2)])
    assert await rawsql.fetch_value(f"SELECT count(*) FROM {TABLE} WHERE k = ?", ["new"]) == 0


async def test_ids_made_in_sql_have_ordered_ids_shape_and_order_and_never_repeat(live):
    import re

    from api.core import ids

    rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
    before = ids.ordered_id("grt")
    made = [r["id"] for r in await rawsql.fetch(f"{rows}SELECT {rawsql.ordered_id_sql('grt')} AS id FROM n")]
    after = ids.ordered_id("grt")
    assert len(made) == 5000 and all(re.fullmatch(r"grt_[0-9a-f]{31}", i) for i in made), made[:3]
    assert len(set(made)) == 5000
    # 80 random bits per row, none of them made once for the whole statement: 48 bits, then 32 (two repeats among
    # 5,000 draws of 32 bits happen about once in a million runs).
    assert len({i[15:27] for i in made}) == 5000 and len({i[27:] for i in made}) >= 4998
    stamps = [i[:4 + 11] for i in made]
    assert before[:15] <= stamps[0] and stamps == sorted(stamps) and stamps[-1] <= after[:15]

"""On PostgreSQL a campaign's chunk reads its slice of the population from the blind index's unique index alone,
which carries the columns rules read (migration 18): reading the table's rows made every chunk touch a sixth of
the table at 10M people. Queueing its deliveries learns from the same index who has a phone (migration 19)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from tortoise.transactions import in_transaction

from api.citizens import contacts
from api.core import rawsql
from api.policies import attributes, campaigns, rules

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="INCLUDE and the planner are PostgreSQL's")

RULE = {"all": [{"field": "age", "op": ">=", "value": 60}, {"field": "gender", "op": "=", "value": "女"},
                {"field": "hukou_region", "op": "prefix", "value": "4301"}]}


def test_every_population_attribute_reads_only_the_rule_columns():
    # A new population attribute outside RULE_COLUMNS would fail every publish (the slice has no such column):
    # add it to RULE_COLUMNS and to the key index's INCLUDE together.
    for attribute in attributes.ATTRIBUTES.values():
        if attribute.join is None:
            assert attribute.sql.removeprefix("p.") in rules.RULE_COLUMNS, attribute.name


async def test_a_chunk_reads_its_slice_from_the_key_index_alone(live):
    # 20,000 people with random keys, committed and vacuumed as autovacuum would leave a loaded registry; the test's
    # cleanup empties the table after it.
    await rawsql.execute(
        "INSERT INTO population_record (id, id_number_bidx, id_number_enc, name_enc, gender, birth_date, "
        "hukou_region, phone_enc, imported_at, updated_at) "
        "SELECT 'pop_t' || i, encode(sha256(i::text::bytea), 'hex'), 'x', 'x', "
        "CASE WHEN i % 2 = 0 THEN '女' ELSE '男' END, DATE '1940-01-01' + (i % 24000), "
        "CASE WHEN i % 3 = 0 THEN '430102' ELSE '440305' END, 'x', now(), now() "
        "FROM generate_series(1, 20000) AS i")
    await rawsql.execute("VACUUM (ANALYZE) population_record")
    predicate = rules.compile_sql(RULE, as_of=dt.date(2026, 12, 3))
    low, high = campaigns.key_ranges(16)[5]
    people, range_params = rules.population_slice(predicate.joins, low, high, fenced=True)
    plan = "\n".join(r["QUERY PLAN"] for r in await rawsql.fetch(
        f"EXPLAIN SELECT p.id_number_bidx FROM {people} WHERE {predicate.sql}", [*range_params, *predicate.params]))
    assert "Index Only Scan using population_record_id_number_bidx_key" in plan, plan
    assert "Heap" not in plan and "Seq Scan" not in plan, plan
    count = await rawsql.fetch_value(f"SELECT count(*) FROM {people} WHERE {predicate.sql}",
                                     [*range_params, *predicate.params])
    expected = await rawsql.fetch_value(
        "SELECT count(*) FROM population_record WHERE id_number_bidx >= ? AND id_number_bidx < ? AND gender = '女' "
        "AND birth_date <= ? AND hukou_region LIKE '4301%'", [low, high, dt.date(1966, 12, 3)])
    assert count == expected > 0


async def test_queueing_learns_who_has_a_phone_from_the_key_index_alone(live):
    # Whether the registry has a phone for each person reached: asked of 2,000 of 20,000 people, as a chunk asks of
    # its matches, it must read the key index only (migration 19), not each person's scattered table row.
    await rawsql.execute(
        "INSERT INTO population_record (id, id_number_bidx, id_number_enc, name_enc, gender, birth_date, "
        "hukou_region, phone_enc, imported_at, updated_at) "
        "SELECT 'pop_q' || i, encode(sha256(i::text::bytea), 'hex'), 'x', 'x', '女', DATE '1950-01-01', '430102', "
        "CASE WHEN i % 4 = 0 THEN NULL ELSE 'x' END, now(), now() FROM generate_series(1, 20000) AS i")
    await rawsql.execute("VACUUM (ANALYZE) population_record")
    people = rawsql.Subquery("SELECT encode(sha256(i::text::bytea), 'hex') AS person_bidx "
                             "FROM generate_series(1, 20000, 10) AS i", [])
    reach = contacts.reachable(people)
    async with in_transaction() as conn:
        # At 20,000 rows a scan of the whole table is cheapest; at millions the planner probes the key index, as
        # here, and the question is whether that probe must then read the table row.
        await rawsql.execute("SET LOCAL enable_seqscan = off", [], conn)
        await rawsql.execute("SET LOCAL enable_bitmapscan = off", [], conn)
        plan = "\n".join(r["QUERY PLAN"] for r in await rawsql.fetch(
            f"EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FILTER (WHERE has_phone) FROM ({reach.sql}) x",
            reach.params, conn))
    assert "Index Only Scan using population_record_id_number_bidx_key" in plan, plan
    assert "Heap Fetches: 0" in plan and "Seq Scan on population_record" not in plan, plan
    assert "Index Scan using population_record" not in plan and "Bitmap Heap Scan on population_record" not in plan
    # And the answer is the phones' own: i % 4 = 0 has none.
    phones = await rawsql.fetch_value(f"SELECT count(*) FILTER (WHERE has_phone) FROM ({reach.sql}) x", reach.params)
    assert phones == sum(1 for i in range(1, 20001, 10) if i % 4)

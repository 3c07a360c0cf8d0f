"""On PostgreSQL three of the outbox's indexes keep only the rows their readers look for (migration 15): each
reader's query must still imply the index's predicate, or it would scan every delivery of every campaign. The
queries below are those of the readers named, as the planner sees them."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from tortoise.transactions import in_transaction

from api.core import rawsql

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="the partial indexes are PostgreSQL's")

READERS = {
    "outbox.recover_lapsed": ("SELECT id FROM outbox_delivery WHERE status = 'sending' AND lease_until < now()",
                              "status_lease_until"),
    "settle, campaigns with uncertain rows": (
        "SELECT DISTINCT campaign_id FROM outbox_delivery WHERE status = 'uncertain' AND channel = 'sms'",
        "status_lease_until"),
    "service.history": ("SELECT id FROM outbox_delivery WHERE citizen_id = 'cit_x' AND status IN ('sent', 'queued')",
                        "citizen_id"),
    "outbox weekly cap": (
        "SELECT person_bidx, count(*) FILTER (WHERE campaign_id IS NOT NULL) FROM outbox_delivery "
        "WHERE person_bidx IN ('a', 'b') AND sent_at > now() - interval '7 days' GROUP BY person_bidx",
        "person_bidx_sent_at"),
    "settle.deliver_held": ("SELECT id FROM outbox_delivery WHERE person_bidx = 'a' AND channel = 'inbox' "
                            "AND status = 'held'", "person_bidx_sent_at"),
}


async def test_the_partial_indexes_keep_only_the_rows_their_readers_want(live):
    rows = await rawsql.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'outbox_delivery'")
    where = {r["indexname"]: r["indexdef"].partition(" WHERE ")[2] for r in rows}
    assert "'queued'" not in where["idx_outbox_deli_status_1710a7"] and "claimed" in where[
        "idx_outbox_deli_status_1710a7"]
    assert where["idx_outbox_deli_citizen_c93649"] == "(citizen_id IS NOT NULL)"
    assert "sent_at IS NOT NULL" in where["idx_outbox_deli_person__a4689b"]


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_each_reader_still_finds_its_rows_by_index(live, reader):
    sql, index_columns = READERS[reader]
    async with in_transaction() as conn:
        # Forbid the scan the planner would choose for a tiny table: what is left shows whether an index applies.
        await rawsql.execute("SET LOCAL enable_seqscan = off", [], conn)
        plan = "\n".join(r["QUERY PLAN"] for r in await rawsql.fetch(f"EXPLAIN {sql}", [], conn))
    assert "Seq Scan" not in plan, plan
    assert index_columns in plan, plan  # each partition's copy of the index is named after its columns


class _Rollback(Exception):
    pass


async def test_the_weekly_cap_count_reads_the_person_index_while_a_campaign_sends(live, monkeypatch):
    # The statistics are taken before a campaign sends: they know of no row 'sent' while its senders mark thousands.
    # Offered the campaign's status index, the planner took it then and read every sent row for each batch.
    from notifications import outbox

    people = [f"{i:064x}" for i in range(500)]
    plans: list[str] = []
    fetch = rawsql.fetch

    async def explained(sql, params, conn=None):
        if "count(*)" in sql and "person_bidx IN" in sql:
            plans.append("\n".join(r["QUERY PLAN"] for r in await fetch(f"EXPLAIN {sql}", params, conn)))
            return []
        return await fetch(sql, params, conn)

    monkeypatch.setattr(rawsql, "fetch", explained)
    with pytest.raises(_Rollback):
        async with in_transaction() as conn:
            await rawsql.execute("ANALYZE outbox_delivery", [], conn)
            await rawsql.execute(
                "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, channel, topic, status, "
                "attempts, sent_at, created_at) SELECT 'dlv_stale_' || i, 'stale:' || i, 'cmp_stale', "
                "lpad(to_hex(i), 64, '0'), 'sms', 'policy', 'sent', 1, now(), now() "
                "FROM generate_series(1, 50000) AS i", [], conn)
            assert await outbox._recent_pushes(people, since=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                                               conn=conn) == {}
            raise _Rollback
    assert len(plans) == 1
    # ("Bitmap Index Scan", "person_bidx_sent_at") for each partition; a Seq Scan names no index
    scan = r"(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan)(?: (?:using|on) \w+_h\d+_(\w+)_idx)?"
    scans = set(re.findall(scan, plans[0]))
    assert {index for _, index in scans} == {"person_bidx_sent_at"}, scans

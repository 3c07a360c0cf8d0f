"""A campaign's delivery figures come from the tally the database's triggers keep (migration 20): the tally always
sums to what the deliveries are, folding keeps the sums, an inbox message opened twice counts once, and the
migration's backfill rebuilds the same tally from the rows."""

from __future__ import annotations

import asyncio
import importlib.util

import worker
from api.cli import MIGRATIONS
from api.core import rawsql
from notifications import service, tally
from tests.factories import bearer, verified_citizen
from tests.policies.helpers import create_policy, crowd, fresh_region, policy_admin, publish, rule_for, wait_for


async def _rows(campaign_id: str) -> dict[tuple, int]:
    """The campaign's deliveries counted from the rows themselves."""
    return {(r["channel"], r["status"], r["reason"]): int(r["n"]) for r in await rawsql.fetch(
        "SELECT channel, status, reason, count(*) AS n FROM outbox_delivery WHERE campaign_id = ? "
        "GROUP BY channel, status, reason", [campaign_id])}


async def _tallied(campaign_id: str) -> dict[tuple, int]:
    return {(r["channel"], r["status"], r["reason"]): int(r["n"])
            for r in await tally.figures_of([campaign_id], primary=True)}


async def _tally_rows(campaign_id: str) -> int:
    return int(await rawsql.fetch_value("SELECT count(*) FROM campaign_delivery_tally WHERE campaign_id = ?",
                                        [campaign_id]))


async def _campaign(client, live, *, count: int = 40) -> tuple[dict, str]:
    """A completed campaign over `count` people on every channel, some with consent and some without: the admin
    and the campaign id."""
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=count, settings=live.settings, wechat=0.4, alipay=0.2, consent=0.5)
    policy = await create_policy(client, admin, rule=rule_for(region))
    campaign_id = await publish(client, admin, policy["id"])
    await wait_for(client, admin, campaign_id)
    return admin, campaign_id


async def test_the_tally_sums_to_the_deliveries_and_folding_keeps_the_sums(client, live):
    admin, campaign_id = await _campaign(client, live)
    rows = await _rows(campaign_id)
    assert sum(rows.values()) >= 40 and len(rows) >= 3, rows  # inbox, wechat sent and skipped, alipay, sms
    assert await _tallied(campaign_id) == rows
    before = await _tally_rows(campaign_id)
    assert before > len(rows)  # every change appended: queued, claimed, sending, sent...

    assert await tally.fold_long(above=0) >= 1
    assert await _tallied(campaign_id) == rows
    assert await _tally_rows(campaign_id) == len(rows)  # one row a group, groups that sum to none gone
    await tally.fold(campaign_id)  # folding again changes nothing
    assert await _tallied(campaign_id) == rows and await _tally_rows(campaign_id) == len(rows)

    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)).json()
    sent = sum(n for (channel, status, _), n in rows.items() if status == "sent")
    delivered = sum(n for (channel, status, _), n in rows.items() if status == "delivered")
    assert (figures["sent"]["total"], figures["delivered"]["total"]) == (sent, delivered), figures


async def test_the_periodic_fold_leaves_short_tallies_alone(client, live):
    _, campaign_id = await _campaign(client, live, count=10)
    before = await _tally_rows(campaign_id)
    assert await tally.fold_long(above=before) == 0
    assert await _tally_rows(campaign_id) == before
    assert "fold_delivery_tallies" in {c.coroutine.__name__ for c in worker.all_cron()}


async def test_a_message_opened_twice_at_once_counts_once(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, _ = await verified_citizen(client, hukou_region=region)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox",))
    campaign_id = await publish(client, admin, policy["id"])
    await wait_for(client, admin, campaign_id)
    (message,) = [m for m in (await client.get("/api/v1/inbox", headers=bearer(tokens))).json()["items"]
                  if m["ref"]["kind"] == "grant"]
    answers = await asyncio.gather(*(client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(tokens))
                                     for _ in range(3)))
    assert [r.status_code for r in answers] == [200] * 3
    assert len({r.json()["read_at"] for r in answers}) == 1  # the first time stands
    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)).json()
    assert figures["read"] == 1


async def test_the_migrations_backfill_rebuilds_the_tally(client, live):
    _, campaign_id = await _campaign(client, live, count=20)
    opened = await rawsql.fetch("SELECT provider_ref, citizen_id FROM outbox_delivery WHERE campaign_id = ? "
                                "AND channel = 'inbox' AND status = 'delivered' LIMIT 2", [campaign_id])
    for row in opened:
        await service.mark_read(citizen_id=row["citizen_id"], message_id=row["provider_ref"])
    reads = await tally.reads_of([campaign_id], primary=True)
    assert reads == {campaign_id: len(opened)} and opened
    rows = await _rows(campaign_id)
    path = next((MIGRATIONS / "models").glob("20_*_campaign_delivery_tally.py"))
    spec = importlib.util.spec_from_file_location("tally_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    await rawsql.execute("DELETE FROM campaign_delivery_tally", [])
    for statement in filter(str.strip, migration.BACKFILL.split(";")):
        await rawsql.execute(statement, [])
    assert await _tallied(campaign_id) == rows
    assert await tally.reads_of([campaign_id], primary=True) == reads

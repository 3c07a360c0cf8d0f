"""The tables that grow with every campaign are partitioned on PostgreSQL, and partitioning keeps what stops a
message going twice: the same dedupe key, grant or inbox message is still refused, and the ORM still updates and
deletes a row by its id."""

from __future__ import annotations

import os

import pytest
from tortoise.exceptions import IntegrityError

from api.core import rawsql
from api.core.ids import new_id
from api.policies.models import PolicyReach
from notifications import outbox
from notifications.models import InboxMessage, OutboxDelivery

on_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="partitioning is PostgreSQL's")


async def _queue(dedupe_key: str) -> list[dict]:
    """Queue one row the way the event lane does; the ids inserted (none when the key was taken)."""
    return await rawsql.fetch(
        "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, status, attempts, created_at) "
        "VALUES (?, ?, ?, 'sms', 'benefit', 'queued', 0, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        [new_id("dlv"), dedupe_key, new_id("cit"), outbox.now()])


@on_postgres
async def test_the_growing_tables_are_partitioned_by_their_recipient_key_or_month(live):
    rows = await rawsql.fetch(
        "SELECT c.relname AS t, p.partstrat::text AS s, a.attname AS k FROM pg_partitioned_table p "
        "JOIN pg_class c ON c.oid = p.partrelid "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = p.partattrs[0] "
        "WHERE c.relnamespace = current_schema()::regnamespace")
    found = {r["t"]: (r["s"], r["k"]) for r in rows}
    assert found == {"outbox_delivery": ("h", "dedupe_key"), "policy_reach": ("h", "person_bidx"),
                     "inbox_message": ("h", "citizen_id"), "audit_log": ("r", "created_at")}


async def test_a_second_delivery_with_the_same_dedupe_key_still_conflicts(live):
    key = f"pol_x:{new_id('bidx')}:sms"
    assert len(await _queue(key)) == 1
    assert await _queue(key) == []  # the event lane's ON CONFLICT (dedupe_key) names a unique index that exists
    with pytest.raises(IntegrityError):
        await rawsql.execute(
            "INSERT INTO outbox_delivery (id, dedupe_key, channel, topic, status, attempts, created_at) "
            "VALUES (?, ?, 'sms', 'benefit', 'queued', 0, ?)", [new_id("dlv"), key, outbox.now()])
    assert await OutboxDelivery.filter(dedupe_key=key).count() == 1


async def test_a_person_is_granted_once_per_policy_family(live):
    person, family = new_id("bidx"), new_id("pol")
    for campaign in ("cmp_a", "cmp_b"):
        await rawsql.execute(
            "INSERT INTO policy_reach (id, policy_id, family_id, person_bidx, campaign_id, granted, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, TRUE, 'active', ?) ON CONFLICT (family_id, person_bidx) DO NOTHING",
            [new_id("grt"), family, family, person, campaign, outbox.now()])
    assert await PolicyReach.filter(family_id=family, person_bidx=person).values_list("campaign_id", flat=True) \
        == ["cmp_a"]


async def test_an_inbox_message_written_again_after_a_crash_is_kept_once(live):
    citizen, message_id = new_id("cit"), new_id("msg")
    for _ in range(2):  # the sender's retry writes the same message id for the same citizen
        await InboxMessage.bulk_create([InboxMessage(id=message_id, citizen_id=citizen, title="t", body="b",
                                                     topic="benefit")], ignore_conflicts=True)
    assert await InboxMessage.filter(citizen_id=citizen).count() == 1


async def test_the_orm_updates_and_deletes_a_partitioned_row_by_its_id(live):
    [row] = await _queue(f"evt:{new_id('x')}:sms")
    delivery = await OutboxDelivery.get(id=row["id"])
    delivery.status = "sent"
    await delivery.save()
    assert await OutboxDelivery.filter(id=row["id"]).update(attempts=2) == 1
    assert (await OutboxDelivery.get(id=row["id"])).status == "sent"
    await delivery.delete()
    assert not await OutboxDelivery.exists(id=row["id"])

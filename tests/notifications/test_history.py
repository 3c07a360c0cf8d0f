"""GET /api/v1/me/messages: what was sent to me, on which channel, with what status; never another citizen's."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

from tortoise.transactions import in_transaction

from notifications import service
from notifications.models import OutboxDelivery
from tests.factories import bearer, random_phone, verified_citizen, wechat_login
from tests.policies.helpers import create_policy, fresh_region, policy_admin, publish, rule_for, wait_for


async def _history(client, headers, **params) -> dict:
    r = await client.get("/api/v1/me/messages", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_wechat_push_is_in_my_history_once_and_not_in_anothers(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, _ = await verified_citizen(client, hukou_region=region)
    other, _ = await verified_citizen(client, hukou_region=fresh_region())
    me = bearer(tokens)
    r = await client.post("/api/v1/subscriptions", headers=me, json={
        "platform": "wechat", "template_id": live.settings.wechat_template_policy, "result": "accept"})
    assert r.status_code == 200, r.text
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms"), title="历史测试津贴")
    await wait_for(client, admin, await publish(client, admin, policy["id"]))

    items = (await _history(client, me))["items"]
    by_channel = {}
    for item in items:
        by_channel.setdefault(item["channel"], []).append(item)
    assert set(by_channel) == {"wechat", "inbox"}, items
    (wechat,), (inbox,) = by_channel["wechat"], by_channel["inbox"]
    grant = (await client.get("/api/v1/grants", headers=me)).json()["items"][0]
    assert wechat["status"] == "delivered" and wechat["title"] == "待遇已办理：历史测试津贴"
    assert wechat["topic"] == "benefit"  # an auto grant: its message opens the citizen's grant
    assert wechat["ref"] == {"kind": "grant", "id": grant["id"]} and wechat["delivered_at"]
    assert inbox["status"] == "delivered" and inbox["title"] == wechat["title"] and inbox["ref"] == wechat["ref"]
    assert (await _history(client, bearer(other)))["items"] == []


async def test_an_event_shows_its_inbox_message_and_its_platform_message(client, live):
    tokens, _ = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    async with in_transaction():
        assert await service.notify_citizen(
            citizen_id=citizen_id, kind="application_approved", ref={"kind": "application", "id": "app_x1"},
            params={"item_name": "居住证办理", "application_no": "app_x1", "at": "2026-11-30 10:00"},
            event_key=f"t:{secrets.token_hex(6)}")
    # No WeChat consent: that row is skipped (and not shown); the approval is important, so SMS takes it.
    items = await _history_until(client, bearer(tokens), lambda items: any(i["channel"] == "sms" and
                                                                          i["status"] == "delivered" for i in items))
    assert sorted((i["channel"], i["status"], i["title"]) for i in items) == [
        ("inbox", "delivered", "办件已通过：居住证办理"), ("sms", "delivered", "办件已通过：居住证办理")]
    assert all(i["ref"] == {"kind": "application", "id": "app_x1"} for i in items)


async def _history_until(client, headers, done, timeout: float = 10.0) -> list[dict]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        items = (await _history(client, headers))["items"]
        if done(items) or asyncio.get_running_loop().time() > deadline:
            return items
        await asyncio.sleep(0.1)


async def test_25_rows_page_by_10_each_once_with_statuses_mapped(client, live):
    tokens, _ = await verified_citizen(client)
    other, _ = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    statuses = ["queued", "claimed", "sending", "sent", "failed", "uncertain"]
    start = dt.datetime(2026, 3, 12, 9, tzinfo=dt.timezone.utc)
    rows = [OutboxDelivery(dedupe_key=f"h:{secrets.token_hex(8)}", citizen_id=citizen_id, channel="wechat",
                           topic="application", status=statuses[i % len(statuses)], payload={"title": f"第{i}条"},
                           created_at=start + dt.timedelta(minutes=i // 2))  # pairs share a time: the id breaks ties
            for i in range(25)]
    hidden = [OutboxDelivery(dedupe_key=f"h:{secrets.token_hex(8)}", citizen_id=citizen_id, channel="alipay",
                             topic="policy", status=s) for s in ("skipped", "cancelled")]
    theirs = [OutboxDelivery(dedupe_key=f"h:{secrets.token_hex(8)}", citizen_id=other["citizen"]["id"],
                             channel="sms", topic="policy", status="sent") for _ in range(3)]
    await OutboxDelivery.bulk_create(rows + hidden + theirs)

    seen, cursor, pages = [], None, 0
    while True:
        page = await _history(client, bearer(tokens), limit=10, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and len(seen) == 25 and {i["id"] for i in seen} == {r.id for r in rows}
    times = [dt.datetime.fromisoformat(i["created_at"]) for i in seen]
    assert times == sorted(times, reverse=True)
    expected = {"queued": "queued", "claimed": "queued", "sending": "queued", "sent": "delivered",
                "failed": "failed", "uncertain": "uncertain"}
    assert {i["id"]: i["status"] for i in seen} == {r.id: expected[r.status] for r in rows}
    assert {i["title"] for i in seen} == {f"第{i}条" for i in range(25)}


async def test_without_a_token_is_401(client):
    assert (await client.get("/api/v1/me/messages")).status_code == 401


async def test_an_agent_reads_my_history_only_with_the_inbox_scope(client):
    principal, _ = await verified_citizen(client)
    principal_id = principal["citizen"]["id"]
    await service.notify_citizen(
        citizen_id=principal_id, kind="application_accepted", ref={"kind": "application", "id": "app_x2"},
        params={"item_name": "居住证办理", "application_no": "app_x2", "at": "2026-11-30 10:00"},
        event_key=f"t:{secrets.token_hex(6)}")
    accepted = []
    for scopes, expected in ((["applications"], 403), (["inbox"], 200)):
        agent_phone = random_phone()
        agent = await wechat_login(client, phone=agent_phone)
        r = await client.post("/api/v1/me/delegations", headers=bearer(principal), json={
            "agent_phone": agent_phone, "scopes": scopes,
            "expires_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()})
        assert r.status_code == 201, r.text
        accepted.append(r.json()["id"])
        r = await client.post(f"/api/v1/delegations/{r.json()['id']}/accept", headers=bearer(agent))
        assert r.status_code == 200, r.text
        r = await client.get("/api/v1/me/messages", headers={**bearer(agent), "X-On-Behalf-Of": principal_id})
        assert r.status_code == expected, (scopes, r.text)
        if expected == 200:
            # The principal's history as they see it: the application's message and each acceptance they were told of.
            assert {i["ref"]["id"] for i in r.json()["items"]} == {"app_x2", *accepted}

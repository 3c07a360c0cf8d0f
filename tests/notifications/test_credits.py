"""WeChat one-time subscribe credits: one send per accept, spent before the call, zeroed by a 43101; long-term
subscriptions held until revoked; the citizen reads what is left."""

from __future__ import annotations

from api.citizens.models import PlatformAccount
from notifications.models import OutboxDelivery
from tests.factories import bearer, verified_citizen
from tests.policies.helpers import (
    create_policy,
    fresh_region,
    policy_admin,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)


async def _consent(client, headers, template_id: str, *, result: str = "accept", kind: str = "one_time") -> dict:
    r = await client.post("/api/v1/subscriptions", headers=headers, json={
        "platform": "wechat", "template_id": template_id, "result": result, "kind": kind})
    assert r.status_code == 200, r.text
    return r.json()


async def _mine(client, headers) -> dict:
    r = await client.get("/api/v1/me/subscriptions", headers=headers)
    assert r.status_code == 200, r.text
    return {(s["platform"], s["template_id"]): s for s in r.json()["items"]}


async def _push(client, admin, region: str, citizen_id: str, title: str) -> set:
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms"), title=title)
    figures = await wait_for(client, admin, await publish(client, admin, policy["id"]))
    return {(d.channel, d.status, d.reason)
            for d in await OutboxDelivery.filter(citizen_id=citizen_id, campaign_id=figures["id"])}


async def test_two_accepts_give_two_sends_and_the_third_push_falls_to_sms(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, person = await verified_citizen(client, hukou_region=region)
    me, citizen_id, tid = bearer(tokens), tokens["citizen"]["id"], live.settings.wechat_template_policy
    openid = (await PlatformAccount.get(citizen_id=citizen_id, platform="wechat")).platform_uid
    assert (await _mine(client, me)) == {}
    await _consent(client, me, tid)
    assert (await _consent(client, me, tid))["one_time_remaining"] == 2
    assert (await _mine(client, me))[("wechat", tid)] == {
        "platform": "wechat", "template_id": tid, "one_time_remaining": 2, "long_term": False, "banned": False}

    inbox = ("inbox", "delivered", None)
    assert await _push(client, admin, region, citizen_id, "第一项") == {inbox, ("wechat", "sent", None)}
    assert (await _mine(client, me))[("wechat", tid)]["one_time_remaining"] == 1
    assert await _push(client, admin, region, citizen_id, "第二项") == {inbox, ("wechat", "sent", None)}
    assert (await _mine(client, me))[("wechat", tid)]["one_time_remaining"] == 0
    assert await _push(client, admin, region, citizen_id, "第三项") == {
        inbox, ("wechat", "skipped", "no_consent"), ("sms", "sent", None)}
    assert len([m for m in await sandbox_messages(client, "wechat") if m["touser"] == openid]) == 2
    assert [m["phone"] for m in await sandbox_messages(client, "sms")].count(person["phone"]) == 1
    assert (await _mine(client, me))[("wechat", tid)]["one_time_remaining"] == 0


async def test_a_43101_zeroes_the_credits_and_the_push_falls_through(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, _ = await verified_citizen(client, hukou_region=region)
    me, citizen_id, tid = bearer(tokens), tokens["citizen"]["id"], live.settings.wechat_template_policy
    for _ in range(3):
        await _consent(client, me, tid)
    openid = (await PlatformAccount.get(citizen_id=citizen_id, platform="wechat")).platform_uid
    assert (await client.post("/sandbox/wechat/refusals", json={"openids": [openid]})).status_code == 200
    used = await _push(client, admin, region, citizen_id, "第一项")
    assert used == {("inbox", "delivered", None), ("wechat", "failed", "user_refused"), ("sms", "sent", None)}
    assert (await _mine(client, me))[("wechat", tid)]["one_time_remaining"] == 0  # not 2: the ledger is corrected


async def test_a_long_term_subscription_is_held_until_revoked(client, live):
    tokens, _ = await verified_citizen(client)
    me, tid = bearer(tokens), "tpl-long-term-test"
    await _consent(client, me, tid)
    assert (await _consent(client, me, tid, kind="long_term"))["long_term"] is True
    assert (await _consent(client, me, tid, result="reject", kind="one_time"))["long_term"] is True
    revoked = await _consent(client, me, tid, result="reject", kind="long_term")
    assert revoked["long_term"] is False and revoked["one_time_remaining"] == 1  # credits given stay
    assert (await _consent(client, me, tid, kind="long_term"))["long_term"] is True
    banned = await _consent(client, me, tid, result="ban", kind="long_term")
    assert banned == {**banned, "long_term": False, "one_time_remaining": 0, "banned": True}
    assert (await client.get("/api/v1/me/subscriptions")).status_code == 401


async def test_the_message_templates_are_public_and_name_the_policy_template(client, live):
    r = await client.get("/api/v1/message-templates")
    assert r.status_code == 200
    items = r.json()["items"]
    assert all(set(i) == {"platform", "template_id", "topic", "kind", "fields"} for i in items)
    tid = live.settings.wechat_template_policy
    policy = [i for i in items if i["platform"] == "wechat" and i["template_id"] == tid]
    assert policy == [{"platform": "wechat", "template_id": tid, "topic": "policy",
                       "kind": "long_term", "fields": {"thing1": "thing", "thing2": "thing", "date3": "date"}}]
    assert {i["platform"] for i in items} == {"wechat", "alipay"}
    assert {i["kind"] for i in items} == {"one_time", "long_term"}
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/message-templates" in spec["paths"] and "/api/v1/me/subscriptions" in spec["paths"]

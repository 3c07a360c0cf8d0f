"""Policies through the admin API, campaigns through the in-process worker, pushes through the sandbox."""

from __future__ import annotations

import asyncio
import collections
import secrets

from api.citizens.models import PlatformAccount
from api.policies.models import Campaign, Policy, PolicyReach
from notifications.models import OutboxDelivery
from tests.factories import bearer, verified_citizen
from tests.policies.helpers import (
    create_policy,
    crowd,
    fresh_region,
    policy_admin,
    policy_inbox_count,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)
from tests.policies.test_push_limits import limits


async def test_a_bad_rule_is_422_with_its_path_and_makes_nothing(client):
    admin = await policy_admin(client)
    before = await client.get("/api/v1/admin/policies?limit=100", headers=admin)
    for rule, path in (({"all": [{"field": "shoe_size", "op": "=", "value": 40}]}, "rule.all[0].field"),
                       ({"all": [{"field": "age", "op": ">=", "value": "sixty"}]}, "rule.all[0].value"),
                       ({"any": [{"field": "hukou_region", "op": "<", "value": "430000"}]}, "rule.any[0].op")):
        r = await client.post("/api/v1/admin/policies", headers=admin, json={
            "title": "坏规则", "summary": "坏规则", "body": "坏规则", "mode": "notify", "rule": rule,
            "channels": ["inbox"]})
        assert r.status_code == 422, r.text
        assert path in r.json()["error"]["fields"], r.json()
    after = await client.get("/api/v1/admin/policies?limit=100", headers=admin)
    assert len(after.json()["items"]) == len(before.json()["items"])


async def test_citizens_cannot_reach_the_admin_routes(client):
    tokens, _ = await verified_citizen(client)
    r = await client.post("/api/v1/admin/policies", headers=bearer(tokens), json={})
    assert r.status_code == 401
    reviewer = await policy_admin(client)
    assert (await client.get("/api/v1/admin/campaigns/cmp_nope", headers=reviewer)).status_code == 404


async def test_preview_counts_and_masks_its_sample(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=12, settings=live.settings)
    policy = await create_policy(client, admin, rule=rule_for(region))
    assert (await client.post("/api/v1/admin/policies/pol_nope/preview", headers=admin)).status_code == 404
    r = await client.post(f"/api/v1/admin/policies/{policy['id']}/preview", headers=admin)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["matched"] == 12 and len(preview["sample"]) == 5 and preview["elapsed_ms"] >= 0
    for person in preview["sample"]:
        assert "*" in person["id_number"] and person["name"] == "测*"
        assert person["hukou_region"] == region


async def test_publishing_twice_with_one_key_starts_one_campaign(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=3, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox",))
    key = secrets.token_hex(8)
    first = await publish(client, admin, policy["id"], key=key)
    second = await publish(client, admin, policy["id"], key=key)
    assert first == second
    assert await Campaign.filter(policy_id=policy["id"]).count() == 1
    r = await client.post(f"/api/v1/admin/policies/{policy['id']}/publish",
                          headers={**admin, "Idempotency-Key": key}, json={"other": "body"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_conflict"
    await wait_for(client, admin, first)


async def test_a_campaign_over_thousands_reaches_each_person_once_per_channel(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=2000, settings=live.settings, consent=0.9)
    policy = await create_policy(client, admin, rule=rule_for(region))
    figures = await wait_for(client, admin, await publish(client, admin, policy["id"]), timeout=120)

    assert figures["matched"] == 2000 and figures["granted"] == 2000
    assert figures["sent"]["total"] == 2000 and figures["uncertain"] == 0 and figures["pending"] == 0, figures
    assert await PolicyReach.filter(policy_id=policy["id"], granted=True).count() == 2000
    # Counted over this crowd's addresses only: other tests message other users of the same sandbox.
    ours = {a for p in people for a in (p["openid"], p["alipay_uid"], p["phone"]) if a}
    wechat = collections.Counter(m["touser"] for m in await sandbox_messages(client, "wechat") if m["touser"] in ours)
    alipay = collections.Counter(to for m in await sandbox_messages(client, "alipay")
                                 if (to := m["to_user_id"] or m["to_open_id"]) in ours)
    sms = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in ours)
    # WeChat for those who consented; Alipay for Alipay users; SMS for everyone else (no account, or no consent).
    assert set(wechat) == {p["openid"] for p in people if p["openid"] and p["consent"]}
    assert set(alipay) >= {p["alipay_uid"] for p in people if p["alipay_uid"]}
    expected_sms = {p["phone"] for p in people if not p["alipay_uid"] and not (p["openid"] and p["consent"])}
    assert expected_sms <= set(sms)
    assert max(wechat.values()) == 1 and max(alipay.values()) == 1 and max(sms[p] for p in expected_sms) == 1
    with_account = [p["citizen_id"] for p in people if p["citizen_id"]]
    assert await policy_inbox_count(policy["id"], with_account) == len(with_account)
    assert figures["delivered"]["by_channel"]["inbox"] == len(with_account)
    assert figures["skipped"]["by_channel"]["wechat"]["no_consent"] == sum(
        1 for p in people if p["openid"] and not p["consent"])

    # Run again after new registry data: only the newly eligible are reached.
    newcomers = await crowd(client, region=region, count=5, settings=live.settings, wechat=0, alipay=0)
    again = await wait_for(client, admin, await publish(client, admin, policy["id"]))
    assert again["matched"] == 2005 and again["granted"] == 5 and again["sent"]["total"] == 5
    sms_after = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms"))
    assert all(sms_after[p["phone"]] == 1 for p in people + newcomers if p["phone"] in expected_sms | {
        n["phone"] for n in newcomers})


async def test_43101_falls_back_to_the_next_channel_and_an_opted_out_channel_is_never_used(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, person = await verified_citizen(client, hukou_region=region)
    me = bearer(tokens)
    # One-time consent for the policy template, but WeChat answers 43101 (the user refused after all).
    r = await client.post("/api/v1/subscriptions", headers=me, json={
        "platform": "wechat", "template_id": live.settings.wechat_template_policy, "result": "accept",
        "kind": "one_time"})
    assert r.status_code == 200 and r.json()["one_time_remaining"] == 1
    citizen_id = tokens["citizen"]["id"]
    openid = (await PlatformAccount.get(citizen_id=citizen_id, platform="wechat")).platform_uid
    assert (await client.post("/sandbox/wechat/refusals", json={"openids": [openid]})).status_code == 200
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"))
    figures = await wait_for(client, admin, await publish(client, admin, policy["id"]))
    rows = {d.channel: d for d in await OutboxDelivery.filter(citizen_id=citizen_id, campaign_id=figures["id"])}
    assert rows["wechat"].status == "failed" and rows["wechat"].reason == "user_refused"
    assert rows["sms"].status == "sent" and rows["inbox"].status == "delivered"
    assert person["phone"] in {m["phone"] for m in await sandbox_messages(client, "sms")}

    # Opting out of SMS (and WeChat): the next policy reaches this citizen in the inbox only.
    r = await client.put("/api/v1/me/notification-preferences", headers=me, json={"channels": ["inbox"]})
    assert r.status_code == 422  # the inbox cannot be opted out of; nothing changed
    assert (await client.get("/api/v1/me/notification-preferences", headers=me)).json() == {
        "channels": [], "topics": [], "sms_for_all_topics": False}
    r = await client.put("/api/v1/me/notification-preferences", headers=me, json={"channels": ["sms", "wechat"]})
    assert r.status_code == 200 and r.json() == {"channels": ["sms", "wechat"], "topics": [],
                                                 "sms_for_all_topics": False}
    sms_before = len(await sandbox_messages(client, "sms"))
    second = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"),
                                 title="第二项政策")
    figures = await wait_for(client, admin, await publish(client, admin, second["id"]))
    channels_used = {d.channel for d in await OutboxDelivery.filter(citizen_id=citizen_id, campaign_id=figures["id"])}
    assert channels_used == {"inbox"}
    assert len(await sandbox_messages(client, "sms")) == sms_before


async def test_a_citizen_sees_only_their_own_grants_and_inbox(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    mine, _ = await verified_citizen(client, hukou_region=region)
    other, _ = await verified_citizen(client, hukou_region=fresh_region())
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox",))
    await wait_for(client, admin, await publish(client, admin, policy["id"]))
    grants = (await client.get("/api/v1/grants", headers=bearer(mine))).json()["items"]
    assert [(g["policy_id"], g["title"], g["status"]) for g in grants] == [(policy["id"], "高龄老人津贴", "active")]
    assert (await client.get("/api/v1/grants", headers=bearer(other))).json()["items"] == []
    inbox = (await client.get("/api/v1/inbox", headers=bearer(mine))).json()["items"]
    # An auto grant's message opens the citizen's own grant.
    message = next(m for m in inbox if m["ref"] == {"kind": "grant", "id": grants[0]["id"]})
    assert "已为您办理：高龄津贴 100元/月" in message["body"]
    assert (await client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(other))).status_code == 404
    assert all(m["ref"] != message["ref"]
               for m in (await client.get("/api/v1/inbox", headers=bearer(other))).json()["items"])
    assert (await client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(mine))).status_code == 200
    campaign = await Campaign.get(policy_id=policy["id"])
    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign.id}", headers=admin)).json()
    assert figures["read"] == 1


async def test_the_calculator_explains_each_condition_and_names_missing_data(client):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, _ = await verified_citizen(client, hukou_region=region, born="19400101")
    rule = {"all": [{"field": "hukou_region", "op": "=", "value": region}, {"field": "age", "op": ">=", "value": 80},
                    {"field": "disability_level", "op": "in", "value": ["一级", "二级"]}]}
    policy = await create_policy(client, admin, rule=rule, channels=("inbox",), title="重度残疾老人补贴")
    await wait_for(client, admin, await publish(client, admin, policy["id"]))
    r = await client.get("/api/v1/policies/eligible", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["items"] if i["policy_id"] == policy["id"])
    assert item["eligible"] is False
    region_reason, age_reason, disability_reason = item["reasons"]
    assert region_reason["passed"] and region_reason["actual"] == region
    assert age_reason["passed"] and age_reason["actual"] >= 80
    assert disability_reason == {**disability_reason, "passed": False, "missing_dataset": "disability",
                                 "actual": None}
    assert item["correction"]["datasets"] == ["disability"]
    r = await client.post("/api/v1/registry-corrections", headers=bearer(tokens),
                          json={"dataset": "disability", "policy_id": policy["id"],
                                "message": "我持有残疾人证，请补录"})
    assert r.status_code == 201, r.text
    listed = (await client.get("/api/v1/admin/registry-corrections", headers=admin)).json()["items"]
    assert any(c["id"] == r.json()["id"] and c["message"] == "我持有残疾人证，请补录" for c in listed)
    low, _ = await verified_citizen(client)
    r = await client.post("/api/v1/registry-corrections", headers=bearer(low),
                          json={"dataset": "nope", "message": "x"})
    assert r.status_code == 422


async def test_pause_resume_and_cancel(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=300, settings=live.settings, wechat=0, alipay=0)
    await client.put("/sandbox/sms/faults", json={"latency_ms": 400})
    try:
        policy = await create_policy(client, admin, rule=rule_for(region), channels=("sms",))
        # A request per message, the whole time: the campaign runs long enough to pause. (Ended at the resume, the
        # limit let the last rows go 100 to a request, and the campaign sometimes finished before the cancel.)
        with limits(live, sms_numbers_per_send=1):
            campaign_id = await publish(client, admin, policy["id"])
            await wait_for(client, admin, campaign_id, status="running")
            r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/pause", headers=admin)
            assert r.status_code == 200 and r.json()["status"] == "paused"
            assert (await client.post(f"/api/v1/admin/campaigns/{campaign_id}/pause",
                                      headers=admin)).status_code == 409
            r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/resume", headers=admin)
            assert r.status_code == 200 and r.json()["status"] == "running"
            r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/cancel", headers=admin)
            assert r.status_code == 200 and r.json()["status"] == "cancelled"
            for _ in range(100):  # the window in flight at the cancel finishes; nothing after it starts
                if not await OutboxDelivery.filter(campaign_id=campaign_id,
                                                   status__in=("claimed", "sending")).exists():
                    break
                await asyncio.sleep(0.1)
    finally:
        await client.delete("/sandbox/sms/faults")
    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)).json()
    statuses = collections.Counter(d.status for d in await OutboxDelivery.filter(campaign_id=campaign_id))
    assert set(statuses) <= {"sent", "cancelled"} and statuses["cancelled"] > 0, statuses
    assert figures["sent"]["total"] == statuses["sent"] < 300


async def test_a_one_time_consent_is_spent_on_one_message(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, person = await verified_citizen(client, hukou_region=region)
    citizen_id = tokens["citizen"]["id"]
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": live.settings.wechat_template_policy, "result": "accept",
        "kind": "one_time"})
    assert r.status_code == 200 and r.json()["one_time_remaining"] == 1
    first = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms"), title="第一项")
    second = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms"), title="第二项")
    used = []
    for policy in (first, second):
        figures = await wait_for(client, admin, await publish(client, admin, policy["id"]))
        used.append({(d.channel, d.status, d.reason)
                     for d in await OutboxDelivery.filter(citizen_id=citizen_id, campaign_id=figures["id"])})
    inbox = ("inbox", "delivered", None)  # the inbox always gets it, whatever the channels
    assert used[0] == {inbox, ("wechat", "sent", None)}
    assert used[1] == {inbox, ("wechat", "skipped", "no_consent"), ("sms", "sent", None)}
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": live.settings.wechat_template_policy, "result": "ban"})
    assert r.status_code == 200 and r.json() == {**r.json(), "one_time_remaining": 0, "banned": True}
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={"platform": "qq", "result": "accept"})
    assert r.status_code == 422


async def test_a_campaign_that_cannot_run_fails_at_once_with_its_reason(client, live):
    admin = await policy_admin(client)
    policy = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    # The stored rule names an attribute the registry no longer has (retired after the policy was drafted).
    await Policy.filter(id=policy["id"]).update(rule={"all": [{"field": "retired_field", "op": "=", "value": 1}]})
    campaign_id = await publish(client, admin, policy["id"])
    figures = await wait_for(client, admin, campaign_id, status="failed", timeout=30)
    assert figures["failure_reason"] == "validation_failed" and figures["finished_at"] is not None, figures
    assert figures["matched"] is None and figures["pending"] == 0
    # Not an outage: tried once, not retried, and not left running for the watchdog to start again.
    runs = [r for r in await live.app.ctx.deps.jobs.pool.all_job_results()
            if r.function == "run_campaign" and r.args == (campaign_id,)]
    assert [(r.success, r.job_try) for r in runs] == [(False, 1)]
    await asyncio.sleep(1.5)
    assert (await Campaign.get(id=campaign_id)).status == "failed"


async def test_a_campaign_still_matching_shows_its_deliveries_as_they_stand(client, live):
    # The figures come from the tally the database keeps (notifications/tally.py), so reading them costs the same
    # at any size and a console may poll a campaign while it matches: it sees the rows written so far.
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=4, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("sms",))
    campaign_id = await publish(client, admin, policy["id"])
    done = await wait_for(client, admin, campaign_id)
    assert done["sent"]["total"] == 4 and done["stage"] != "match"
    finished = await Campaign.get(id=campaign_id)
    try:
        # As if its matching were still writing: running, in the match stage, with its rows.
        await Campaign.filter(id=campaign_id).update(stage="match", status="running")
        one = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)).json()
        listed = (await client.get(f"/api/v1/admin/campaigns?policy_id={policy['id']}", headers=admin)).json()
    finally:
        await Campaign.filter(id=campaign_id).update(stage=finished.stage, status=finished.status)
    assert one["stage"] == "match" and one["sent"]["total"] == 4 and one["pending"] == 0
    assert [c["sent"]["total"] for c in listed["items"]] == [4]

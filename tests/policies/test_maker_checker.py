"""Maker-checker: a publish whose audience is over the threshold waits for another policy admin's approval."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

from api.core.models import AuditLog
from api.policies import campaigns
from api.policies.models import Campaign, PolicyReach
from notifications.models import OutboxDelivery
from tests.applications.conftest import staff_headers
from tests.policies.helpers import (
    create_policy,
    crowd,
    fresh_region,
    maker_checker,
    patch_policy,
    policy_admin,
    rule_for,
    wait_for,
)


async def _publish(client, admin, policy_id: str, *, expect: int = 202) -> dict:
    r = await client.post(f"/api/v1/admin/policies/{policy_id}/publish",
                          headers={**admin, "Idempotency-Key": secrets.token_hex(8)}, json={})
    assert r.status_code == expect, r.text
    return r.json()


async def _campaign(client, admin, campaign_id: str) -> dict:
    r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def _checker(client) -> dict:
    return await staff_headers(client, roles=("policy_admin",), depts=(), who="checker")


async def test_a_publish_over_the_threshold_waits_for_another_admin(client, live):
    maker, checker = await policy_admin(client), await _checker(client)
    region = fresh_region()
    await crowd(client, region=region, count=3, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, maker, rule=rule_for(region), channels=("sms",))
    with maker_checker(live, 2):
        answer = await _publish(client, maker, policy["id"])
        assert answer["status"] == "awaiting_approval" and answer["matched"] == 3, answer
        campaign_id = answer["campaign_id"]
        await asyncio.sleep(0.5)  # time for a job, were one queued
        waiting = await _campaign(client, maker, campaign_id)
        assert waiting["status"] == "awaiting_approval" and waiting["matched"] == 3
        assert waiting["approved_by"] is None and waiting["approved_at"] is None and waiting["started_at"] is None
        assert await PolicyReach.filter(policy_id=policy["id"]).count() == 0
        assert await OutboxDelivery.filter(campaign_id=campaign_id).count() == 0
        draft = (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=maker)).json()
        assert draft["status"] == "draft"  # published only once approved
        listed = await client.get("/api/v1/admin/campaigns", headers=maker, params={"status": "awaiting_approval"})
        assert listed.status_code == 200 and campaign_id in [c["id"] for c in listed.json()["items"]]

        r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/approve", headers=maker)
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "maker_checker" and r.json()["error"]["message"] == "须由另一名管理员批准"
        reviewer = await staff_headers(client, roles=("reviewer",), depts=("gongan",))
        assert (await client.post(f"/api/v1/admin/campaigns/{campaign_id}/approve",
                                  headers=reviewer)).status_code == 403
        assert (await _campaign(client, maker, campaign_id))["status"] == "awaiting_approval"

        r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/approve", headers=checker)
        assert r.status_code == 200, r.text
        assert r.json()["status"] in ("queued", "running", "completed")
        figures = await wait_for(client, maker, campaign_id)
    assert figures["granted"] == 3 and figures["sent"]["total"] == 3, figures
    assert figures["approved_by"] and figures["approved_by"] != figures["created_by"] and figures["approved_at"]
    entry = await AuditLog.filter(action="campaign.approve", target_id=campaign_id).first()
    assert entry is not None and entry.actor_id == figures["approved_by"]
    assert entry.detail["maker"] == figures["created_by"]
    assert (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=maker)).json()["status"] == "published"
    r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/approve", headers=checker)
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert (await client.post("/api/v1/admin/campaigns/cmp_nope/approve", headers=checker)).status_code == 404


async def test_a_publish_at_or_under_the_threshold_starts_at_once(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=2, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox",))
    with maker_checker(live, 2):
        answer = await _publish(client, admin, policy["id"])
        assert answer["status"] == "queued" and answer["matched"] == 2, answer
        figures = await wait_for(client, admin, answer["campaign_id"])
    assert figures["approved_by"] is None and figures["matched"] == 2


async def test_an_awaiting_campaign_is_never_started_by_itself_and_can_be_cancelled(client, live):
    admin, checker = await policy_admin(client), await _checker(client)
    region = fresh_region()
    await crowd(client, region=region, count=1, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox",))
    with maker_checker(live, 0):
        campaign_id = (await _publish(client, admin, policy["id"]))["campaign_id"]
        # Long enough ago that the watchdog would take a queued one for a lost enqueue.
        await Campaign.filter(id=campaign_id).update(created_at=dt.datetime.now(dt.timezone.utc)
                                                     - dt.timedelta(hours=1))
        await campaigns.watchdog(deps=live.app.ctx.deps)
        await asyncio.sleep(0.5)
        assert (await _campaign(client, admin, campaign_id))["status"] == "awaiting_approval"
        assert await PolicyReach.filter(policy_id=policy["id"]).count() == 0

        # What the approver sees cannot change under them, nor be published twice.
        error = (await patch_policy(client, admin, policy["id"], {"title": "偷改标题"}, expect=409))["error"]
        assert error["code"] == "campaign_active"
        r = await client.post(f"/api/v1/admin/policies/{policy['id']}/publish",
                              headers={**admin, "Idempotency-Key": secrets.token_hex(8)}, json={})
        assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_active"
        assert (await client.post(f"/api/v1/admin/campaigns/{campaign_id}/pause", headers=admin)).status_code == 409
        assert (await client.post(f"/api/v1/admin/campaigns/{campaign_id}/resume", headers=admin)).status_code == 409

        r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/cancel", headers=checker)
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        r = await client.post(f"/api/v1/admin/campaigns/{campaign_id}/approve", headers=checker)
        assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    assert await PolicyReach.filter(policy_id=policy["id"]).count() == 0
    assert (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=admin)).json()["status"] == "draft"
    await patch_policy(client, admin, policy["id"], {"title": "取消后可改"})


async def test_approve_is_documented(client):
    op = (await client.get("/openapi.json")).json()["paths"]["/api/v1/admin/campaigns/{campaign_id}/approve"]["post"]
    assert {"200", "401", "403", "404", "409"} <= set(op["responses"]) and "maker_checker" in op["summary"]

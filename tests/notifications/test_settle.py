"""Uncertain SMS rows settle through the provider's delivery report: taken ones are sent, never resent; ones never
taken are resent once; unknown ones are told in the inbox, held for a person without an account until they log in
and verify their real name. Every person granted something is told somewhere, and the figures count how."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets

from api.core import rawsql
from api.core.ids import new_id
from api.policies import campaigns, jobs
from notifications import outbox, settle
from notifications.models import OutboxDelivery
from tests.factories import bearer, random_phone, wechat_login
from tests.notifications.helpers import inbox, sms_to
from tests.policies.helpers import create_policy, crowd, fresh_region, policy_admin, publish, rule_for, wait_for


@contextlib.asynccontextmanager
async def sms_faults(client, faults: dict):
    """Faults injected into the SMS sandbox for the block."""
    r = await client.put("/sandbox/sms/faults", json=faults)
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        await client.delete("/sandbox/sms/faults")


async def _campaign_with_lost_answers(client, live, *, fault: str, count: int) -> tuple[dict, list[dict], str]:
    """An auto-grant campaign (inbox and SMS) over `count` people, half with an account, every SMS answered with
    `fault`: (admin, people, campaign id), once the campaign is done and its SMS rows are uncertain."""
    admin = await policy_admin(client)
    region = fresh_region()
    people = [*await crowd(client, region=region, count=count // 2, settings=live.settings, wechat=1, alipay=0,
                           consent=0),
              *await crowd(client, region=region, count=count - count // 2, settings=live.settings, wechat=0,
                           alipay=0)]
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("inbox", "sms"))
    async with sms_faults(client, {"fail": fault}):
        campaign_id = await publish(client, admin, policy["id"])
        figures = await wait_for(client, admin, campaign_id, timeout=60)
    assert figures["granted"] == count and figures["uncertain"] + figures["uncertain_settled"] == count, figures
    return admin, people, campaign_id


async def _figures(client, admin: dict, campaign_id: str) -> dict:
    r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def _states(campaign_id: str) -> list[tuple]:
    return sorted(await OutboxDelivery.filter(campaign_id=campaign_id).values_list("id", "status", "reason"))


async def test_sends_whose_answer_was_lost_are_found_taken_and_never_sent_again(client, live):
    admin, people, campaign_id = await _campaign_with_lost_answers(client, live, fault="lost_answer", count=4)

    await campaigns.settle(deps=live.app.ctx.deps)
    figures = await _figures(client, admin, campaign_id)
    assert figures["uncertain"] == 0 and figures["uncertain_settled"] == 4 and figures["told_in_inbox_only"] == 0
    assert figures["sent"]["by_channel"].get("sms", 0) + figures["delivered"]["by_channel"].get("sms", 0) == 4
    for p in people:
        assert len(await sms_to(client, p["phone"])) == 1

    before = await _states(campaign_id)
    await campaigns.settle(deps=live.app.ctx.deps, at=outbox.now() + dt.timedelta(days=1))
    assert await _states(campaign_id) == before
    for p in people:
        assert len(await sms_to(client, p["phone"])) == 1


async def test_sends_never_taken_are_resent_once_after_the_settle_window(client, live):
    admin, people, campaign_id = await _campaign_with_lost_answers(client, live, fault="lost_request", count=3)
    for p in people:
        assert await sms_to(client, p["phone"]) == []

    await campaigns.settle(deps=live.app.ctx.deps)  # not reported yet, but inside the window: it may still come
    assert (await _figures(client, admin, campaign_id))["uncertain"] == 3

    later = outbox.now() + dt.timedelta(seconds=settle.SETTLE_WINDOW_SECONDS + 1)
    await campaigns.settle(deps=live.app.ctx.deps, at=later)
    figures = await _figures(client, admin, campaign_id)
    assert figures["uncertain"] == 0 and figures["uncertain_settled"] == 3 and figures["sent"]["by_channel"]["sms"] == 3
    before = await _states(campaign_id)
    await campaigns.settle(deps=live.app.ctx.deps, at=later + dt.timedelta(days=1))
    assert await _states(campaign_id) == before
    for p in people:
        sent = await sms_to(client, p["phone"])
        assert len(sent) == 1 and sent[0]["out_id"].startswith("dlv_")


async def test_unknown_sends_are_told_in_the_inbox_even_to_someone_who_logs_in_later(client, live):
    admin, people, campaign_id = await _campaign_with_lost_answers(client, live, fault="lost_request", count=4)
    without = [p for p in people if not p["citizen_id"]]
    with_account = [p for p in people if p["citizen_id"]]

    give_up = outbox.now() + dt.timedelta(seconds=settle.GIVE_UP_SECONDS + 1)
    async with sms_faults(client, {"fail": "down"}):  # the delivery report cannot be had
        await campaigns.settle(deps=live.app.ctx.deps, at=give_up)
    figures = await _figures(client, admin, campaign_id)
    assert figures["told_in_inbox_only"] == 4 and figures["uncertain"] == 4 and figures["uncertain_settled"] == 0
    assert figures["inbox_held"] == len(without)
    assert figures["delivered"]["by_channel"]["inbox"] == len(with_account)
    for p in people:  # not resent: it may have gone out
        assert await sms_to(client, p["phone"]) == []
    before = await _states(campaign_id)
    await campaigns.settle(deps=live.app.ctx.deps, at=give_up + dt.timedelta(days=1))
    assert await _states(campaign_id) == before

    person = without[0]
    tokens = await wechat_login(client)
    assert await inbox(client, tokens) == []
    r = await client.post("/api/v1/me/real-name", json={"name": "测试", "id_number": person["id_number"]},
                          headers=bearer(tokens))
    assert r.status_code == 200, r.text
    (message,) = await inbox(client, tokens)
    assert message["ref"]["kind"] == "grant"
    r = await client.get(f"/api/v1/grants/{message['ref']['id']}", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    figures = await _figures(client, admin, campaign_id)
    assert figures["inbox_held"] == len(without) - 1
    assert figures["delivered"]["by_channel"]["inbox"] == len(with_account) + 1


async def test_an_event_sms_lost_with_its_worker_is_resent_once_after_the_reclaim(client, live):
    phone = random_phone()
    tokens = await wechat_login(client, phone=phone)
    lapsed = outbox.now() - dt.timedelta(seconds=settle.SETTLE_WINDOW_SECONDS + 60)
    event_key = f"settle:{secrets.token_hex(6)}"
    payload = {"kind": "application_approved", "ref": {"kind": "application", "id": "a1"}, "chain": ["sms"],
               "params": {"item_name": "居住证办理", "application_no": "app_settle", "at": "2026-11-30 10:00"},
               "page": None, "title": "办件已通过：居住证办理", "event": event_key}
    row_id = new_id("dlv")
    # As a job worker killed mid-send leaves it (raw SQL: on SQLite times compare as the text the lane writes).
    await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
        "claim_id, lease_until, sent_at, created_at) VALUES (?, ?, ?, 'sms', 'application', ?, 'sending', 0, "
        "'clm_dead_worker', ?, ?, ?)",
        [row_id, f"{event_key}:sms", tokens["citizen"]["id"], json.dumps(payload), lapsed, lapsed, lapsed])

    await campaigns.watchdog(deps=live.app.ctx.deps)  # reclaims it as uncertain and queues a settle run
    await jobs.settle_uncertain_sms({"deps": live.app.ctx.deps})  # (the queued run may be first: either settles)
    row = await OutboxDelivery.get(id=row_id)
    assert (row.status, row.reason) == ("sent", "resent")
    await jobs.settle_uncertain_sms({"deps": live.app.ctx.deps})
    assert (await OutboxDelivery.get(id=row_id)).status == "sent"
    sent = await sms_to(client, phone)
    assert len(sent) == 1 and sent[0]["out_id"] == row_id

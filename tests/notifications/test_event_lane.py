"""The event lane (notifications/events.py): passing failures retried with backoff, a bounded retry time then
`expired` and the next channel, the sweeper's recovery of rows a dead worker left, an event going out while a
campaign is still sending, and a lane beside a campaign's senders leaving fresh events to a free lane."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets

from tortoise.transactions import in_transaction

from api.citizens import registry
from api.citizens.models import PlatformAccount
from api.core import rawsql
from api.core.ids import new_id
from notifications import events, outbox, service, templates
from notifications.models import InboxMessage, OutboxDelivery
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, submit
from tests.factories import bearer, random_id_number, random_phone, verified_citizen
from tests.policies.helpers import (
    create_policy,
    fresh_region,
    policy_admin,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)

APPROVED = "application_approved"  # important: SMS takes it when WeChat cannot
PARAMS = {"item_name": "居住证办理", "application_no": "app_lane1", "at": "2026-11-30 10:00"}
WAIT_SECONDS = 30.0


async def _until(probe, *, timeout: float = WAIT_SECONDS, every: float = 0.05):
    """Call `probe` until it answers something truthy; that answer (AssertionError on timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if answer := await probe():
            return answer
        assert asyncio.get_running_loop().time() < deadline, f"gave up after {timeout:.0f} s"
        await asyncio.sleep(every)


async def _on_wechat(client, live, kind: str = APPROVED) -> tuple[dict, dict, str, str]:
    """A level-2 citizen on WeChat with one one-time credit for `kind`'s template: (tokens, registry person, openid,
    template id)."""
    tokens, person = await verified_citizen(client)
    template_id = templates.of(live.app.ctx.deps).template_id(kind, "wechat")
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": template_id, "result": "accept", "kind": "one_time"})
    assert r.status_code == 200 and r.json()["one_time_remaining"] == 1, r.text
    openid = (await PlatformAccount.get(citizen_id=tokens["citizen"]["id"], platform="wechat")).platform_uid
    return tokens, person, openid, template_id


async def _notify(citizen_id: str, kind: str = APPROVED) -> str:
    event_key = f"lane:{secrets.token_hex(6)}"
    async with in_transaction():
        assert await service.notify_citizen(citizen_id=citizen_id, kind=kind, params=PARAMS,
                                            ref={"kind": "application", "id": "app_lane1"}, event_key=event_key)
    return event_key


async def _row(event_key: str, channel: str) -> OutboxDelivery | None:
    return await OutboxDelivery.get_or_none(dedupe_key=f"{event_key}:{channel}")


async def _wechat_to(client, openid: str, template_id: str) -> int:
    return sum(1 for m in await sandbox_messages(client, "wechat")
               if m["touser"] == openid and m["template_id"] == template_id)


async def _credits(client, tokens, template_id: str) -> int:
    r = await client.get("/api/v1/me/subscriptions", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return next(s["one_time_remaining"] for s in r.json()["items"] if s["template_id"] == template_id)


async def _set_fault(client, platform: str, **fault) -> None:
    r = await client.put(f"/sandbox/{platform}/faults", json=fault)
    assert r.status_code in (200, 204), r.text


async def _registry_people(region: str, count: int) -> set[str]:
    """`count` people of `region` in the population registry, with no account (a campaign reaches them by SMS);
    their phones. Distinct id numbers: at a few thousand, random ones collide now and then."""
    id_numbers: set[str] = set()
    while len(id_numbers) < count:
        id_numbers.add(random_id_number())
    rows = [{"id_number": n, "name": "测试", "gender": "", "birth_date": "", "phone": random_phone(),
             "hukou_region": region, "address": "测试路"} for n in sorted(id_numbers)]
    report = await registry.import_population(rows)
    assert report.inserted == count, report.as_dict()
    return {r["phone"] for r in rows}


async def test_a_passing_failure_is_retried_with_backoff_and_sent_once_when_it_clears(client, live):
    tokens, _, openid, template_id = await _on_wechat(client, live)
    await _set_fault(client, "wechat", fail="busy")  # WeChat -1 系统繁忙, on every call until cleared
    event_key = await _notify(tokens["citizen"]["id"])

    async def failed_twice():
        row = await _row(event_key, "wechat")
        return row if row and row.attempts >= 2 else None

    failing = await _until(failed_twice)
    assert failing.status in ("queued", "claimed", "sending") and failing.last_error == "upstream_unavailable"
    assert failing.retry_until is not None and failing.next_attempt_at is not None
    assert await _wechat_to(client, openid, template_id) == 0
    assert await OutboxDelivery.filter(dedupe_key__startswith=event_key).exclude(channel__in=("inbox", "wechat")) \
        .count() == 0, "a passing failure moved to the next channel"
    await client.delete("/sandbox/wechat/faults")

    async def sent():
        row = await _row(event_key, "wechat")
        return row if row.status == "sent" else None

    row = await _until(sent)
    failures = row.attempts - 1
    assert failures >= 2 and row.retry_until == failing.retry_until  # the retry time counts from the first failure
    # Each retry waited twice as long as the one before (2 s, 4 s ...), from the first failure on.
    first_failure = row.retry_until - dt.timedelta(seconds=live.app.ctx.deps.settings.delivery_retry_seconds)
    assert row.next_attempt_at - first_failure >= dt.timedelta(seconds=2 ** (failures + 1) - 2)
    assert await _wechat_to(client, openid, template_id) == 1
    assert await _credits(client, tokens, template_id) == 0
    assert await InboxMessage.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    assert {(r.channel, r.status) for r in await OutboxDelivery.filter(dedupe_key__startswith=event_key)} == {
        ("inbox", "delivered"), ("wechat", "sent")}


async def test_past_the_retry_time_the_row_expires_and_the_next_channel_takes_the_message(client, live):
    tokens, person, openid, template_id = await _on_wechat(client, live)
    settings = live.app.ctx.deps.settings
    saved = settings.delivery_retry_seconds
    settings.delivery_retry_seconds = 1  # the second failure, 2 s after the first, is past it
    try:
        await _set_fault(client, "wechat", fail="busy")
        event_key = await _notify(tokens["citizen"]["id"])

        async def sms_done():
            row = await _row(event_key, "sms")
            return row if row and row.status not in ("queued", "claimed", "sending") else None

        sms = await _until(sms_done)
    finally:
        settings.delivery_retry_seconds = saved
        await client.delete("/sandbox/wechat/faults")
    wechat = await _row(event_key, "wechat")
    assert (wechat.status, wechat.reason, wechat.attempts) == ("expired", "retry_time_exhausted", 2)
    assert sms.status == "sent"
    assert await _wechat_to(client, openid, template_id) == 0
    sms_template = templates.of(live.app.ctx.deps).template_id(APPROVED, "sms")
    assert [(m["phone"], m["template_code"]) for m in await sandbox_messages(client, "sms")
            if m["phone"] == person["phone"]] == [(person["phone"], sms_template)]
    assert await _credits(client, tokens, template_id) == 1  # nothing went out on WeChat: the credit is still there
    r = await client.get("/api/v1/me/messages", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    assert sorted((i["channel"], i["status"]) for i in r.json()["items"]) == [
        ("inbox", "delivered"), ("sms", "delivered"), ("wechat", "expired")]


async def test_the_sweeper_requeues_a_lapsed_claim_once_and_settles_a_lapsed_send_as_uncertain(client, live):
    lapsed = outbox.now() - dt.timedelta(minutes=5)
    people = []
    for status in ("claimed", "sending"):  # as a worker killed holding them leaves them
        tokens, _, openid, template_id = await _on_wechat(client, live)
        event_key = f"lane:{secrets.token_hex(6)}"
        payload = {"kind": APPROVED, "params": PARAMS, "page": None, "ref": {"kind": "application", "id": "a1"},
                   "chain": ["wechat", "sms"], "title": "办件已通过：居住证办理", "event": event_key}
        # Written the way the lane writes its rows (raw SQL: on SQLite times compare as the text it writes).
        await rawsql.execute(
            "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
            "claim_id, lease_until, sent_at, created_at) VALUES (?, ?, ?, 'wechat', 'application', ?, ?, 0, "
            "'clm_dead_worker', ?, ?, ?)",
            [new_id("dlv"), f"{event_key}:wechat", tokens["citizen"]["id"], json.dumps(payload), status, lapsed,
             lapsed if status == "sending" else None, lapsed])
        people.append((tokens, openid, template_id, event_key))
    (requeued_tokens, requeued_openid, template_id, requeued_key), (lost_tokens, lost_openid, _, lost_key) = people

    async def settled():  # the watchdog runs every 5 s
        a, b = await _row(requeued_key, "wechat"), await _row(lost_key, "wechat")
        return (a, b) if a.status == "sent" and b.status == "uncertain" else None

    requeued, lost = await _until(settled)
    assert requeued.attempts == 1 and requeued.claim_id is None
    assert (lost.reason, lost.sent_at) == ("worker_lost_mid_send", lapsed)  # its hand-off time stays
    assert await _wechat_to(client, requeued_openid, template_id) == 1
    await asyncio.sleep(2 * live.app.ctx.deps.settings.event_poll_seconds + 0.5)  # a few more rounds of the lane
    assert await _wechat_to(client, lost_openid, template_id) == 0
    assert await _credits(client, lost_tokens, template_id) == 1  # never sent, never spent
    assert await _wechat_to(client, requeued_openid, template_id) == 1
    assert await OutboxDelivery.filter(dedupe_key__startswith=lost_key).count() == 1  # no fallback to SMS either
    r = await client.get("/api/v1/me/messages", headers=bearer(lost_tokens))
    assert [(i["channel"], i["status"]) for i in r.json()["items"]] == [("wechat", "uncertain")]


async def test_an_event_queued_while_a_campaign_sends_goes_out_before_the_campaign_ends(client, live):
    people = 3000
    region = fresh_region()
    phones = await _registry_people(region, people)
    tokens, _, openid, template_id = await _on_wechat(client, live, kind="application_accepted")
    application = await submit(client, tokens, await body_a(client, tokens))
    clerk = await staff_headers(client)
    admin = await policy_admin(client)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("sms",), title="车道测试津贴")
    await _set_fault(client, "sms", latency_ms=150)  # the campaign takes a while: 30 windows of 50 calls per sender
    campaign_id = await publish(client, admin, policy["id"])

    async def figures():
        r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
        assert r.status_code == 200, r.text
        return r.json()

    async def sending():
        f = await figures()
        return f if f["sent"]["total"] > 0 else None

    await _until(sending, timeout=60)
    await act(client, clerk, application["id"], "accept")
    await _until(lambda: _wechat_to(client, openid, template_id), timeout=60)
    meanwhile = await figures()
    assert meanwhile["status"] == "running" and meanwhile["pending"] > 0, meanwhile
    await client.delete("/sandbox/sms/faults")

    done = await wait_for(client, admin, campaign_id, timeout=180)
    assert done["sent"]["total"] == people and done["uncertain"] == 0, done
    received = [m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in phones]
    assert len(received) == people and set(received) == phones
    assert await _wechat_to(client, openid, template_id) == 1
    event_rows = await OutboxDelivery.filter(citizen_id=tokens["citizen"]["id"], campaign_id=None)
    # The submission and the acceptance each wrote their inbox message; only the acceptance has a platform one.
    assert sorted((r.channel, r.status) for r in event_rows) == [
        ("inbox", "delivered"), ("inbox", "delivered"), ("wechat", "sent")]


async def test_a_busy_lane_leaves_fresh_events_to_a_free_lane_and_takes_them_once_they_have_waited(client, live):
    deps = live.app.ctx.deps
    server_lane = live.app.ctx.inline_worker.events
    await server_lane.stop()  # this test drives the lanes itself
    try:
        busy, free = events.EventSender(deps), events.EventSender(deps)
        # As if the busy lane's process ran a campaign's senders and the free one's none.
        assert not await busy.leave_fresh(busy=True), "alone, a busy lane must take fresh rows itself"
        assert not await free.leave_fresh(busy=False)
        assert await busy.leave_fresh(busy=True)
        tokens, _, openid, template_id = await _on_wechat(client, live)
        event_key = await _notify(tokens["citizen"]["id"])
        assert await events.send_due(deps, leave_fresh=True) == 0
        assert (await _row(event_key, "wechat")).status == "queued"
        await asyncio.sleep(events.FRESH_SECONDS)  # a row the free lane did not take in time is anybody's
        assert await events.send_due(deps, leave_fresh=True) == 1
        assert (await _row(event_key, "wechat")).status == "sent"
        assert await _wechat_to(client, openid, template_id) == 1
        await free.stop()
        assert not await busy.leave_fresh(busy=True), "a stopped lane still counted as free"
    finally:
        server_lane.start()

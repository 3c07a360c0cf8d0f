"""A push worker killed with SIGKILL mid-campaign, alone or amid event messages: the other workers finish the
campaign and the events; nothing is lost or sent twice."""

import asyncio
import collections
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tortoise.transactions import in_transaction

from api.citizens.models import Citizen, PlatformAccount
from api.core import pii
from api.core.guards import Actor
from api.core.queue import JobQueue, create_job_queue
from api.policies import service as policies
from notifications import service as notifications
from notifications import templates
from notifications.models import InboxMessage, OutboxDelivery, Subscription
from tests.factories import random_phone
from tests.policies.helpers import crowd, fresh_region, rule_for, sandbox_messages

ROOT = Path(__file__).resolve().parents[2]
CONCURRENCY = 10
PER_SEND = 2  # numbers to an SMS request: a crash may leave a whole request's rows uncertain
PEOPLE = 800
STALL_SECONDS = 90  # a campaign that sends nothing for this long is stuck, not slow
EVENTS = 100
EVENT_BATCH = 10  # the event lane's batch: all of it is in flight at once, so the most a crash leaves uncertain
EVENT_KIND = "application_approved"  # important: SMS takes it from a citizen WeChat cannot reach
FINAL = {"sent", "delivered", "failed", "skipped", "uncertain", "expired"}

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="worker processes share the queue through Redis; the embedded store is per process")


def _worker(live, queue: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATA_DIR": str(live.settings.data_dir), "DATABASE_URL": live.settings.database_url,
           "REDIS_URL": live.settings.redis_url, "PUBLIC_BASE_URL": live.base_url, "JOB_QUEUE": queue,
           "PUSH_CONCURRENCY": str(CONCURRENCY), "PUSH_SENDERS": "1", "DELIVERY_LEASE_SECONDS": "8",
           "PUSH_BATCH_SIZE": "100", "SMS_NUMBERS_PER_SEND": str(PER_SEND), "TZ": "Asia/Shanghai", "LOG_LEVEL": "INFO",
           "PUSH_QUIET_START": "00:00", "PUSH_QUIET_END": "00:00",  # the test runs at any hour of the real clock
           # The whole log is there when an assertion shows its tail, with the stacks of a stuck worker.
           "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1", **extra}
    return subprocess.Popen([sys.executable, "server.py", "worker"], cwd=ROOT, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT, start_new_session=True)


async def each_sms_once(client, campaign_id: str, people: list[dict]) -> tuple[collections.Counter, set, set]:
    """Assert a campaign killed mid-way reached everyone once: every row ended, none sent twice, each sent row
    received by the provider, and only a dead sender's window uncertain. (statuses, phones received, phones of
    the uncertain rows)."""
    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    by_status = collections.Counter(r.status for r in rows)
    assert len(rows) == len(people) and set(by_status) <= {"sent", "delivered", "uncertain"}, by_status
    # Only rows whose call was under way at the kill may be uncertain: at most one window of the dead sender.
    assert by_status["uncertain"] <= CONCURRENCY * PER_SEND, by_status
    phone_of = {p["bidx"]: p["phone"] for p in people}
    received = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms")
                                   if m["phone"] in phone_of.values())
    sent = {phone_of[r.person_bidx] for r in rows if r.status in ("sent", "delivered")}  # delivered: settled
    uncertain = {phone_of[r.person_bidx] for r in rows if r.status == "uncertain"}
    assert max(received.values()) == 1, "a citizen got the message twice"
    assert sent <= set(received), "a row marked sent never reached the provider"
    assert set(received) - sent <= uncertain
    return by_status, set(received), uncertain


async def _sent(campaign_id: str) -> int:
    return await OutboxDelivery.filter(campaign_id=campaign_id, status="sent").count()


async def test_sigkill_mid_campaign_loses_nothing_and_doubles_nothing(client, live, tmp_path):
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    queue = f"crash-test-{secrets.token_hex(4)}"
    settings = live.settings.model_copy(update={"job_queue": queue})
    jobs: JobQueue = await create_job_queue(settings)
    admin = Actor(kind="admin", actor_id="adm_crash_test", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "崩溃测试政策", "summary": "崩溃测试", "body": "崩溃测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    await client.put("/sandbox/sms/faults", json={"latency_ms": 60 * PER_SEND})
    log = tmp_path / "workers.log"
    first = _worker(live, queue, log)
    try:
        campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                              jobs=jobs, queue_name=queue))["campaign_id"]
        started = time.monotonic()
        while time.monotonic() - started < 120:  # the worker starts, then sends a part of the campaign
            if await _sent(campaign_id) >= 150:
                break
            assert first.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        at_kill = await _sent(campaign_id)
        assert 0 < at_kill < PEOPLE, "the worker was not killed mid-campaign"
        second = _worker(live, queue, log)
        try:
            # A loaded machine may send slowly; only a campaign that stops moving fails.
            progress, moved_at = at_kill, time.monotonic()
            while time.monotonic() - moved_at < STALL_SECONDS:
                campaign = await policies.get_campaign(campaign_id)
                if campaign.status == "completed":
                    break
                assert second.poll() is None, log.read_text()[-3000:]
                if (done := await _sent(campaign_id)) != progress:
                    progress, moved_at = done, time.monotonic()
                await asyncio.sleep(0.2)
            if campaign.status != "completed":
                second.send_signal(signal.SIGABRT)  # the fault handler writes every thread's stack to the log
                second.wait(10)
                statuses = collections.Counter(r.status for r in await OutboxDelivery.filter(campaign_id=campaign_id))
                raise AssertionError(f"{campaign.status}, rows {dict(statuses)}, heartbeat "
                                     f"{await live.app.ctx.deps.redis.get(f'push:alive:{campaign_id}')}\n"
                                     + log.read_text()[-6000:])
        finally:
            second.terminate()
            second.wait(20)
    finally:
        if first.poll() is None:
            first.kill()
        await client.delete("/sandbox/sms/faults")
        await jobs.close()

    by_status, received, uncertain = await each_sms_once(client, campaign_id, people)
    print(f"killed after {at_kill} sent; uncertain rows: {by_status['uncertain']}, of which the provider "
          f"received {len(set(received) & uncertain)}")


async def _event_citizens(client, live, count: int) -> list[dict]:
    """`count` citizens on WeChat with a phone; every other one holds a one-time credit for the event's template, so
    the rest get the event by SMS. Each: {citizen_id, openid, phone, consent}."""
    c, people = pii.cipher(), []
    template_id = templates.of(live.app.ctx.deps).template_id(EVENT_KIND, "wechat")
    citizens, accounts, subs = [], [], []
    for n in range(count):
        phone = random_phone()
        citizen = Citizen(phone_enc=c.encrypt(phone, context="citizen.phone"),
                          phone_bidx=c.blind_index(phone, kind="phone"), assurance_level=1)
        openid = f"o{secrets.token_hex(12)}"
        citizens.append(citizen)
        accounts.append(PlatformAccount(citizen_id=citizen.id, platform="wechat", appid=live.settings.wechat_appid,
                                        platform_uid=openid))
        if n % 2 == 0:
            subs.append(Subscription(citizen_id=citizen.id, platform="wechat", template_id=template_id,
                                     one_time_remaining=1))
        people.append({"citizen_id": citizen.id, "openid": openid, "phone": phone, "consent": n % 2 == 0})
    await Citizen.bulk_create(citizens, batch_size=500)
    await PlatformAccount.bulk_create(accounts, batch_size=500)
    await Subscription.bulk_create(subs, batch_size=500)
    r = await client.post("/sandbox/wechat/users", json={"openids": [p["openid"] for p in people]})
    assert r.status_code == 200, r.text
    return people


async def _queue_events(people: list[dict], queued: list[str]) -> None:
    """One event per citizen, a few at a time, as clerks' moves come in; `queued` grows with their keys."""
    for n, person in enumerate(people):
        event_key = f"crash-mix:{secrets.token_hex(6)}"
        async with in_transaction():
            assert await notifications.notify_citizen(
                citizen_id=person["citizen_id"], kind=EVENT_KIND, event_key=event_key,
                ref={"kind": "application", "id": f"app_mix{n}"},
                params={"item_name": "居住证办理", "application_no": f"app_mix{n}", "at": "2026-11-30 10:00"})
        person["event_key"] = event_key
        queued.append(event_key)
        await asyncio.sleep(0.04)


async def _open_event_rows(keys: list[str], statuses=("queued", "claimed", "sending")) -> int:
    return await OutboxDelivery.filter(campaign_id=None, dedupe_key__in=[f"{k}:{c}" for k in keys
                                                                         for c in ("wechat", "sms")],
                                       status__in=statuses).count()


async def test_sigkill_amid_a_campaign_and_events_loses_nothing_and_doubles_nothing(client, live, tmp_path):
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    citizens = await _event_citizens(client, live, EVENTS)
    queue = f"crash-mix-{secrets.token_hex(4)}"
    jobs: JobQueue = await create_job_queue(live.settings.model_copy(update={"job_queue": queue}))
    admin = Actor(kind="admin", actor_id="adm_crash_test", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "崩溃混合测试政策", "summary": "崩溃测试", "body": "崩溃测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    for platform in ("sms", "wechat"):  # calls stay in flight long enough for the kill to catch some
        latency = 150 * (PER_SEND if platform == "sms" else 1)
        assert (await client.put(f"/sandbox/{platform}/faults", json={"latency_ms": latency})).status_code in (200, 204)
    # This server's own event lane stands aside: the events go through the two worker processes, one of them killed.
    lane = live.app.ctx.inline_worker.events if live.app.ctx.inline_worker else None
    if lane is not None:
        await lane.stop()
    log = tmp_path / "workers.log"
    extra = {"PUSH_SENDERS": "2", "EVENT_BATCH_SIZE": str(EVENT_BATCH)}
    workers = [_worker(live, queue, log, **extra), _worker(live, queue, log, **extra)]
    queued: list[str] = []
    feeding = None
    try:
        campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                              jobs=jobs, queue_name=queue))["campaign_id"]
        started = time.monotonic()
        while time.monotonic() - started < 120 and not await _sent(campaign_id):  # the workers start
            assert all(w.poll() is None for w in workers), log.read_text()[-3000:]
            await asyncio.sleep(0.05)
        feeding = asyncio.create_task(_queue_events(citizens, queued))
        while time.monotonic() - started < 120:  # both lanes busy: part of the campaign and of the events out
            if await _sent(campaign_id) >= 150 and len(queued) >= 40 \
                    and await _open_event_rows(queued, statuses=("claimed", "sending")):
                break
            assert all(w.poll() is None for w in workers), log.read_text()[-3000:]
            await asyncio.sleep(0.02)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(10)
        at_kill, events_at_kill = await _sent(campaign_id), len(queued)
        assert 0 < at_kill < PEOPLE and events_at_kill < EVENTS, "the worker was not killed mid-way"
        await asyncio.wait_for(feeding, 60)
        progress, moved_at = None, time.monotonic()
        while time.monotonic() - moved_at < STALL_SECONDS:
            campaign = await policies.get_campaign(campaign_id)
            still_open = await _open_event_rows(queued)
            if campaign.status == "completed" and not still_open:
                break
            assert workers[1].poll() is None, log.read_text()[-3000:]
            if (now := (await _sent(campaign_id), still_open)) != progress:
                progress, moved_at = now, time.monotonic()
            await asyncio.sleep(0.2)
        else:
            workers[1].send_signal(signal.SIGABRT)  # the fault handler writes every thread's stack to the log
            workers[1].wait(10)
            raise AssertionError(f"{campaign.status}, {still_open} event rows open\n" + log.read_text()[-6000:])
    finally:
        if feeding is not None and not feeding.done():
            feeding.cancel()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        if lane is not None:
            lane.start()
        for platform in ("sms", "wechat"):
            await client.delete(f"/sandbox/{platform}/faults")
        await jobs.close()

    # The campaign: as the test above, with two senders the dead worker may have held.
    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    by_status = collections.Counter(r.status for r in rows)
    assert len(rows) == PEOPLE and set(by_status) <= {"sent", "delivered", "uncertain"}, by_status
    assert by_status["uncertain"] <= 2 * CONCURRENCY, by_status
    sms_policy = templates.of(live.app.ctx.deps).template_id("grant_recorded", "sms")  # an auto grant's message
    sms_event = templates.of(live.app.ctx.deps).template_id(EVENT_KIND, "sms")
    wechat_event = templates.of(live.app.ctx.deps).template_id(EVENT_KIND, "wechat")
    sms_log, wechat_log = await sandbox_messages(client, "sms"), await sandbox_messages(client, "wechat")
    by_recipient = collections.Counter((m["phone"], m["template_code"]) for m in sms_log)
    by_recipient.update((m["touser"], m["template_id"]) for m in wechat_log)
    assert max(by_recipient.values()) == 1, "someone got the same message twice"
    phone_of = {p["bidx"]: p["phone"] for p in people}
    campaign_received = {m["phone"] for m in sms_log if m["template_code"] == sms_policy}
    assert {phone_of[r.person_bidx] for r in rows if r.status in ("sent", "delivered")} <= campaign_received
    assert campaign_received <= set(phone_of.values())
    assert campaign_received - {phone_of[r.person_bidx] for r in rows if r.status in ("sent", "delivered")} <= \
        {phone_of[r.person_bidx] for r in rows if r.status == "uncertain"}

    # The events: every row ended; each event went out once on its citizen's channel, or is uncertain.
    assert len(queued) == EVENTS
    event_rows = await OutboxDelivery.filter(campaign_id=None, citizen_id__in=[c["citizen_id"] for c in citizens])
    assert {r.status for r in event_rows} <= FINAL, collections.Counter(r.status for r in event_rows)
    rows_of = collections.defaultdict(dict)
    for r in event_rows:
        rows_of[r.citizen_id][r.channel] = r
    uncertain = 0
    for person in citizens:
        mine = rows_of[person["citizen_id"]]
        assert mine["inbox"].status == "delivered", mine
        external = [mine[c] for c in ("wechat", "sms") if c in mine]
        # A citizen without a credit falls to SMS; one with a credit may too, when the dead worker had spent it
        # and not yet started the call (the row was requeued and found no credit left).
        assert person["consent"] or (external[0].reason == "no_consent" and len(external) == 2), mine
        assert all(r.status == "skipped" for r in external[:-1]), mine
        final = external[-1]
        assert final.status in ("sent", "uncertain"), (final.status, final.reason)
        received = by_recipient[(person["openid"], wechat_event)] + by_recipient[(person["phone"], sms_event)]
        assert received == 1 or (final.status == "uncertain" and received == 0), (final.status, received)
        uncertain += final.status == "uncertain"
    assert uncertain <= EVENT_BATCH, uncertain
    inbox = collections.Counter(m.citizen_id for m in await InboxMessage.filter(
        citizen_id__in=[c["citizen_id"] for c in citizens]))
    assert len(inbox) == EVENTS and set(inbox.values()) == {1}, "an event's inbox message is missing or doubled"
    print(f"killed after {at_kill} campaign sends and {events_at_kill} events queued; uncertain: campaign "
          f"{by_status['uncertain']}, events {uncertain}")

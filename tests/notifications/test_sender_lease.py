"""Short delivery leases, renewed by the live sender: a slow window keeps its rows, a sender cancelled mid-batch
(its worker gone) has its claimed rows taken back by another sender within one lease, and every message goes out
once."""

import asyncio
import collections
import dataclasses
import secrets
import time

import pytest

from api.core.guards import Actor
from api.core.queue import create_job_queue
from api.policies import campaigns
from api.policies import service as policies
from notifications import outbox
from notifications.models import OutboxDelivery
from tests.policies.helpers import crowd, fresh_region, rule_for, sandbox_messages

LEASE = 2
CONCURRENCY = 5


@pytest.fixture
async def idle_deps(live, client):
    """The app's deps on a job queue no worker polls (the test runs the senders itself), with a short lease and
    small batches; the SMS sandbox's faults cleared after."""
    settings = live.settings.model_copy(update={
        "job_queue": f"leases-{secrets.token_hex(4)}", "delivery_lease_seconds": LEASE,
        "push_concurrency": CONCURRENCY, "push_batch_size": 20,
        "sms_numbers_per_send": 1,  # a request per message: the calls in flight are the rows in `sending`
        "push_quiet_start": "00:00", "push_quiet_end": "00:00"})
    jobs = await create_job_queue(settings)
    try:
        yield dataclasses.replace(live.app.ctx.deps, settings=settings, jobs=jobs)
    finally:
        await client.delete("/sandbox/sms/faults")
        await jobs.pool.delete(settings.job_queue)
        await jobs.close()


async def _sms_campaign(client, live, deps, people: int) -> tuple[str, list[dict]]:
    """A matched SMS campaign of `people` without accounts, its senders not started."""
    region = fresh_region()
    crowd_ = await crowd(client, region=region, count=people, settings=live.settings, wechat=0, alipay=0)
    admin = Actor(kind="admin", actor_id=f"adm_{secrets.token_hex(4)}", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "租约测试短信", "summary": "租约测试", "body": "租约测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                          jobs=deps.jobs, queue_name=deps.settings.job_queue))["campaign_id"]
    assert await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings) == "running"
    return campaign_id, crowd_


async def _statuses(campaign_id: str) -> collections.Counter:
    return collections.Counter(r.status for r in await OutboxDelivery.filter(campaign_id=campaign_id))


async def test_a_slow_window_keeps_its_lease(client, live, idle_deps):
    deps = idle_deps
    campaign_id, _ = await _sms_campaign(client, live, deps, people=CONCURRENCY)
    await client.put("/sandbox/sms/faults", json={"latency_ms": int(LEASE * 2 * 1000)})
    task = asyncio.create_task(campaigns.send(deps=deps, campaign_id=campaign_id))
    try:
        deadline = time.monotonic() + 10
        while (await _statuses(campaign_id))["sending"] < CONCURRENCY:
            assert time.monotonic() < deadline and not task.done()
            await asyncio.sleep(0.05)
        # The watchdog's sweep, run past the lease while the calls are still out: the renewed rows stay the
        # sender's, not uncertain.
        await asyncio.sleep(LEASE * 1.5)
        assert (await outbox.recover_lapsed(campaign_id=campaign_id))["uncertain"] == 0
        await asyncio.wait_for(task, 20)
    finally:
        task.cancel()
    assert await _statuses(campaign_id) == {"sent": CONCURRENCY}


async def test_a_killed_senders_rows_are_taken_back_within_the_lease_and_sent_once(client, live, idle_deps):
    deps = idle_deps
    campaign_id, people = await _sms_campaign(client, live, deps, people=60)
    await client.put("/sandbox/sms/faults", json={"latency_ms": 150})
    first = asyncio.create_task(campaigns.send(deps=deps, campaign_id=campaign_id))
    deadline = time.monotonic() + 20
    while not ((s := await _statuses(campaign_id))["sent"] and s["sending"] and s["claimed"]):
        assert time.monotonic() < deadline and not first.done(), s
        await asyncio.sleep(0.02)
    first.cancel()  # the worker died mid-batch: no more renewals, no clean-up
    await asyncio.gather(first, return_exceptions=True)
    killed_at = time.monotonic()
    left_claimed = {r.id for r in await OutboxDelivery.filter(campaign_id=campaign_id, status="claimed")}
    assert left_claimed

    second = asyncio.create_task(campaigns.send(deps=deps, campaign_id=campaign_id))
    try:
        while await OutboxDelivery.filter(id__in=left_claimed, status="claimed").exists():
            # Taken back by the live sender itself once the lease lapses (one lease and its 1-second look).
            assert time.monotonic() - killed_at < LEASE + 3, await _statuses(campaign_id)
            await asyncio.sleep(0.05)
        await asyncio.wait_for(second, 30)
    finally:
        second.cancel()

    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    by_status = collections.Counter(r.status for r in rows)
    assert len(rows) == len(people) and set(by_status) <= {"sent", "uncertain"}, by_status
    assert by_status["uncertain"] <= CONCURRENCY, by_status  # only the window the dead sender had in flight
    phone_of = {p["bidx"]: p["phone"] for p in people}
    received = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms")
                                   if m["phone"] in phone_of.values())
    sent = {phone_of[r.person_bidx] for r in rows if r.status == "sent"}
    uncertain = {phone_of[r.person_bidx] for r in rows if r.status == "uncertain"}
    assert max(received.values()) == 1, "a citizen got the message twice"
    assert sent <= set(received)
    assert set(received) - sent <= uncertain

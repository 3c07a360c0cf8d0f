"""A campaign's senders spread over the live job workers: with two workers polling one queue, its two senders run one
on each (arq alone hands both to whichever polls first), and the campaign completes with every message sent once."""

import asyncio
import collections
import dataclasses
import secrets
import time

import pytest

import worker
from api.core.guards import Actor
from api.core.jobs import cancel_and_wait
from api.core.queue import create_job_queue
from api.policies import service as policies
from notifications import spread
from notifications.models import OutboxDelivery
from tests.policies.helpers import crowd, fresh_region, rule_for, sandbox_messages

PEOPLE = 120


@pytest.fixture
async def two_workers(live, client):
    """Two job workers (as two processes would be: each its own arq worker, pool and presence) on a queue of the
    test's own; their deps."""
    settings = live.settings.model_copy(update={
        "job_queue": f"spread-{secrets.token_hex(4)}", "push_senders": 2, "push_concurrency": 5,
        "sms_numbers_per_send": 1,  # a request per message, so the senders take seconds
        "push_batch_size": 10, "push_quiet_start": "00:00", "push_quiet_end": "00:00"})
    started = []
    try:
        # Separate processes poll out of step; in one process, equal delays would let the first worker always poll
        # first.
        for poll_delay in (0.2, 0.13):
            jobs = await create_job_queue(settings)
            deps = dataclasses.replace(live.app.ctx.deps, settings=settings, jobs=jobs)
            presence = spread.Presence(deps.redis, settings.job_queue)
            options = worker.worker_settings(settings)
            for name in ("redis_settings", "on_startup", "on_shutdown"):
                options.pop(name)
            arq_worker = worker.SteadyWorker(**options, redis_pool=jobs.pool, handle_signals=False,
                                             poll_delay=poll_delay,
                                             ctx={"deps": deps, "worker_id": presence.worker_id})
            presence.start()
            started.append((arq_worker, asyncio.create_task(arq_worker.main()), presence, deps))
        yield [s[3] for s in started], [s[2].worker_id for s in started]
    finally:
        await client.delete("/sandbox/sms/faults")
        for arq_worker, task, presence, _ in started:
            await presence.stop()
            await cancel_and_wait(task)
            await arq_worker.close()


async def test_a_campaigns_two_senders_run_on_two_workers(client, live, two_workers):
    (deps, _), worker_ids = two_workers
    redis = deps.redis
    deadline = time.monotonic() + 10
    while await redis.zcard(spread.WORKERS_KEY.format(deps.settings.job_queue)) < 2:
        assert time.monotonic() < deadline, "the workers never said they were alive"
        await asyncio.sleep(0.05)
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    # One sender alone would take about 10 s: time for the second's hops (each lands elsewhere about as often as
    # not, 0.25-0.75 s apart) to reach the other worker even on a loaded machine.
    await client.put("/sandbox/sms/faults", json={"latency_ms": 400})
    admin = Actor(kind="admin", actor_id=f"adm_{secrets.token_hex(4)}", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "分布测试政策", "summary": "分布测试", "body": "分布测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                          jobs=deps.jobs, queue_name=deps.settings.job_queue))["campaign_id"]

    seen: list[dict] = []
    deadline = time.monotonic() + 60
    while (campaign := await policies.get_campaign(campaign_id)).status != "completed":
        assert time.monotonic() < deadline and campaign.status in ("queued", "running"), campaign.status
        if (now := await spread.running(redis, campaign_id)) and now not in seen:
            seen.append(now)
        await asyncio.sleep(0.05)
    # Both senders ran at once, one on each worker.
    assert {w: 1 for w in worker_ids} in seen, seen

    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    assert len(rows) == PEOPLE and {r.status for r in rows} == {"sent"}
    phones = {p["phone"] for p in people}
    received = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in phones)
    assert set(received) == phones and max(received.values()) == 1

"""Two job worker processes: a campaign's two senders run one on each; SIGKILL of one mid-campaign leaves the other
sending, the dead one's claimed rows are taken back within the short lease, and nobody gets the message twice."""

import asyncio
import os
import secrets
import signal
import time

import pytest

from api.core.guards import Actor
from api.core.queue import create_job_queue
from api.policies import service as policies
from notifications import spread
from notifications.models import OutboxDelivery
from tests.e2e.test_push_crash import PER_SEND, _worker, each_sms_once
from tests.policies.helpers import crowd, fresh_region, rule_for

PEOPLE = 600
LEASE = 3

pytestmark = pytest.mark.skipif(not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
                                reason="worker processes share the queue through Redis and the rows through PostgreSQL")


async def test_senders_spread_over_two_worker_processes_and_survive_a_kill(client, live, tmp_path):
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    queue = f"spread-e2e-{secrets.token_hex(4)}"
    jobs = await create_job_queue(live.settings.model_copy(update={"job_queue": queue}))
    redis = live.app.ctx.deps.redis
    admin = Actor(kind="admin", actor_id="adm_spread_test", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "分布进程测试", "summary": "分布测试", "body": "分布测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    await client.put("/sandbox/sms/faults", json={"latency_ms": 60 * PER_SEND})
    log = tmp_path / "workers.log"
    env = {"PUSH_SENDERS": "2", "DELIVERY_LEASE_SECONDS": str(LEASE), "PUSH_BATCH_SIZE": "50"}
    workers = [_worker(live, queue, log, **env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while await redis.zcard(spread.WORKERS_KEY.format(queue)) < 2:
            assert time.monotonic() < deadline and all(w.poll() is None for w in workers), log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                              jobs=jobs, queue_name=queue))["campaign_id"]
        deadline = time.monotonic() + 60
        while list((running := await spread.running(redis, campaign_id)).values()) != [1, 1]:
            assert time.monotonic() < deadline, (running, log.read_text()[-3000:])
            await asyncio.sleep(0.05)
        while not await OutboxDelivery.filter(campaign_id=campaign_id, status="claimed").exists():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.02)
        os.kill(workers[0].pid, signal.SIGKILL)
        workers[0].wait(10)
        killed_at = time.monotonic()
        orphans = {r.id for r in await OutboxDelivery.filter(campaign_id=campaign_id, status="claimed")}
        while await OutboxDelivery.filter(id__in=orphans, status="claimed").exists():
            # The surviving sender takes the dead one's rows back itself, one lease after its last renewal.
            assert time.monotonic() - killed_at < LEASE + 5, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        deadline = time.monotonic() + 120
        while (await policies.get_campaign(campaign_id)).status != "completed":
            assert time.monotonic() < deadline and workers[1].poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                w.wait(20)
        await client.delete("/sandbox/sms/faults")
        await jobs.close()

    await each_sms_once(client, campaign_id, people)

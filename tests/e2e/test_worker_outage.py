"""A job worker (`python server.py worker`) through store outages: its own Redis killed and started again empty, or
PostgreSQL cut behind a proxy. The worker waits the outage out, says so once each way, and works the queue, the
event lane and a campaign's senders afterwards; SIGTERM stops it mid-outage."""

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool

from api.core.guards import Actor
from api.core.queue import create_job_queue
from api.policies import service as policies
from notifications import service as notifications
from notifications.models import OutboxDelivery
from tests.conftest import free_port
from tests.core.outage_proxy import database_proxy, through
from tests.factories import random_phone
from tests.policies.helpers import crowd, fresh_region, rule_for, sandbox_messages

ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 5
PEOPLE = 300


def _redis(port: int, workdir: Path) -> subprocess.Popen:
    workdir.mkdir(exist_ok=True)
    proc = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            assert proc.poll() is None, "redis-server did not start"
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("redis-server did not listen")


def _worker(live, redis_url: str, queue: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, "DATA_DIR": str(live.settings.data_dir), "REDIS_URL": redis_url,
           "PUBLIC_BASE_URL": live.base_url, "JOB_QUEUE": queue, "TZ": "Asia/Shanghai", "LOG_LEVEL": "INFO",
           "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    if live.settings.database_url:
        env["DATABASE_URL"] = live.settings.database_url
    env.update(extra)
    return subprocess.Popen([sys.executable, "server.py", "worker"], cwd=ROOT, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT, start_new_session=True)


async def _purge_done(redis_url: str, queue: str, log: Path, timeout: float) -> None:
    """Queue the core's housekeeping job by hand and wait until the worker logs it done (a cron job keeps no
    result)."""
    done = log.read_text().count("purged_idempotency_records")
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue)
    try:
        assert await pool.enqueue_job(f"cron:{queue}:purge_idempotency_records")
    finally:
        await pool.aclose()
    deadline = time.monotonic() + timeout
    while log.read_text().count("purged_idempotency_records") == done:
        assert time.monotonic() < deadline, "the job was not done: " + log.read_text()[-3000:]
        await asyncio.sleep(0.1)


async def _sms_event_sent(log: Path, timeout: float) -> None:
    key = f"outage:{secrets.token_hex(6)}"
    assert await notifications.notify_phone(
        phone=random_phone(), kind="application_approved", event_key=key, ref={"kind": "application", "id": key},
        params={"item_name": "居住证办理", "application_no": "app_outage", "at": "2026-11-30 10:00"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await OutboxDelivery.get(dedupe_key=f"{key}:sms")
        if row.status == "sent":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the event row is {row.status}: " + log.read_text()[-3000:])


async def _outage_over(worker: subprocess.Popen, log: Path) -> None:
    """Every loop of the worker is through (the last pause of its backoff may end up to 10 s after the outage),
    and the outage was logged once each way."""
    deadline = time.monotonic() + 15
    while "store_outage_ended" not in (text := log.read_text()):
        assert time.monotonic() < deadline and worker.poll() is None, text[-3000:]
        await asyncio.sleep(0.1)
    assert text.count("store_outage_started") == 1 and text.count("store_outage_ended") == 1, text[-3000:]


async def _stop(proc: subprocess.Popen, log: Path) -> None:
    proc.terminate()
    try:
        code = await asyncio.to_thread(proc.wait, 15)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("no clean exit within 15 s of SIGTERM: " + log.read_text()[-3000:]) from None
    assert code == 0, log.read_text()[-3000:]


async def test_the_worker_rides_out_a_redis_restart(live, tmp_path):
    port, queue, log = free_port(), f"outage-{secrets.token_hex(4)}", tmp_path / "worker.log"
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = _redis(port, tmp_path / "redis")
    worker = None
    try:
        worker = _worker(live, redis_url, queue, log)
        await _purge_done(redis_url, queue, log, timeout=30)
        redis.send_signal(signal.SIGKILL)
        redis.wait(5)
        for _ in range(OUTAGE_SECONDS * 10):
            assert worker.poll() is None, "the worker ended in the outage: " + log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        assert "store_outage_started" in log.read_text()
        redis = _redis(port, tmp_path / "redis")  # empty, as a restart without persistence leaves it
        await _purge_done(redis_url, queue, log, timeout=20)
        await _sms_event_sent(log, timeout=20)
        await _outage_over(worker, log)
        await _stop(worker, log)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
        redis.wait(5)


async def test_sigterm_stops_the_worker_in_an_outage(live, tmp_path):
    port, queue, log = free_port(), f"outage-{secrets.token_hex(4)}", tmp_path / "worker.log"
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = _redis(port, tmp_path / "redis")
    worker = None
    try:
        worker = _worker(live, redis_url, queue, log)
        await _purge_done(redis_url, queue, log, timeout=30)
        redis.kill()
        redis.wait(5)
        deadline = time.monotonic() + 10
        while "store_outage_started" not in log.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        await _stop(worker, log)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        if redis.poll() is None:
            redis.kill()


async def _logged(log: Path, text: str, worker: subprocess.Popen, *, timeout: float) -> None:
    """Wait until the worker's log has `text`, the worker alive all along."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
        await asyncio.sleep(0.1)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="cuts PostgreSQL through a proxy")
async def test_the_worker_rides_out_a_database_outage(live, tmp_path):
    port, queue, log = free_port(), f"outage-{secrets.token_hex(4)}", tmp_path / "worker.log"
    proxy = await database_proxy(live.settings.database_url).start()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = _redis(port, tmp_path / "redis")
    worker = None
    try:
        worker = _worker(live, redis_url, queue, log, DATABASE_URL=through(live.settings.database_url, proxy))
        await _purge_done(redis_url, queue, log, timeout=30)
        await proxy.cut()
        await _logged(log, "store_outage_started", worker, timeout=10)
        for _ in range(OUTAGE_SECONDS * 10):
            assert worker.poll() is None, "the worker ended in the outage: " + log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        await proxy.restore()
        await _sms_event_sent(log, timeout=20)
        await _purge_done(redis_url, queue, log, timeout=20)
        await _outage_over(worker, log)
        await _stop(worker, log)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
        redis.wait(5)
        await proxy.close()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="a campaign across processes wants PostgreSQL")
async def test_a_campaign_finishes_through_a_redis_restart(client, live, tmp_path):
    port, queue, log = free_port(), f"outage-{secrets.token_hex(4)}", tmp_path / "worker.log"
    redis_url = f"redis://127.0.0.1:{port}/0"
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    admin = Actor(kind="admin", actor_id="adm_outage_test", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "断连测试政策", "summary": "断连测试", "body": "断连测试", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    await client.put("/sandbox/sms/faults", json={"latency_ms": 40})
    redis = _redis(port, tmp_path / "redis")
    jobs = await create_job_queue(live.settings.model_copy(update={"job_queue": queue, "redis_url": redis_url}))
    worker = None
    try:
        worker = _worker(live, redis_url, queue, log, PUSH_CONCURRENCY="10", PUSH_SENDERS="1", SMS_NUMBERS_PER_SEND="1",
                         DELIVERY_LEASE_SECONDS="8", PUSH_BATCH_SIZE="50",
                         PUSH_QUIET_START="00:00", PUSH_QUIET_END="00:00")
        campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                              jobs=jobs, queue_name=queue))["campaign_id"]
        deadline = time.monotonic() + 60
        while await OutboxDelivery.filter(campaign_id=campaign_id, status="sent").count() < 50:
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.05)
        redis.kill()
        redis.wait(5)
        await asyncio.sleep(OUTAGE_SECONDS)
        assert worker.poll() is None, "the worker ended in the outage: " + log.read_text()[-3000:]
        redis = _redis(port, tmp_path / "redis")  # empty: the campaign's jobs are gone with it
        deadline = time.monotonic() + 60
        while (await policies.get_campaign(campaign_id)).status != "completed":
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
        await _outage_over(worker, log)
        await _stop(worker, log)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
        redis.wait(5)
        await jobs.close()
        await client.delete("/sandbox/sms/faults")
    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    assert len(rows) == PEOPLE and {r.status for r in rows} <= {"sent", "uncertain"}
    phones = {p["phone"] for p in people}
    received = [m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in phones]
    assert len(received) == len(set(received)), "a citizen got the message twice"

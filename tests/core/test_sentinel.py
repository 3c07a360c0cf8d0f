"""Redis behind Sentinel (tests/ha_topology.py: a primary, a replica, three sentinels): the app answers through the
sentinels, a failover under requests is at most a brief 503 and never a 500, and a campaign sending through a
failover reaches everyone once. The app and the job worker run in processes of their own on the session's
PostgreSQL database, hence the PostgreSQL run only; the client's own test runs in both."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis.asyncio

from api.core import sentinel
from api.core.guards import Actor
from api.core.queue import create_job_queue
from api.policies import service as policies
from notifications.models import OutboxDelivery
from tests.conftest import free_port
from tests.core.outage_proxy import stop_process
from tests.ha_topology import RedisTopology, redis_server_available
from tests.policies.helpers import crowd, fresh_region, rule_for, sandbox_messages
from tests.processes import served_app

shares_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL"),
                                reason="the app and a job worker in processes of their own share PostgreSQL")
ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 300


@pytest.fixture(scope="module")
async def topology(tmp_path_factory):
    """A primary, a replica and three sentinels for the module, killed after it however it ends."""
    if not redis_server_available():
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing, and CI must run the Sentinel tests")
        pytest.skip("redis-server is not installed: no Sentinel topology to test against")
    ha = RedisTopology(tmp_path_factory.mktemp("redis-ha"))
    try:
        yield await ha.astart()
    finally:
        await ha.astop()


def _env(live, topology: RedisTopology, **extra: str) -> dict:
    # The host in REDIS_URL is ignored with sentinels: only the database number counts.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=str(live.settings.data_dir), DATABASE_URL=live.settings.database_url,
               REDIS_URL="redis://unused-host/0", REDIS_SENTINELS=topology.sentinels, APP_ENV="test",
               TZ="Asia/Shanghai", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture(scope="module")
async def sentinel_app(live, topology, tmp_path_factory):
    """The app served in a process of its own (the ORM's connections are global to a process) through the
    sentinels: an httpx client on it."""
    port, log = free_port(), tmp_path_factory.mktemp("sentinel-app") / "server.log"
    env = _env(live, topology, PORT=str(port), TRUSTED_PROXIES="1", ACCESS_LOG="false", INLINE_WORKER="false",
               JOB_QUEUE=f"arq:queue:sentinel-{secrets.token_hex(3)}")
    async with served_app(env, log, port=port) as c:
        yield c


def _address() -> str:
    return f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


async def _verify(c: httpx.AsyncClient, ip: str) -> int:
    """A public verify (its rate limit writes to Redis) from `ip`: the status."""
    r = await c.post("/api/v1/verify", json={"payload": "not-a-presentation"}, headers={"X-Forwarded-For": ip})
    assert r.status_code in (200, 503), (r.text, _unhandled(c.log))
    if r.status_code == 503:
        assert r.json()["error"]["code"] == "service_unavailable" and r.headers["retry-after"], r.text
    return r.status_code


def _unhandled(log: Path) -> list[str]:
    """The server's unhandled errors (with their stacks) so far: what a 500 was."""
    return [line for line in log.read_text(encoding="utf-8").splitlines() if "unhandled_error" in line][-2:]


def _on_primary(topology: RedisTopology, ip: str) -> bool:
    with topology.primary_client(0) as primary:
        return bool(primary.keys(f"rl:verify:{ip}*"))


class _Named:
    """What the sentinels answer, switched by the test: two names of one real server are two primaries to the pool."""

    def __init__(self, address: tuple[str, int]):
        self.address = address

    async def discover_master(self, service: str) -> tuple[str, int]:
        return self.address


async def test_a_moved_primary_reopens_only_the_connection_a_task_holds(topology, monkeypatch):
    """When the primary moves, a connection is reopened by the task that takes it, and closed by the one that
    gives it back: never by a third task, which is how redis-py's pool broke a connection under a request in a
    failover (it closed every idle one while other tasks were taking them: an AttributeError, a 500)."""
    monkeypatch.setattr(sentinel, "CHECK_SECONDS", 0)
    _, port = topology.primary()
    named = _Named(("127.0.0.1", port))
    client = redis.asyncio.Redis.from_pool(sentinel.FollowingPool("gov-redis", named, decode_responses=True))
    try:
        pool = client.connection_pool
        held, *idle = [await pool.get_connection() for _ in range(3)]
        for connection in idle:
            await pool.release(connection)
        assert held.is_connected and all(c.is_connected for c in idle)
        named.address = ("localhost", port)
        assert await pool.get_master_address() == ("localhost", port)
        assert all(c.is_connected for c in idle), "the pool closed idle connections another task may be taking"
        taken = await pool.get_connection()
        assert taken.is_connected and (taken.host, taken.port) == ("localhost", port)
        assert held.is_connected and held.host == "127.0.0.1"
        await pool.release(held)
        assert not held.is_connected, "a connection to the former primary went back to the pool open"
        await pool.release(taken)
        assert await client.incr("moved:count") >= 1
    finally:
        await client.aclose()


@shares_postgres
async def test_the_app_answers_through_the_sentinels(sentinel_app, topology):
    assert (await sentinel_app.get("/readyz")).status_code == 200
    ip = _address()
    assert await _verify(sentinel_app, ip) == 200
    assert await asyncio.to_thread(_on_primary, topology, ip), "the app's write is not on the primary"


@shares_postgres
async def test_a_failover_under_requests_is_a_brief_503_at_most(sentinel_app, topology):
    seen: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def load():
        while not stop.is_set():
            seen.append((time.monotonic(), await _verify(sentinel_app, _address())))

    tasks = [asyncio.create_task(load()) for _ in range(4)]
    try:
        await asyncio.sleep(1)
        started = time.monotonic()
        new = await topology.afailover()
        announced = time.monotonic()
        await asyncio.sleep(3)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    unavailable = [at for at, status in seen if status == 503]
    after = [status for at, status in seen if at > announced + 2]
    assert len(seen) > 40 and after and set(after) == {200}, seen[-20:]
    assert not unavailable or max(unavailable) - min(unavailable) < 5, (len(unavailable), announced - started)
    ip = _address()
    assert await _verify(sentinel_app, ip) == 200
    assert topology.primary() == new and await asyncio.to_thread(_on_primary, topology, ip), \
        "the app still writes to the old primary"


def _worker(live, topology: RedisTopology, queue: str, log: Path) -> subprocess.Popen:
    env = _env(live, topology, PUBLIC_BASE_URL=live.base_url, JOB_QUEUE=queue, PUSH_CONCURRENCY="5",
               PUSH_SENDERS="1", SMS_NUMBERS_PER_SEND="1", DELIVERY_LEASE_SECONDS="8", PUSH_BATCH_SIZE="50",
               PUSH_QUIET_START="00:00", PUSH_QUIET_END="00:00",
               PUSH_RATE_SMS="10")  # 30 s of sending: the failover lands mid-campaign
    return subprocess.Popen([sys.executable, "server.py", "worker"], cwd=ROOT, env=env, stdout=log.open("a"),
                            stderr=subprocess.STDOUT, start_new_session=True)


@shares_postgres
async def test_a_campaign_through_a_failover_reaches_everyone_once(client, live, topology, tmp_path):
    queue, log = f"sentinel-{secrets.token_hex(4)}", tmp_path / "worker.log"
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0, alipay=0)
    admin = Actor(kind="admin", actor_id="adm_sentinel_test", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "主从切换测试政策", "summary": "主从切换", "body": "主从切换", "mode": "auto_grant",
        "rule": rule_for(region), "benefit": "测试", "channels": ["sms"], "apply_url": None})
    await client.put("/sandbox/sms/faults", json={"latency_ms": 100})
    jobs = await create_job_queue(live.settings.model_copy(update={
        "job_queue": queue, "redis_url": "redis://unused-host/0", "redis_sentinels": topology.sentinels}))
    worker = _worker(live, topology, queue, log)
    try:
        campaign_id = (await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={},
                                              jobs=jobs, queue_name=queue))["campaign_id"]
        deadline = time.monotonic() + 40
        while await OutboxDelivery.filter(campaign_id=campaign_id, status="sent").count() < 50:
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.05)
        await topology.afailover()
        assert await OutboxDelivery.filter(campaign_id=campaign_id, status="sent").count() < PEOPLE, \
            "the campaign ended before the failover: nothing was tested"
        deadline = time.monotonic() + 45
        while (await policies.get_campaign(campaign_id)).status != "completed":
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
    finally:
        stop_process(worker)
        await jobs.close()
        await client.delete("/sandbox/sms/faults")
    rows = await OutboxDelivery.filter(campaign_id=campaign_id)
    assert len(rows) == PEOPLE and {r.status for r in rows} == {"sent"}, {r.status for r in rows}
    phones = {p["phone"] for p in people}
    received = [m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in phones]
    assert sorted(received) == sorted(phones), "a citizen got the message twice, or not at all"

"""DATABASE_REPLICA_URL: the routes that tolerate lag read from a real streaming replica (tests/pg_replica.py), and
nothing else does. The proof: with the replica's replay paused, a row written to the primary is missing from those
routes' answers and nowhere else, and shows once replay goes on. The app runs in a process of its own on the pair
(and fakeredis); the PostgreSQL run only."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import sys
import time
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import free_port
from tests.pg_replica import PostgresPair, postgres_available
from tests.processes import served_app

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="starts PostgreSQL servers of its own")
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@pytest.fixture(scope="module")
async def pair():
    """A primary and its streaming replica, with the app's database migrated; killed after the module."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL 15 binaries are missing, and CI must run the replica tests")
        pytest.skip("no PostgreSQL binaries (or not root to run them as postgres): no replica to test against")
    servers = PostgresPair()
    try:
        await asyncio.to_thread(servers.start)
        conn = await asyncpg.connect(_pg(servers.primary_url()))
        try:
            await conn.execute("CREATE DATABASE gov")
        finally:
            await conn.close()
        yield servers
    finally:
        await asyncio.to_thread(servers.stop)


async def _run(env: dict, *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "server.py"), *args, cwd=ROOT, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]


@pytest.fixture(scope="module")
async def app(pair, tmp_path_factory):
    """The app on the pair: reads of the lag-tolerant routes on the replica. An httpx client with a super admin's
    Authorization header as `admin`."""
    directory = tmp_path_factory.mktemp("replica-app")
    port, log = free_port(), directory / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_SENTINELS")}
    env.update(DATABASE_URL=pair.primary_url("gov"), DATABASE_REPLICA_URL=pair.replica_url("gov"),
               DATA_DIR=str(directory), APP_ENV="test", PORT=str(port), TRUSTED_PROXIES="1", ACCESS_LOG="false",
               DB_POOL_MAX="3", TZ="Asia/Shanghai", LOG_LEVEL="INFO")
    await _run(env, "migrate")
    await _run(env, "create-admin", "--username", "replica_admin", "--password", PASSWORD, "--role", "super_admin")
    async with served_app(env, log, port=port, headers={"X-Forwarded-For": "127.8.8.8"}) as c:
        r = await c.post("/api/v1/admin/auth/login", json={"username": "replica_admin", "password": PASSWORD})
        assert r.status_code == 200, log.read_text(encoding="utf-8")[-3000:]
        c.admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield c


@contextlib.asynccontextmanager
async def replay_paused(pair: PostgresPair):
    """The replica stops applying the primary's changes inside the block; afterwards it has caught up with them."""
    replica = await asyncpg.connect(_pg(pair.replica_url("gov")))
    try:
        await replica.execute("SELECT pg_wal_replay_pause()")
        while await replica.fetchval("SELECT pg_get_wal_replay_pause_state()") != "paused":
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            await replica.execute("SELECT pg_wal_replay_resume()")
        primary = await asyncpg.connect(_pg(pair.primary_url("gov")))
        try:
            target = await primary.fetchval("SELECT pg_current_wal_insert_lsn()")
        finally:
            await primary.close()
        deadline = time.monotonic() + 20
        while await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target) is not True:
            assert time.monotonic() < deadline, "the replica did not catch up"
            await asyncio.sleep(0.05)
    finally:
        await replica.close()


async def _on_primary(pair: PostgresPair, sql: str, *args) -> None:
    conn = await asyncpg.connect(_pg(pair.primary_url("gov")))
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


async def _published_policy(pair: PostgresPair) -> str:
    policy_id = f"pol_{secrets.token_hex(16)}"
    now = dt.datetime.now(dt.timezone.utc)
    await _on_primary(pair, "INSERT INTO policy (id, title, summary, body, mode, rule, channels, status, created_by, "
                            "created_at, updated_at, published_at, family_id, version) VALUES ($1, '从库测试政策', "
                            "'摘要', '正文', 'notify', '{}'::jsonb, '[]'::jsonb, 'published', 'adm_test', $2, $2, $2, "
                            "$1, 1)", policy_id, now)
    return policy_id


async def test_the_public_policy_page_reads_from_the_replica(app, pair):
    async with replay_paused(pair):
        policy_id = await _published_policy(pair)
        assert (await app.get(f"/api/v1/policies/{policy_id}")).status_code == 404, "read from the primary"
        # Routes that do not tolerate lag see the primary: the staff's policy page has it already.
        staff_view = await app.get(f"/api/v1/admin/policies/{policy_id}", headers=app.admin)
        assert staff_view.status_code == 200, staff_view.text
    r = await app.get(f"/api/v1/policies/{policy_id}")
    assert r.status_code == 200 and r.json()["title"] == "从库测试政策", r.text


async def test_the_dashboards_read_from_the_replica(app, pair):
    async def figures() -> tuple[int, int]:
        scans = await app.get("/api/v1/admin/dashboards/scans", headers=app.admin)
        campaigns = await app.get("/api/v1/admin/dashboards/campaigns", headers=app.admin)
        assert scans.status_code == 200 and campaigns.status_code == 200, (scans.text, campaigns.text)
        return scans.json()["total"], len(campaigns.json()["items"])

    before = await figures()
    now = dt.datetime.now(dt.timezone.utc)
    async with replay_paused(pair):
        await _on_primary(pair, "INSERT INTO code_scan (id, terminal_id, scene, outcome, source, used_twice, "
                                "scanned_at, recorded_at) VALUES ($1, 'trm_test', 'service', 'accepted', 'online', "
                                "false, $2, $2)", f"scn_{secrets.token_hex(16)}", now)
        policy_id = await _published_policy(pair)
        await _on_primary(pair, "INSERT INTO campaign (id, policy_id, status, stage, queue_name, as_of, created_by, "
                                "created_at) VALUES ($1, $2, 'completed', 'done', 'q', $3, 'adm_test', $4)",
                          f"cmp_{secrets.token_hex(16)}", policy_id, now.date(), now)
        assert await figures() == before, "a dashboard read the primary"
    assert await figures() == (before[0] + 1, before[1] + 1)


async def test_a_replica_that_is_down_sends_the_reads_to_the_primary(app, pair):
    policy_id = await _published_policy(pair)
    await asyncio.to_thread(pair.kill, "replica")
    try:
        statuses = [(await app.get(f"/api/v1/policies/{policy_id}")).status_code for _ in range(5)]
        # The read that finds it down is a 503 (it may be retried); the next ones go to the primary.
        assert statuses == [503, 200, 200, 200, 200], statuses
        ready = await app.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["replica"].startswith("error"), ready.text
    finally:
        await asyncio.to_thread(pair.restart, "replica")
    deadline = time.monotonic() + 30
    while (await app.get("/readyz")).json()["checks"]["replica"] != "ok":
        assert time.monotonic() < deadline, "the replica is not read again once it is back"
        await asyncio.sleep(0.2)
    async with replay_paused(pair):  # reads are on the replica again: a policy it has not replayed is not found
        later = await _published_policy(pair)
        assert (await app.get(f"/api/v1/policies/{later}")).status_code == 404

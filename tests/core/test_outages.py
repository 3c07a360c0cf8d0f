"""A database or Redis out of reach answers 503 service_unavailable with Retry-After, soon, and the same requests
succeed once it is back, without restarting the app. Each test serves its own app whose store goes through a proxy
the test cuts (Redis: a private redis-server; PostgreSQL: only when DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.core.outage_proxy import Proxy, database_proxy, start_redis, stop_process, through
from tests.factories import bearer, verified_citizen, wechat_codes

ROOT = Path(__file__).resolve().parents[2]
BOUND_SECONDS = 5.0  # an outage answer comes within this, however the store is out of reach


async def _login(c: httpx.AsyncClient, codes: dict) -> httpx.Response:
    return await c.post("/api/v1/auth/wechat/login", json={"code": codes["code"], "phone_code": codes["phone_code"]})


def _assert_unavailable(r: httpx.Response, started: float) -> None:
    assert time.monotonic() - started < BOUND_SECONDS, "the outage held the request"
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "service_unavailable" and "不可用" in r.json()["error"]["message"]
    assert r.json()["error"]["request_id"] and int(r.headers["retry-after"]) == 2


class Outage:
    """The app in a process of its own (the ORM's connections are global to a process) on the session's data
    directory (its keys sign the session's tokens), with short store timeouts, its Redis (a private redis-server)
    and, on PostgreSQL, its database behind proxies the tests cut."""

    def __init__(self, client: httpx.AsyncClient, log: Path, redis: Proxy, database: Proxy | None):
        self.client, self.log, self.redis, self.database = client, log, redis, database

    def logged(self) -> list[str]:
        """The stores of the outages the app logged so far."""
        lines = [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()
                 if line.startswith("{")]
        return [line["store"] for line in lines if line.get("event") == "store_unavailable"]


@pytest.fixture(scope="module")
async def outage(stores, tmp_path_factory):
    """One app process for the module's outages (it takes seconds to start)."""
    directory = tmp_path_factory.mktemp("outage")
    process, redis_port = start_redis(directory)
    redis = await Proxy("127.0.0.1", redis_port).start()
    database, database_url, proc = None, stores["database_url"], None
    if database_url:
        database = await database_proxy(database_url).start()
        database_url = through(database_url, database)
    port, log = free_port(), directory / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORT=str(port), DATA_DIR=str(stores["data_dir"]), REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
               APP_ENV="test", TRUSTED_PROXIES="1", LOG_LEVEL="INFO", ACCESS_LOG="false", TZ="Asia/Shanghai",
               INLINE_WORKER="false", JOB_QUEUE="arq:queue:outage-test", OUTAGE_RETRY_AFTER_SECONDS="2",
               DB_CONNECT_TIMEOUT_SECONDS="1", DB_COMMAND_TIMEOUT_SECONDS="2", REDIS_TIMEOUT_SECONDS="0.5",
               SHUTDOWN_GRACE_SECONDS="2")
    if database_url:
        env["DATABASE_URL"] = database_url
    try:
        proc = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "run"], cwd=ROOT, env=env,
                                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10,
                                     headers={"X-Forwarded-For": "127.9.9.9"}) as c:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.get("/healthz", timeout=2)).status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
                await asyncio.sleep(0.2)
            yield Outage(c, log, redis, database)
    finally:
        if proc is not None:
            stop_process(proc)
        await redis.close()
        if database is not None:
            await database.close()
        stop_process(process)


@pytest.fixture
async def an_application(client, test_catalogue):
    """A citizen's application, filed through the session's app: (the citizen's tokens, its id)."""
    from tests.applications.helpers import body_a, submit

    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    return tokens, app["id"]


async def _back(outage: Outage) -> None:
    """Restore every store and see the app ready again."""
    for proxy in (outage.redis, outage.database):
        if proxy is not None:
            await proxy.restore()
    ready = await outage.client.get("/readyz")
    assert ready.status_code == 200, ready.text


@pytest.mark.parametrize("how", ["cut", "hang"])
async def test_a_redis_outage_is_503_with_retry_after_and_passes(outage, an_application, how):
    tokens, app_id = an_application
    c, phone = outage.client, "13900139000"
    assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
    codes = await wechat_codes(c, phone=phone, openid="o-outage-redis")
    logged = len(outage.logged())
    try:
        await (outage.redis.cut() if how == "cut" else outage.redis.hang())
        for _ in range(2):  # the second meets the same outage
            started = time.monotonic()
            _assert_unavailable(await _login(c, codes), started)
        started = time.monotonic()
        r = await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))
        # A read that needs no Redis may still be served; it is never a 500.
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            _assert_unavailable(r, started)
        ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("error")
    finally:
        await _back(outage)
    codes = await wechat_codes(c, phone=phone, openid="o-outage-redis")
    r = await _login(c, codes)
    assert r.status_code == 200, r.text
    assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
    assert outage.logged()[logged:] == ["redis"]  # once for the outage, not per request
    assert phone not in outage.log.read_text(encoding="utf-8")


@pytest.mark.parametrize("how", ["cut", "hang"])
@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="PostgreSQL only (DATABASE_URL)")
async def test_a_database_outage_is_503_with_retry_after_and_passes(outage, an_application, how):
    tokens, app_id = an_application
    c, phone = outage.client, "13900139001"
    assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
    logged = len(outage.logged())
    try:
        await (outage.database.cut() if how == "cut" else outage.database.hang())
        for _ in range(2):  # fresh codes: the sandbox takes a code back once shown (Redis still answers)
            codes = await wechat_codes(c, phone=phone, openid="o-outage-db")
            started = time.monotonic()
            _assert_unavailable(await _login(c, codes), started)
        started = time.monotonic()
        _assert_unavailable(await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens)), started)
        assert (await c.get("/readyz")).json()["checks"]["database"].startswith("error")
    finally:
        await _back(outage)
    codes = await wechat_codes(c, phone=phone, openid="o-outage-db")
    r = await _login(c, codes)
    assert r.status_code == 200, r.text
    r = await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    assert len(outage.logged()) == logged + 1, outage.logged()
    assert phone not in outage.log.read_text(encoding="utf-8")

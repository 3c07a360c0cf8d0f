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
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.conftest import free_port
from tests.core.outage_proxy import Proxy, start_redis, stop_process
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


def _outages_logged(log: Path) -> list[dict]:
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "store_unavailable"]


@contextlib.asynccontextmanager
async def _served(stores, log: Path, *, database_url: str | None, redis_url: str):
    """The app in a process of its own (the ORM's connections are global to a process) on the session's data
    directory (its keys sign the session's tokens), short store timeouts; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(PORT=str(port), DATA_DIR=str(stores["data_dir"]), REDIS_URL=redis_url, APP_ENV="test",
               TRUSTED_PROXIES="1", LOG_LEVEL="INFO", ACCESS_LOG="false", TZ="Asia/Shanghai",
               INLINE_WORKER="false", JOB_QUEUE="arq:queue:outage-test", OUTAGE_RETRY_AFTER_SECONDS="2",
               DB_CONNECT_TIMEOUT_SECONDS="1", DB_COMMAND_TIMEOUT_SECONDS="2", REDIS_TIMEOUT_SECONDS="0.5",
               PUSH_QUIET_START="00:00", PUSH_QUIET_END="00:00")
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "run"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10, headers={"X-Forwarded-For": "127.9.9.9"}) as c:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
                try:
                    if (await c.get("/healthz", timeout=2)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
                await asyncio.sleep(0.2)
            yield c
    finally:
        stop_process(proc)


@pytest.fixture
async def an_application(client, test_catalogue):
    """A citizen's application, filed through the session's app: (the citizen's tokens, its id)."""
    from tests.applications.helpers import body_a, submit

    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    return tokens, app["id"]


@pytest.mark.parametrize("how", ["cut", "hang"])
async def test_a_redis_outage_is_503_with_retry_after_and_passes(stores, tmp_path, an_application, how):
    tokens, app_id = an_application
    process, port = start_redis(tmp_path)
    proxy = await Proxy("127.0.0.1", port).start()
    log = tmp_path / "server.log"
    try:
        async with _served(stores, log, database_url=stores["database_url"],
                           redis_url=f"redis://127.0.0.1:{proxy.port}/0") as c:
            assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
            codes = await wechat_codes(c, phone="13900139000", openid="o-outage-redis")
            await (proxy.cut() if how == "cut" else proxy.hang())
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

            await proxy.restore()
            codes = await wechat_codes(c, phone="13900139000", openid="o-outage-redis")
            r = await _login(c, codes)
            assert r.status_code == 200, r.text
            assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
            assert (await c.get("/readyz")).json()["checks"]["redis"] == "ok"
        logged = _outages_logged(log)
        assert [line["store"] for line in logged] == ["redis"], logged  # once for the outage, not per request
        assert "13900139000" not in log.read_text(encoding="utf-8")
    finally:
        await proxy.close()
        stop_process(process)


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="PostgreSQL only (DATABASE_URL)")
async def test_a_database_outage_is_503_with_retry_after_and_passes(stores, tmp_path, an_application):
    tokens, app_id = an_application
    parts = urlsplit(stores["database_url"])
    proxy = await Proxy(parts.hostname, parts.port or 5432).start()
    credentials = parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else ""
    log = tmp_path / "server.log"
    try:
        async with _served(stores, log, redis_url=stores["redis_url"], database_url=urlunsplit(
                parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))) as c:
            assert (await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))).status_code == 200
            for how in (proxy.cut, proxy.hang):
                await how()
                codes = await wechat_codes(c, phone="13900139001", openid="o-outage-db")
                started = time.monotonic()
                _assert_unavailable(await _login(c, codes), started)
                started = time.monotonic()
                _assert_unavailable(await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens)), started)
                assert (await c.get("/readyz")).json()["checks"]["database"].startswith("error")

                await proxy.restore()
                codes = await wechat_codes(c, phone="13900139001", openid="o-outage-db")
                r = await _login(c, codes)
                assert r.status_code == 200, r.text
                r = await c.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))
                assert r.status_code == 200, r.text
        assert "13900139001" not in log.read_text(encoding="utf-8")
        assert _outages_logged(log), "the outage was not logged"
    finally:
        await proxy.close()

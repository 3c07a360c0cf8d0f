"""Several Sanic workers on PostgreSQL and Redis: logins and sessions hold across processes."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"),
                                reason="several workers share state through Redis; the embedded store is per process")


def _wait(proc: subprocess.Popen, log: Path, workers: int) -> None:
    # The manager binds the port before the workers exist, so a connection proves nothing: wait until every
    # worker says it is ready (a SIGTERM before that leaves Sanic's manager waiting out its start-up timeout).
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        if log.read_text().count("Worker ready") >= workers:
            return
        time.sleep(0.2)
    raise AssertionError("the workers did not start: " + log.read_text()[-3000:])


async def test_two_workers_serve_logins_and_refreshes(live, tmp_path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WORKERS": "2", "DATA_DIR": str(live.settings.data_dir),
           "DATABASE_URL": live.settings.database_url, "REDIS_URL": live.settings.redis_url,
           "JOB_QUEUE": live.settings.job_queue, "ACCESS_LOG": "false", "LOG_LEVEL": "INFO", "TZ": "Asia/Shanghai"}
    log = tmp_path / "server.log"
    # Its own session: Sanic's manager kills a stuck worker's whole process group, which must not be ours.
    proc = subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        await asyncio.to_thread(_wait, proc, log, 2)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for i in range(12):
                # A fresh connection each time, so the kernel spreads them over both workers.
                async with httpx.AsyncClient(base_url=base, timeout=10) as one:
                    codes = (await one.post("/sandbox/wechat/codes", json={"phone": f"1370000{i:04d}"})).json()
                    r = await one.post("/api/v1/auth/wechat/login",
                                       json={"code": codes["code"], "phone_code": codes["phone_code"]})
                    assert r.status_code == 200, r.text
                    tokens = r.json()
                r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
                assert r.status_code == 200
                r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
                assert r.status_code == 200 and r.json()["id"] == tokens["citizen"]["id"]
            assert (await client.get("/readyz")).status_code == 200
    finally:
        proc.terminate()
        try:
            assert proc.wait(15) == 0, log.read_text()[-3000:]  # a clean shutdown on SIGTERM
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("no clean exit within 15 s of SIGTERM: " + log.read_text()[-3000:]) from None

"""SIGTERM drains `python server.py`: a login in flight through a slow upstream finishes (or is cut after the grace),
new connections are refused at once, and the process exits 0 with a clean log; the listen backlog is a setting.

On PostgreSQL and Redis with two workers, embedded with one."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.factories import random_phone

ROOT = Path(__file__).resolve().parents[2]
# Several workers share state through Redis; the embedded store lives in its one process.
WORKERS = 2 if os.environ.get("REDIS_URL") else 1
LATENCY_MS = 1500  # each call to the slow sandbox WeChat: a login waits on two of them in turn
TEARDOWN_SECONDS = 10  # Sanic's main process noticing its workers are gone, on a loaded CI machine


def _start(live, log: Path, **extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # The upstream is the test session's own server: the sandbox WeChat of the process under test would go
    # down with it.
    env = {**os.environ, "PORT": str(port), "WORKERS": str(WORKERS), "DATA_DIR": str(live.settings.data_dir),
           "WECHAT_API_BASE": f"{live.base_url}/sandbox/wechat/", "ACCESS_LOG": "false", "LOG_LEVEL": "INFO",
           "TZ": "Asia/Shanghai", "PYTHONUNBUFFERED": "1", **extra}
    for name, value in (("DATABASE_URL", live.settings.database_url), ("REDIS_URL", live.settings.redis_url)):
        if value:
            env[name] = value
        else:
            env.pop(name, None)
    if live.settings.redis_url:
        env["JOB_QUEUE"] = live.settings.job_queue
    # Its own session: Sanic's manager kills a stuck worker's whole process group, which must not be ours.
    proc = subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(proc: subprocess.Popen, log: Path) -> None:
    # The manager binds the port before the workers exist: wait until every worker says it is ready.
    deadline = time.time() + 90
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        if log.read_text().count("Worker ready") >= WORKERS:
            return
        time.sleep(0.2)
    raise AssertionError("the workers did not start: " + log.read_text()[-3000:])


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


async def _slow_login(client: httpx.AsyncClient, base: str) -> httpx.Response:
    codes = (await client.post("/sandbox/wechat/codes", json={"phone": random_phone()})).json()
    await client.put("/sandbox/wechat/faults", json={"latency_ms": LATENCY_MS})
    async with httpx.AsyncClient(base_url=base, timeout=30) as one:
        return await one.post("/api/v1/auth/wechat/login", json={"code": codes["code"],
                                                                 "phone_code": codes["phone_code"]})


async def _refused(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base, timeout=0.5) as fresh:
            await fresh.get("/healthz")
    except httpx.ConnectError:
        return True
    except httpx.TransportError:  # queued the moment before the listening socket closed, then reset
        return False
    return False


def _assert_clean(log: Path) -> str:
    text = log.read_text()
    assert "Traceback" not in text and '"level": "error"' not in text, text[-3000:]
    return text


def _backlog(port: str) -> set[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return {line.split()[2] for line in out.splitlines()}  # a listening socket's Send-Q is its backlog


async def test_sigterm_lets_the_request_in_flight_finish_and_refuses_new_connections(client, live, tmp_path):
    log = tmp_path / "server.log"
    proc, base = _start(live, log, SHUTDOWN_GRACE_SECONDS="30", LISTEN_BACKLOG="777")
    try:
        await asyncio.to_thread(_wait_ready, proc, log)
        # The backlog setting reaches the listening socket (the kernel caps it at net.core.somaxconn).
        somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
        assert _backlog(base.rsplit(":", 1)[1]) == {str(min(777, somaxconn))}
        login = asyncio.create_task(_slow_login(client, base))
        await asyncio.sleep(LATENCY_MS / 1000)  # the login is waiting on the upstream
        assert not login.done()
        signalled = time.monotonic()
        # To the whole group, as systemd's stop does: each worker gets it from there and again from Sanic's manager.
        os.killpg(proc.pid, signal.SIGTERM)
        await asyncio.sleep(0.2)  # the signal is handled a moment after it is sent
        deadline = time.monotonic() + 3
        while not await _refused(base):
            assert time.monotonic() < deadline, "still accepting connections 3 s after SIGTERM"
            await asyncio.sleep(0.1)
        assert not login.done()  # refused while the login was still running
        r = await login
        assert r.status_code == 200, r.text
        assert r.headers["connection"] == "close"  # no keep-alive connection holds the shutdown up
        code = await asyncio.to_thread(proc.wait, 30)
        # Out soon after the last answer, not at the end of the 30 s grace.
        assert code == 0 and time.monotonic() - signalled < 15, log.read_text()[-3000:]
        assert "CancelledError" not in _assert_clean(log)
    finally:
        _stop(proc)


async def test_a_request_longer_than_the_grace_is_cut_and_the_process_still_exits_cleanly(client, live, tmp_path):
    log = tmp_path / "server.log"
    proc, base = _start(live, log, SHUTDOWN_GRACE_SECONDS="1")
    try:
        await asyncio.to_thread(_wait_ready, proc, log)
        login = asyncio.create_task(_slow_login(client, base))
        await asyncio.sleep(LATENCY_MS / 1000 / 2)
        signalled = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        with pytest.raises(httpx.TransportError):  # cut: the connection closes without an answer
            await login
        code = await asyncio.to_thread(proc.wait, 30)
        # The grace, the upstream call a cut login's thread is still in (the process waits for its threads), and
        # Sanic's main process noticing its worker is gone.
        assert code == 0 and time.monotonic() - signalled < 1 + LATENCY_MS / 1000 + TEARDOWN_SECONDS, \
            log.read_text()[-3000:]
        assert "login stopped. Transport is closed." in _assert_clean(log)  # the cut, logged as such
    finally:
        _stop(proc)

"""Processes a test starts on its own: `server.py run` served until ready, and process groups killed for good."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def kill_groups(processes: Iterable[subprocess.Popen], *, wait: float = 10) -> None:
    """SIGKILL each process's group (each started with start_new_session) and reap it; idempotent."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)


@contextlib.asynccontextmanager
async def served_app(env: dict, log: Path, *, port: int, headers: dict | None = None,
                     timeout: float = 60) -> AsyncIterator[httpx.AsyncClient]:
    """`server.py run` with `env` in a process of its own (the ORM's connections are global to a process), its
    output in `log`: an httpx client on it once /readyz answers 200 (`client.log` is the log), stopped after."""
    from tests.core.outage_proxy import stop_process

    proc = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "run"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, headers=headers) as c:
            deadline = time.monotonic() + timeout
            while True:
                assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.get("/readyz", timeout=2)).status_code == 200:
                        break
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
                await asyncio.sleep(0.2)
            c.log = log
            yield c
    finally:
        stop_process(proc)

"""A job worker started while PostgreSQL is out waits it out (one line, no exit) and works once it is back; the
5-second watchdog meeting an outage later says so once, not with a traceback every run."""

import asyncio
import os
import secrets

import pytest

from tests.conftest import free_port
from tests.core.outage_proxy import database_proxy, through
from tests.e2e.test_worker_outage import (
    _logged,
    _outage_over,
    _purge_done,
    _redis,
    _stop,
    _worker,
)

WATCHDOG_RUNS = 2  # the watchdog runs every 5 s: an outage this many runs long


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="cuts PostgreSQL through a proxy")
async def test_a_worker_started_in_a_database_outage_waits_and_the_watchdog_logs_once(live, tmp_path):
    port, queue, log = free_port(), f"start-{secrets.token_hex(4)}", tmp_path / "worker.log"
    proxy = database_proxy(live.settings.database_url)  # not started: the database refuses connections
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = _redis(port, tmp_path / "redis")
    worker = None
    try:
        worker = _worker(live, redis_url, queue, log, DATABASE_URL=through(live.settings.database_url, proxy))
        await _logged(log, "store_outage_started", worker, timeout=15)
        await asyncio.sleep(4)
        assert worker.poll() is None, "the worker ended in the outage: " + log.read_text()[-3000:]
        assert '"loop": "worker_start"' in log.read_text()
        await proxy.start()
        await _purge_done(redis_url, queue, log, timeout=30)
        await _outage_over(worker, log)

        await proxy.cut()
        await asyncio.sleep(5 * WATCHDOG_RUNS + 1)
        assert worker.poll() is None, log.read_text()[-3000:]
        await proxy.restore()
        await _purge_done(redis_url, queue, log, timeout=30)
        text = log.read_text()
        assert text.count("store_outage_started") == 2, text[-3000:]  # one for each outage
        assert "campaign_watchdog failed" not in text and '"job": "campaign_watchdog"' not in text, text[-3000:]
        await _stop(worker, log)
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        redis.kill()
        redis.wait(5)
        await proxy.close()

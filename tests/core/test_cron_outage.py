"""A periodic job that meets a store outage ends quietly: the process logs the outage once, not a traceback per run."""

import asyncpg
import pytest
from structlog.testing import capture_logs

from api.core.jobs import quiet_in_outages
from tests.conftest import free_port


async def test_a_periodic_job_logs_an_outage_once_and_its_end_once():
    port, up = free_port(), {"now": False}

    async def watchdog(ctx):
        if not up["now"]:  # a database that refuses connections, as one that is down does
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=2)
        return 7

    run = quiet_in_outages(watchdog)
    with capture_logs() as logs:
        for _ in range(3):
            assert await run({}) is None
        up["now"] = True
        assert await run({}) == 7
        assert await run({}) == 7
    events = [line["event"] for line in logs]
    assert events.count("store_outage_started") == 1 and events.count("store_outage_ended") == 1, logs


async def test_any_other_error_of_a_periodic_job_still_fails_it():
    async def broken(ctx):
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        await quiet_in_outages(broken)({})

"""A periodic job that meets a store outage ends quietly: the process logs the outage once, not a traceback per run."""

import asyncio

import asyncpg
import pytest
from structlog.testing import capture_logs

from api.core import backoff
from api.core.jobs import quiet_in_outages
from tests.conftest import free_port


@pytest.fixture(autouse=True)
def no_outage_in_progress(monkeypatch):
    # The outage log is per process: a loop of an earlier test still waiting out its own outage (a worker stopped
    # mid-outage) would make this test's outage part of that one, logged as started long ago (seen once in a full run).
    monkeypatch.setattr(backoff, "_failing", set())
    monkeypatch.setattr(backoff, "_since", None)


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


async def test_an_hourly_job_that_met_the_outage_does_not_hold_it_open_until_its_next_run(monkeypatch):
    from api.core import backoff
    from api.core.backoff import Backoff

    monkeypatch.setattr(backoff, "PERIODIC_HOLD_SECONDS", 0.2)

    port, up = free_port(), {"now": False}

    async def hourly(ctx):
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=2)  # down for the whole test

    async def watchdog(ctx):
        if not up["now"]:
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=2)
        return 7

    loop, run_watchdog = Backoff("event_lane"), quiet_in_outages(watchdog)
    with capture_logs() as logs:
        assert await quiet_in_outages(hourly)({}) is None  # its next run is an hour away
        assert await run_watchdog({}) is None
        loop.note(ConnectionRefusedError(111, "refused"))  # a loop that polls all the time fails too
        up["now"] = True
        await asyncio.sleep(0.3)  # the hold is over
        assert await run_watchdog({}) == 7
        events = [line["event"] for line in logs]
        assert "store_outage_ended" not in events  # the loop is still failing: the outage is not over
        loop.ok()
    events = [line["event"] for line in logs]
    assert events.count("store_outage_started") == 1 and events.count("store_outage_ended") == 1, logs


async def test_a_frequent_job_failing_through_a_partial_outage_does_not_flap_the_log():
    from api.core.backoff import Backoff

    port, up = free_port(), {"now": False}

    async def watchdog(ctx):
        if not up["now"]:  # its store stays down while the other one works
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/x", timeout=2)
        return 7

    run, other = quiet_in_outages(watchdog), Backoff("event_lane")
    with capture_logs() as logs:
        for _ in range(3):
            assert await run({}) is None
            other.ok()  # a loop on the store that is up works all along
        events = [line["event"] for line in logs]
        assert events.count("store_outage_started") == 1 and "store_outage_ended" not in events, logs
        up["now"] = True
        assert await run({}) == 7
    events = [line["event"] for line in logs]
    assert events.count("store_outage_ended") == 1, logs

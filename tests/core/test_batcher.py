"""Group commit: concurrent submissions share a batch, each gets its own result, failures reach their callers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from api.core.batcher import Batcher


async def test_concurrent_calls_share_batches_and_get_their_own_results():
    batches: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        batches.append(items)
        await asyncio.sleep(0.01)
        return [i * 2 for i in items]

    batcher = Batcher(double, max_size=50)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(120)))
    assert results == [i * 2 for i in range(120)]
    assert sorted(i for batch in batches for i in batch) == list(range(120))
    assert len(batches) <= 4 and max(len(b) for b in batches) <= 50
    assert await batcher.submit(7) == 14  # a lone call still runs


async def test_a_failed_batch_fails_its_callers_and_not_the_next_batch():
    calls = 0

    async def flaky(items: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")
        return items

    batcher = Batcher(flaky)
    first = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in first)
    assert await batcher.submit(3) == 3


async def test_results_must_match_items():
    async def short(items):
        return items[:-1]

    batcher = Batcher(short)
    with pytest.raises(ValueError):
        await asyncio.wait_for(asyncio.gather(batcher.submit(1), batcher.submit(2)), 2)


async def test_coalesced_redis_reads_give_each_caller_its_own_values(redis):
    from api.core.redis import CoalescedReads

    tag = f"coalesce-test-{id(redis)}"
    await redis.mset({f"{tag}:{i}": str(i) for i in range(0, 60, 2)})  # odd keys are missing
    reads = CoalescedReads(redis)
    asks = [[f"{tag}:{i}", f"{tag}:{i + 1}"] for i in range(0, 60, 2)] + [[f"{tag}:59"]]
    answers = await asyncio.gather(*(reads.mget(keys) for keys in asks), reads.mget([f"{tag}:0"]))
    assert answers[:30] == [[str(i), None] for i in range(0, 60, 2)]
    assert answers[30:] == [[None], ["0"]]
    await redis.set(f"{tag}:0", "changed")
    assert await reads.mget([f"{tag}:0"]) == ["changed"]  # a read made after a write sees it


async def test_the_hold_spans_consecutive_batches_and_is_taken_anew_after_a_failure():
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def hold():
        events.append("take")
        try:
            yield
        finally:
            events.append("let go")

    async def run(items: list[int]) -> list[int]:
        events.append(f"batch {items}")
        await asyncio.sleep(0.01)
        if -1 in items:
            raise RuntimeError("connection broke")
        return items

    batcher = Batcher(run, hold=hold)
    first = asyncio.gather(batcher.submit(1), batcher.submit(2))
    await asyncio.sleep(0)
    later = asyncio.gather(batcher.submit(3))  # arrives while the first batch runs
    assert await first == [1, 2] and await later == [3]
    assert events == ["take", "batch [1, 2]", "batch [3]", "let go"]
    events.clear()
    failing = asyncio.gather(batcher.submit(-1), return_exceptions=True)
    await asyncio.sleep(0)
    after = asyncio.gather(batcher.submit(4))  # waits behind the failing batch
    assert isinstance((await failing)[0], RuntimeError)
    assert await after == [4]
    assert events == ["take", "batch [-1]", "let go", "take", "batch [4]", "let go"]


async def test_a_hold_that_cannot_be_taken_fails_the_waiting_callers_only():
    broken = True

    @contextlib.asynccontextmanager
    async def hold():
        if broken:
            raise ConnectionError("no database connection")
        yield

    async def echo(items):
        return items

    batcher = Batcher(echo, hold=hold)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    broken = False
    assert await batcher.submit(3) == 3


async def test_a_hold_that_fails_to_let_go_does_not_fail_the_batches_it_ran():
    @contextlib.asynccontextmanager
    async def hold():
        yield
        raise ConnectionError("release failed")

    async def echo(items):
        return items

    batcher = Batcher(echo, hold=hold)
    assert await asyncio.gather(batcher.submit(1), batcher.submit(2)) == [1, 2]
    assert await batcher.submit(3) == 3

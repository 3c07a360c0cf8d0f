"""Housekeeping jobs are idempotent; jobs retry transient errors with backoff and end once, with a reason."""

import asyncio
import datetime as dt
import secrets
import sqlite3
import time

import arq.worker
import asyncpg
import pytest
from arq.constants import retry_key_prefix
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from api.core import failures
from api.core.errors import UpstreamOutcomeUnknown, UpstreamUnavailable, ValidationFailed
from api.core.jobs import Job
from auth.jobs import purge_expired_refresh_tokens
from auth.models import RefreshToken


async def test_purge_removes_only_long_expired_tokens(live):
    now = dt.datetime.now(dt.timezone.utc)
    old = await RefreshToken.create(token_hash="h-old-" + now.isoformat(), family_id="ses_x", subject_type="citizen",
                                    subject_id="cit_x", expires_at=now - dt.timedelta(days=3))
    fresh = await RefreshToken.create(token_hash="h-new-" + now.isoformat(), family_id="ses_x",
                                      subject_type="citizen", subject_id="cit_x", expires_at=now + dt.timedelta(days=3))
    assert await purge_expired_refresh_tokens({}) >= 1
    assert await purge_expired_refresh_tokens({}) == 0  # running again changes nothing
    assert not await RefreshToken.exists(id=old.id)
    assert await RefreshToken.exists(id=fresh.id)


async def test_purge_forgets_only_old_idempotency_records(live):
    from api.core.jobs import purge_idempotency_records
    from api.core.models import IdempotencyRecord

    old = await IdempotencyRecord.create(scope="s", key=f"old-{dt.datetime.now().timestamp()}", body_hash="h",
                                         status=201, response={})
    await IdempotencyRecord.filter(id=old.id).update(created_at=dt.datetime.now(dt.timezone.utc)
                                                     - dt.timedelta(days=8))
    fresh = await IdempotencyRecord.create(scope="s", key=f"new-{dt.datetime.now().timestamp()}", body_hash="h",
                                           status=201, response={})
    assert await purge_idempotency_records({}) >= 1
    assert not await IdempotencyRecord.exists(id=old.id) and await IdempotencyRecord.exists(id=fresh.id)


def test_cron_runs_of_two_queues_on_one_redis_do_not_collide(live):
    # arq keys a unique cron run by name and time only: queues sharing names would take each other's runs.
    from worker import worker_settings

    names = [{c.name for c in worker_settings(live.settings.model_copy(update={"job_queue": q}))["cron_jobs"]}
             for q in ("arq:queue", "other")]
    assert names[0] and not names[0] & names[1]
    assert all(c.unique for c in worker_settings(live.settings)["cron_jobs"])


# Retries, driven through a real arq worker on the test server's job store (its own queue, so the server's worker
# never takes these jobs).

async def _work(live, *jobs: Job, enqueue: list[tuple]) -> list:
    """Run `jobs` in a burst worker until the queue is empty; the arq results of the enqueued calls."""
    queue = f"test-retries-{secrets.token_hex(4)}"
    pool = live.app.ctx.deps.jobs.pool
    queued = [await pool.enqueue_job(name, *args, _queue_name=queue, _job_id=job_id)
              for name, args, job_id in enqueue]
    worker = arq.worker.Worker(functions=[j.arq_function() for j in jobs], redis_pool=pool, queue_name=queue,
                               burst=True, poll_delay=0.02, handle_signals=False, keep_result=60, ctx={})
    await asyncio.wait_for(worker.main(), 30)
    return [await q.result_info() for q in queued]


def _failures() -> tuple[list, object]:
    recorded = []

    async def record(ctx, *args, reason):
        recorded.append((args, reason, ctx["job_try"]))

    return recorded, record


async def test_a_job_whose_first_two_tries_hit_a_transient_error_completes_on_the_third(live):
    tries_at: list[tuple[int, float]] = []
    recorded, record = _failures()

    async def flaky_refresh(ctx, key):
        tries_at.append((ctx["job_try"], time.monotonic()))
        if ctx["job_try"] == 1:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        if ctx["job_try"] == 2:
            raise OperationalError(sqlite3.OperationalError("database is locked"))
        return f"done {key}"

    [result] = await _work(live, Job(flaky_refresh, tries=3, backoff_seconds=0.3, on_failure=record),
                           enqueue=[("flaky_refresh", ("k1",), None)])
    assert result.success and result.result == "done k1" and result.job_try == 3
    assert [t for t, _ in tries_at] == [1, 2, 3] and recorded == []
    # The n-th retry waits backoff * 2**(n-1): 0.3 s, then 0.6 s.
    assert tries_at[1][1] - tries_at[0][1] >= 0.3 and tries_at[2][1] - tries_at[1][1] >= 0.6


async def test_a_job_that_keeps_failing_ends_once_with_its_reason(live):
    runs: list[str] = []
    recorded, record = _failures()

    async def always_down(ctx, key):
        runs.append(key)
        raise RedisConnectionError("Connection refused")

    async def broken(ctx, key):
        runs.append(key)
        raise ValueError("a bug, not an outage")

    async def refused(ctx, key):
        runs.append(key)
        raise ValidationFailed("bad input")

    results = await _work(live, Job(always_down, tries=3, backoff_seconds=0.05, on_failure=record),
                          Job(broken, tries=3, backoff_seconds=0.05, on_failure=record),
                          Job(refused, tries=3, backoff_seconds=0.05, on_failure=record),
                          enqueue=[("always_down", ("a",), None), ("broken", ("b",), None),
                                   ("refused", ("c",), None)])
    assert [r.success for r in results] == [False, False, False]
    assert sorted(runs) == ["a", "a", "a", "b", "c"]  # only the outage was tried again, and only 3 times
    assert sorted(recorded) == [(("a",), "redis_unavailable", 3), (("b",), "internal_error", 1),
                                (("c",), "validation_failed", 1)]


async def test_a_last_try_that_never_ended_or_ran_out_of_time_still_ends_through_the_handler(live):
    runs: list[str] = []
    recorded, record = _failures()

    async def lost(ctx, key):
        runs.append(key)

    async def slow(ctx, key):
        runs.append(key)
        await asyncio.sleep(10)

    # arq counts a try per pick: a worker that died during the last try leaves the counter at `tries`.
    job_id = f"lost-{secrets.token_hex(4)}"
    await live.app.ctx.deps.jobs.pool.set(f"{retry_key_prefix}{job_id}", 2, ex=60)
    results = await _work(live, Job(lost, tries=2, on_failure=record),
                          Job(slow, tries=3, timeout_seconds=0.3, on_failure=record),
                          enqueue=[("lost", ("l",), job_id), ("slow", ("s",), None)])
    assert runs == ["s"]  # the lost job is not run a third time, and the slow one is not retried
    assert sorted(recorded) == [(("l",), "worker_lost", 3), (("s",), "timed_out", 1)]
    assert [r.success for r in results] == [True, False]


@pytest.mark.parametrize(("error", "reason"), [
    (asyncpg.exceptions.ConnectionDoesNotExistError("closed"), "database_unavailable"),
    (asyncpg.exceptions.TooManyConnectionsError("too many"), "database_unavailable"),
    (asyncpg.exceptions.QueryCanceledError("statement timeout"), "database_timeout"),
    (DBConnectionError("can't connect"), "database_unavailable"),
    (OperationalError(sqlite3.OperationalError("database is locked")), "database_busy"),
    (RedisConnectionError("refused"), "redis_unavailable"),
    (RedisTimeoutError("timed out"), "redis_timeout"),
    (UpstreamUnavailable(), "upstream_unavailable"),
    (UpstreamOutcomeUnknown(), "upstream_timeout"),
    (ConnectionRefusedError(111, "refused"), "connection_error"),
    (TimeoutError(), "timeout"),
    # What a PostgreSQL restart raised under in_transaction() (bench/faults.py's pg_restart): now 503s, not 500s.
    (asyncpg.InterfaceError("cannot call Transaction.rollback(): the underlying connection is closed"),
     "database_unavailable"),
    (OperationalError(asyncpg.InterfaceError("the underlying connection is closed")), "database_unavailable"),
    (asyncpg.exceptions.InternalClientError("PoolConnectionHolder.release() called on a free connection holder"),
     "database_unavailable"),
    (asyncpg.InterfaceError("cannot perform operation: another operation is in progress"), None),  # a misuse
    (OperationalError(sqlite3.OperationalError("no such table: policy")), None),
    (OperationalError(asyncpg.exceptions.UndefinedTableError("no table")), None),
    (IntegrityError("duplicate"), None),
    (FileNotFoundError("gone"), None),
    (ValidationFailed(), None),
    (ValueError(), None),
])
def test_which_errors_are_transient(error, reason):
    assert failures.transient_reason(error) == reason


def test_a_transient_error_wrapped_by_another_is_still_transient():
    try:
        try:
            raise RedisConnectionError("refused")
        except RedisConnectionError as exc:
            raise RuntimeError("while reading the heartbeat") from exc
    except RuntimeError as wrapped:
        assert failures.transient_reason(wrapped) == "redis_unavailable"
    assert failures.failure_reason(KeyError("x")) == "internal_error"
    assert failures.failure_reason(ValidationFailed()) == "validation_failed"

"""Background job machinery (arq): how a job states its retry policy, and the core's own housekeeping job.

Each domain's jobs live in `<domain>/jobs.py` as `JOBS` (queued by name) and `CRON` (periodic); the top-level
`worker.py` collects them. Nothing here imports a domain.

A try that raises a transient error (api.core.failures) is retried after `backoff_seconds * 2**(try-1)` while
tries remain; the last try, or any other error, ends the job: its `on_failure` writes the terminal state
(`failed` and the reason) and the error is raised on to arq, which records the job as failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from arq import Retry, cron, func

from api.core import audit, db, failures, partitions
from api.core.backoff import Backoff, store_outage
from api.core.logging import get_logger
from api.core.models import AuditLog, IdempotencyRecord

log = get_logger("api.jobs")

# (ctx, *the job's arguments, reason=...) -> None: the job's terminal state, written when it gives up.
FailureHandler = Callable[..., Awaitable[object]]
WORKER_LOST = "worker_lost"
TIMED_OUT = "timed_out"
TIMEOUT_MARGIN_SECONDS = 5


@dataclass(frozen=True)
class Job:
    """A queued job and its retry policy: `tries` in all, the n-th retry deferred `backoff_seconds * 2**(n-1)`;
    `on_failure` records the terminal state when the tries run out or an error is not transient."""

    coroutine: Callable[..., Awaitable[object]]
    tries: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 300
    on_failure: FailureHandler | None = None

    @property
    def name(self) -> str:
        """The name the job is queued by."""
        return self.coroutine.__name__

    def arq_function(self):
        """The job as arq runs it."""
        # One pick more than the tries: a last try whose worker died never ended in our hands, and that extra
        # pick writes its terminal state instead of running it again.
        # arq's own timeout comes later than the job's: a job out of time still ends through `on_failure`.
        return func(with_retries(self.coroutine, tries=self.tries, backoff_seconds=self.backoff_seconds,
                                 on_failure=self.on_failure, timeout_seconds=self.timeout_seconds),
                    name=self.name, max_tries=self.tries + 1, timeout=self.timeout_seconds + TIMEOUT_MARGIN_SECONDS)


@dataclass(frozen=True)
class Cron:
    """A periodic job: arq `cron` keywords (`minute={17}`, `second={0, 5}`...) and its retry policy."""

    coroutine: Callable[..., Awaitable[object]]
    when: dict
    tries: int = 3
    backoff_seconds: float = 2.0
    run_at_startup: bool = False

    def arq_cron(self, queue: str):
        """The cron job as arq runs it on `queue`."""
        # arq makes a unique cron run's job id from the job's name and time alone; without the queue in the
        # name, another deployment (or test queue) on the same Redis takes every run and this one's never runs.
        return cron(with_retries(quiet_in_outages(self.coroutine), tries=self.tries,
                                 backoff_seconds=self.backoff_seconds),
                    name=f"cron:{queue}:{self.coroutine.__name__}", unique=True, max_tries=self.tries + 1,
                    run_at_startup=self.run_at_startup, **self.when)


def quiet_in_outages(coroutine):
    """`coroutine(ctx, *args)` as a periodic job runs it: a run that meets a database or Redis outage ends quietly
    (the outage is logged once for the process, api.core.backoff), since the next run comes in seconds anyway;
    without this, a 5-second job writes a traceback every 5 seconds of the outage."""
    backoff = Backoff(coroutine.__name__, periodic=True)

    async def run(ctx, *args):
        try:
            result = await coroutine(ctx, *args)
        except Exception as exc:
            if not store_outage(exc):
                raise
            backoff.note(exc)
            return None
        backoff.ok()
        return result

    run.__name__ = run.__qualname__ = coroutine.__name__
    run.__doc__ = coroutine.__doc__
    return run


def with_retries(coroutine, *, tries: int, backoff_seconds: float, on_failure: FailureHandler | None = None,
                 timeout_seconds: float | None = None):
    """`coroutine(ctx, *args)` as arq runs it: transient errors retried with backoff, the end recorded once."""
    name = coroutine.__name__

    async def attempt(ctx, *args):
        job_try = ctx.get("job_try", 1)
        if job_try > tries:
            await _give_up(ctx, args, name=name, reason=WORKER_LOST, on_failure=on_failure)
            return None
        deadline = asyncio.timeout(timeout_seconds)
        try:
            async with deadline:
                return await coroutine(ctx, *args)
        except Retry:
            raise
        except Exception as exc:
            timed_out = deadline.expired()  # a job out of its time would most likely run out again: not retried
            reason = None if timed_out else failures.transient_reason(exc)
            if reason and job_try < tries:
                defer = backoff_seconds * 2 ** (job_try - 1)
                log.warning("job_retry", job=name, job_try=job_try, reason=reason, defer_seconds=defer)
                raise Retry(defer=defer) from exc
            final = TIMED_OUT if timed_out else reason or failures.failure_reason(exc)
            await _give_up(ctx, args, name=name, reason=final, on_failure=on_failure, error_type=type(exc).__name__)
            raise

    attempt.__name__ = attempt.__qualname__ = name
    attempt.__doc__ = coroutine.__doc__
    return attempt


async def _give_up(ctx, args: tuple, *, name: str, reason: str, on_failure: FailureHandler | None,
                   error_type: str | None = None) -> None:
    log.error("job_failed", job=name, job_try=ctx.get("job_try"), reason=reason, error_type=error_type)
    if on_failure is None:
        return
    try:
        await on_failure(ctx, *args, reason=reason)
    except Exception as exc:  # noqa: BLE001 - the store that failed the job may fail this write too
        # Left as it was (queued or running): the domain's own watchdog or a rerun takes it from there.
        log.error("job_failure_not_recorded", job=name, reason=reason, error_type=type(exc).__name__)


async def cancel_and_wait(task: asyncio.Task | None) -> None:
    """Cancel a background loop and wait for it to end, whatever it ends with (the process is shutting down)."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down, the outcome is moot
        pass


def days_ago(days: float) -> dt.datetime:
    """The moment `days` ago, in the zone ORM filters compare stored times in."""
    return db.as_stored(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days))


async def purge(query, *, event: str) -> int:
    """Delete what `query` selects and log how many rows went (a housekeeping job's body)."""
    deleted = await query.delete()
    log.info(event, count=deleted)
    return deleted


async def purge_idempotency_records(ctx) -> int:
    """Forget Idempotency-Key answers older than a week (a client retries within minutes, not weeks)."""
    return await purge(IdempotencyRecord.filter(created_at__lt=days_ago(7)), event="purged_idempotency_records")


async def maintain_audit_log(ctx) -> int:
    """Make the audit log's coming monthly partitions and drop the months past AUDIT_RETENTION_DAYS (idempotent)."""
    now = dt.datetime.now(dt.timezone.utc)
    await partitions.ensure_months(table=AuditLog._meta.db_table, now=now)
    gone = await audit.erase_older_than(days=ctx["deps"].settings.audit_retention_days, now=now)
    log.info("audit_retention", removed=gone)
    return gone


JOBS: list[Job] = []
CRON = [Cron(purge_idempotency_records, {"hour": {3}, "minute": {40}}),
        Cron(maintain_audit_log, {"hour": {2}, "minute": {50}})]

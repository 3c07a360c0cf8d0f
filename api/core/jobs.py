"""Background job machinery (arq): how a job states its retry policy, and the core's own housekeeping job.

Each domain's jobs live in `<domain>/jobs.py` as `JOBS` (queued by name) and `CRON` (periodic); the top-level
`worker.py` collects them. Nothing here imports a domain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from arq import cron, func

from api.core import db
from api.core.logging import get_logger
from api.core.models import IdempotencyRecord

log = get_logger("api.jobs")


@dataclass(frozen=True)
class Job:
    """A queued job and its retry policy: `tries` in all, the n-th retry deferred `backoff_seconds * 2**(n-1)`."""

    coroutine: object
    tries: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: int = 300

    @property
    def name(self) -> str:
        """The name the job is queued by."""
        return self.coroutine.__name__

    def arq_function(self):
        """The job as arq runs it."""
        return func(self.coroutine, name=self.name, max_tries=self.tries, timeout=self.timeout_seconds)


@dataclass(frozen=True)
class Cron:
    """A periodic job: arq `cron` keywords (`minute={17}`, `second={0, 5}`...) and its tries."""

    coroutine: object
    when: dict
    tries: int = 3
    run_at_startup: bool = False

    def arq_cron(self, queue: str):
        """The cron job as arq runs it on `queue`."""
        # arq makes a unique cron run's job id from the job's name and time alone; without the queue in the
        # name, another deployment (or test queue) on the same Redis takes every run and this one's never runs.
        return cron(self.coroutine, name=f"cron:{queue}:{self.coroutine.__name__}", unique=True,
                    max_tries=self.tries, run_at_startup=self.run_at_startup, **self.when)


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


JOBS: list[Job] = []
CRON = [Cron(purge_idempotency_records, {"hour": {3}, "minute": {40}})]

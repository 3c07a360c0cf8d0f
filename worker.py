"""The arq worker: collects each domain's jobs (`<domain>/jobs.py`) into one worker configuration.

`python server.py worker` runs it on its own (production); the embedded default runs the same configuration
inside each server process (`InlineWorker`), with that process's dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal

import arq.worker
from redis.exceptions import RedisError

import api.applications.jobs
import api.citizens.jobs
import api.codes.jobs
import api.core.jobs
import api.policies.jobs
import auth.jobs
import notifications.jobs
from api.core import db
from api.core.backoff import Backoff, store_outage
from api.core.deps import Deps
from api.core.jobs import cancel_and_wait
from api.core.logging import configure_logging, get_logger
from api.core.redis import arq_settings
from api.core.sentinel import open_arq_pool
from api.core.settings import Settings, load_settings
from bootstrap import close_deps, open_deps
from notifications import spread
from notifications.events import EventSender

log = get_logger("worker")
# A campaign's senders are queued by api/policies/jobs.py, which owns the campaign and hands the senders what they
# need of it. Event messages have a lane of their own beside the queue (notifications.events.EventSender), started
# with every worker, so no campaign job can hold up a citizen's own news.
JOB_MODULES = (api.core.jobs, auth.jobs, api.citizens.jobs, api.codes.jobs, api.applications.jobs, api.policies.jobs,
               notifications.jobs)


def all_jobs() -> list:
    """Every domain's queued jobs."""
    return [job for module in JOB_MODULES for job in module.JOBS]


def all_cron() -> list:
    """Every domain's periodic jobs."""
    return [job for module in JOB_MODULES for job in module.CRON]


async def _startup(ctx) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    ctx["deps"] = await open_when_reachable(settings)
    ctx["event_sender"] = EventSender(ctx["deps"])
    ctx["event_sender"].start()
    ctx["presence"] = spread.Presence(ctx["deps"].redis, settings.job_queue)
    ctx["worker_id"] = ctx["presence"].worker_id
    ctx["presence"].start()


async def _shutdown(ctx) -> None:
    # Stopped mid-start (SIGTERM while the database was still out): only what was started is closed.
    if "presence" in ctx:
        await ctx["presence"].stop()
    if "event_sender" in ctx:
        await ctx["event_sender"].stop()
    if "deps" in ctx:
        await close_deps(ctx["deps"])


async def open_when_reachable(settings: Settings) -> Deps:
    """Open the dependencies once the database answers: a worker started during a PostgreSQL outage waits it out
    (backing off, logging once) instead of exiting for its supervisor to restart it again and again."""
    backoff = Backoff("worker_start")
    # The pool connects lazily, so open_deps alone would start the worker on a database that is not there (and
    # its start-up reads would each log their own failure): ask it first.
    await db.open_db(settings)
    try:
        while True:
            try:
                await db.ping_db()
            except Exception as exc:
                if not store_outage(exc):
                    raise
                await backoff.failed(exc)
                continue
            backoff.ok()
            break
    finally:
        backoff.leave()
        await db.close_db()
    return await open_deps(settings)


def worker_settings(settings: Settings) -> dict:
    """The arq worker configuration for these settings."""
    return {
        "functions": [job.arq_function() for job in all_jobs()],
        "cron_jobs": [job.arq_cron(settings.job_queue) for job in all_cron()],
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "redis_settings": arq_settings(settings),
        "queue_name": settings.job_queue,
        "max_jobs": 8,
        "job_timeout": 300,
        "keep_result": 60,
    }


class SteadyWorker(arq.worker.Worker):
    """An arq worker that waits out Redis outages of any length (backing off, logging once) instead of ending;
    SIGTERM stops it at any moment, outage or not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backoff = Backoff("job_queue")
        self.stopping = False

    async def main(self) -> None:
        """Connect (waiting for Redis if it is not there yet), start, then poll until cancelled."""
        while self._pool is None:
            try:
                self._pool = await open_arq_pool(self.redis_settings, job_deserializer=self.job_deserializer,
                                               job_serializer=self.job_serializer,
                                               default_queue_name=self.queue_name,
                                               expires_extra_ms=self.expires_extra_ms)
            except Exception as exc:  # noqa: BLE001 - any connection failure: wait and try again
                await self.backoff.failed(exc)
        self.backoff.ok()
        await super().main()

    async def _poll_iteration(self) -> None:
        # Workers started together poll in step, and the first in step takes every job that comes due (a campaign's
        # sender moving to another worker would never get there, notifications/spread.py): a random pause each
        # round shuffles their turns.
        await asyncio.sleep(random.uniform(0, self.poll_delay_s))
        # arq lets a poll's error (Redis gone, or a job's own bookkeeping that failed with it) end the worker.
        while True:
            try:
                await super()._poll_iteration()
            except Exception as exc:  # noqa: BLE001 - never end the worker: wait and poll again
                await self.backoff.failed(exc)
                continue
            self.backoff.ok()
            return

    async def finish_job(self, *args, **kwargs) -> None:
        """Record a job's end (done, or deferred for a retry), waiting for Redis when it is out: left unrecorded,
        the job would sit behind its in-progress key for the whole job timeout before anyone ran it again."""
        while True:
            try:
                return await super().finish_job(*args, **kwargs)
            except (RedisError, OSError) as exc:
                if self.stopping:
                    raise
                await self.backoff.failed(exc)

    def handle_sig(self, signum: signal.Signals) -> None:
        """Stop polling and cancel the running jobs (arq runs them again later)."""
        self.stopping = True
        super().handle_sig(signum)

    async def close(self) -> None:
        """Close what the worker opened; a store that is out is not waited for (the process is leaving)."""
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        self.stopping = True
        self.backoff.leave()
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pool.delete(self.health_check_key), 1)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        with contextlib.suppress(Exception):
            await self.pool.close(close_connection_pool=True)
        self._pool = None


def run(settings: Settings) -> int:
    """Run the worker in the foreground until it is stopped."""
    SteadyWorker(**worker_settings(settings)).run()
    return 0


class InlineWorker:
    """An arq worker inside the serving process (the embedded default): jobs finish with nothing else started."""

    def __init__(self, deps: Deps):
        if not deps.settings.redis_url:
            arq.worker.log_redis_info = _no_redis_info  # fakeredis has no INFO command
        options = worker_settings(deps.settings)
        for name in ("redis_settings", "on_startup", "on_shutdown"):
            options.pop(name)  # the app has opened the database and owns the Redis pool
        self.presence = spread.Presence(deps.redis, deps.settings.job_queue)
        self.worker = SteadyWorker(**options, redis_pool=deps.jobs.pool, handle_signals=False,
                                   poll_delay=0.2, ctx={"deps": deps, "worker_id": self.presence.worker_id})
        self.task: asyncio.Task | None = None
        self.events = EventSender(deps)

    def start(self) -> None:
        """Start polling the queue and the event lane in the running loop."""
        self.task = asyncio.get_running_loop().create_task(self.worker.main())
        self.events.start()
        self.presence.start()
        log.info("inline_worker_started", queue=self.worker.queue_name)

    async def stop(self) -> None:
        """Stop polling; jobs cut off here run again on the next start (arq re-queues in-flight jobs)."""
        await self.presence.stop()
        await self.events.stop()
        await cancel_and_wait(self.task)
        # This closes the job pool too; close_deps closing it again is harmless.
        await self.worker.close()


async def _no_redis_info(*_args, **_kwargs) -> None:
    return None

"""The job queue (arq over Redis): enqueueing from the app, and the worker that runs in process when embedded."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis, RedisSettings, create_pool

from api.core.logging import get_logger
from api.core.settings import Settings

log = get_logger("api.queue")


class JobQueue:
    """Enqueue background jobs by function name on the configured queue."""

    def __init__(self, pool: ArqRedis, queue_name: str):
        self.pool, self.queue_name = pool, queue_name

    async def enqueue(self, function: str, *args, job_id: str | None = None, defer_seconds: float | None = None):
        """Queue `function(*args)`; with `job_id`, nothing is queued while a job of that id is known."""
        return await self.pool.enqueue_job(function, *args, _job_id=job_id, _queue_name=self.queue_name,
                                           _defer_by=defer_seconds)

    async def close(self) -> None:
        """Close the pool's connections."""
        await self.pool.aclose()


async def create_job_queue(settings: Settings) -> JobQueue:
    """The queue on REDIS_URL, or on the in-process store of the embedded run."""
    if settings.redis_url:
        pool = await create_pool(RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.job_queue)
    else:
        import fakeredis

        from api.core.redis import _shared_fake_server

        # arq wants bytes back from Redis, so its client is separate from the app's (which decodes).
        pool = ArqRedis(connection_pool=fakeredis.FakeAsyncRedis(server=_shared_fake_server()).connection_pool,
                        default_queue_name=settings.job_queue)
    return JobQueue(pool, settings.job_queue)


class InlineWorker:
    """An arq worker inside the serving process (the embedded default): jobs finish with nothing else started."""

    def __init__(self, settings: Settings, queue: JobQueue):
        import arq.worker

        from api.core.jobs import worker_settings

        if not settings.redis_url:
            arq.worker.log_redis_info = _no_redis_info  # fakeredis has no INFO command
        options = worker_settings(settings)
        for name in ("redis_settings", "on_startup", "on_shutdown"):
            options.pop(name)  # the app has opened the database and owns the Redis pool
        self.worker = arq.worker.Worker(**options, redis_pool=queue.pool, handle_signals=False,
                                        poll_delay=0.2)
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        """Start polling the queue in the running loop."""
        self.task = asyncio.get_running_loop().create_task(self.worker.main())
        log.info("inline_worker_started", queue=self.worker.queue_name)

    async def stop(self) -> None:
        """Stop polling; jobs cut off here run again on the next start (arq re-queues in-flight jobs)."""
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down, the outcome is moot
                pass
        await self.worker.close()


async def _no_redis_info(*_args, **_kwargs) -> None:
    return None

"""The job queue (arq over Redis): enqueueing jobs by name (the worker is the top-level `worker.py`)."""

from __future__ import annotations

from arq.connections import ArqRedis

from api.core.logging import get_logger
from api.core.redis import arq_settings
from api.core.sentinel import open_arq_pool
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
    """The queue on REDIS_URL (through the sentinels when set), or on the in-process store of the embedded run."""
    if settings.redis_url:
        pool = await open_arq_pool(arq_settings(settings), default_queue_name=settings.job_queue)
    else:
        import fakeredis  # the embedded run only: production never loads it

        from api.core.redis import _shared_fake_server  # with fakeredis, for the embedded run only

        # arq wants bytes back from Redis, so its client is separate from the app's (which decodes).
        pool = ArqRedis(connection_pool=fakeredis.FakeAsyncRedis(server=_shared_fake_server()).connection_pool,
                        default_queue_name=settings.job_queue)
    return JobQueue(pool, settings.job_queue)

"""Spreading a campaign's senders over the job workers: one worker never holds all of them while another is alive,
so one kill never stops all of a campaign's sending.

Senders stay arq jobs (arq re-runs a dead worker's jobs, and the retry and failure bookkeeping stays one path); arq
hands a worker several jobs per poll, though, so a campaign's senders queued together tend to land on one worker.
Each worker process therefore says it is alive (a Redis sorted set per queue, scored by when its word runs out),
and a sender that finds itself the second of its campaign on its worker while a live worker has none goes back to
the queue with a short, random defer, for that worker to take (workers pause a random part of their poll delay
before each poll, worker.py, so no one worker is always first to a job that comes due); after MAX_HOPS it stays
where it is (the other workers may be full). Its place is counted atomically (HINCRBY), so two senders picked in
one poll cannot both count as first.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time

from api.core.backoff import Backoff
from api.core.ids import new_id
from api.core.logging import get_logger

log = get_logger("notifications.spread")

WORKERS_KEY = "push:workers:{}"  # queue -> {worker id: until (unix time)}
SENDERS_KEY = "push:senders:{}"  # campaign -> {worker id: senders of the campaign running there}
BEAT_SECONDS = 2.0
ALIVE_SECONDS = 3 * BEAT_SECONDS
HOP_SECONDS = 0.5
MAX_HOPS = 20  # each hop lands elsewhere about as often as not (whichever worker polls first takes it)
SENDERS_TTL_SECONDS = 24 * 3600


class Presence:
    """One job worker's word that it is alive on its queue, renewed every BEAT_SECONDS until it stops."""

    def __init__(self, redis, queue: str):
        self.redis, self.key = redis, WORKERS_KEY.format(queue)
        self.worker_id = new_id("wkr")
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        """Start renewing in the running loop."""
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop renewing and withdraw (a store that is out is not waited for: the word runs out on its own)."""
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.redis.zrem(self.key, self.worker_id), 1)

    async def _run(self) -> None:
        backoff = Backoff("worker_presence")
        try:
            while True:
                try:
                    now = time.time()
                    pipe = self.redis.pipeline(transaction=False)
                    pipe.zadd(self.key, {self.worker_id: now + ALIVE_SECONDS})
                    pipe.zremrangebyscore(self.key, "-inf", now)
                    await pipe.execute()
                except Exception as exc:  # noqa: BLE001 - Redis out: wait it out (logged once per outage)
                    await backoff.failed(exc)
                    continue
                backoff.ok()
                await asyncio.sleep(BEAT_SECONDS)
        finally:
            backoff.leave()


async def join(redis, *, campaign_id: str, worker_id: str, queue: str, may_move: bool = True) -> bool:
    """Count a sender of the campaign on this worker; False (and not counted) when it may move and it is not this
    worker's first while another live worker runs none of the campaign's: the sender should go there instead."""
    key = SENDERS_KEY.format(campaign_id)
    pipe = redis.pipeline(transaction=True)
    pipe.hincrby(key, worker_id, 1)
    pipe.expire(key, SENDERS_TTL_SECONDS)
    pipe.hgetall(key)
    pipe.zrangebyscore(WORKERS_KEY.format(queue), time.time(), "+inf")
    here, _, senders, alive = await pipe.execute()
    idle = [w for w in alive if _text(w) != worker_id and int(_by_text(senders).get(_text(w), 0)) <= 0]
    if may_move and int(here) > 1 and idle:
        await leave(redis, campaign_id=campaign_id, worker_id=worker_id)
        return False
    return True


def hop_delay() -> float:
    """How long a sender that moves waits in the queue: drawn around HOP_SECONDS, so it comes due at a different
    moment of the workers' poll cycles each time rather than always first for the same one."""
    return random.uniform(HOP_SECONDS / 2, HOP_SECONDS * 1.5)


async def leave(redis, *, campaign_id: str, worker_id: str) -> None:
    """Count one sender of the campaign fewer on this worker."""
    # A zero stays (read as none): deleting it could race a sender joining this worker at the same moment.
    await redis.hincrby(SENDERS_KEY.format(campaign_id), worker_id, -1)


async def running(redis, campaign_id: str) -> dict[str, int]:
    """Worker id -> the campaign's senders running there (a dead worker's count stays until the key expires)."""
    return {_text(k): int(v) for k, v in (await redis.hgetall(SENDERS_KEY.format(campaign_id))).items()
            if int(v) > 0}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _by_text(mapping: dict) -> dict:
    return {_text(k): v for k, v in mapping.items()}

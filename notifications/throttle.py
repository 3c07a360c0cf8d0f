"""Per-channel send rates shared by every worker: a bucket in Redis refilled each second."""

from __future__ import annotations

import asyncio
import time

PAUSE_KEY = "push:paused:{}"


async def take(redis, channel: str, want: int, *, per_second: int) -> int:
    """Take up to `want` sends from this second's bucket; how many were granted (0 when it is empty)."""
    key = f"push:rate:{channel}:{int(time.time())}"
    pipe = redis.pipeline(transaction=False)
    pipe.incrby(key, want)
    pipe.expire(key, 2)
    used, _ = await pipe.execute()
    over = max(0, int(used) - per_second)
    return max(0, want - over)


async def acquire(redis, channel: str, want: int, *, per_second: int) -> None:
    """Wait until `want` sends fit in the channel's rate (the remainder waits for the next second)."""
    while want > 0:
        granted = await take(redis, channel, want, per_second=per_second)
        want -= granted
        if want:
            await asyncio.sleep(1.0 - (time.time() % 1.0) + 0.001)


async def pause_channel(redis, channel: str, *, seconds: int, reason: str) -> None:
    """Stop sending on a channel for a while (its quota ran out): every worker sees it."""
    await redis.set(PAUSE_KEY.format(channel), reason, ex=seconds)


async def paused_channels(redis, channels: tuple[str, ...]) -> set[str]:
    """The channels among these that are paused now."""
    values = await redis.mget([PAUSE_KEY.format(c) for c in channels])
    return {c for c, v in zip(channels, values, strict=True) if v}

"""Fixed-window rate limits kept in Redis, shared by every worker."""

from __future__ import annotations

from api.core.errors import RateLimited


async def hit(redis, *, bucket: str, limit: int, window_seconds: int, also_get: str | None = None):
    """Count one hit on `bucket`; raise 429 `rate_limited` past `limit` hits in the window.

    The window opens with the bucket's first hit. `also_get` reads one more key in the same round trip
    (a hot path's cache) and returns its value.
    """
    key = f"rl:{bucket}"
    if also_get is None:
        count, value = await redis.incr(key), None
    else:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.get(also_get)
            count, value = await pipe.execute()
    if count == 1:
        await redis.expire(key, window_seconds)
    if count > limit:
        ttl = await redis.ttl(key)
        if ttl == -1:
            # The window's expiry was never set (the setter died after its INCR): close the window now.
            await redis.expire(key, window_seconds)
            ttl = window_seconds
        raise RateLimited(headers={"Retry-After": str(max(ttl, 1))})
    return value

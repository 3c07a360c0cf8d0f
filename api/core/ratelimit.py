"""Fixed-window rate limits kept in Redis, shared by every worker."""

from __future__ import annotations

from api.core.errors import RateLimited


async def hit(redis, *, bucket: str, limit: int, window_seconds: int) -> None:
    """Count one hit on `bucket`; raise 429 `rate_limited` past `limit` hits in the window."""
    key = f"rl:{bucket}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = await pipe.execute()
    if count > limit:
        ttl = await redis.ttl(key)
        raise RateLimited(headers={"Retry-After": str(max(ttl, 1))})

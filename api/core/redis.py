"""Redis clients: redis.asyncio against REDIS_URL (directly, or the primary the sentinels name), or fakeredis in
process for the embedded run."""

from __future__ import annotations

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel
import redis.sentinel
from arq.connections import RedisSettings
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.core.batcher import Batcher
from api.core.sentinel import FollowingPool, SentinelRedisSettings, SyncFollowingPool
from api.core.settings import Settings

_fake_server = None


def _shared_fake_server():
    # One in-process server per process, so async and sync clients see the same data.
    global _fake_server
    if _fake_server is None:
        import fakeredis  # the embedded run only: production never loads it

        _fake_server = fakeredis.FakeServer()
    return _fake_server


def _url_kwargs(settings: Settings) -> dict:
    """What REDIS_URL says besides the host when sentinels name it: database, user, password."""
    parsed = parse_url(settings.redis_url)
    return {key: parsed[key] for key in ("db", "username", "password") if parsed.get(key) is not None}


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.5, base=0.05), 2)


def create_async_redis(settings: Settings) -> aioredis.Redis:
    """The async client the app uses (call inside the worker's event loop)."""
    if settings.redis_url:
        # A dropped connection is retried on a fresh one (instead of a health check before every command). Behind
        # sentinels a write to a demoted primary comes back as ConnectionError, so the retry asks them again.
        options = dict(decode_responses=True, retry=_retry(), retry_on_error=[RedisConnectionError, RedisTimeoutError],
                       socket_connect_timeout=settings.redis_timeout_seconds,
                       socket_timeout=settings.redis_timeout_seconds)
        if settings.sentinel_addresses:
            sentinel = redis.asyncio.sentinel.Sentinel(settings.sentinel_addresses, **options)
            return sentinel.master_for(settings.redis_sentinel_service, redis_class=aioredis.Redis,
                                       connection_pool_class=FollowingPool, **_url_kwargs(settings))
        return aioredis.Redis.from_url(settings.redis_url, **options)
    import fakeredis  # the embedded run only: production never loads it

    return fakeredis.FakeAsyncRedis(server=_shared_fake_server(), decode_responses=True)


def create_sync_redis(settings: Settings) -> redis.Redis:
    """A synchronous client for SDK code that runs in threads (wechatpy's session storage)."""
    if settings.redis_url:
        options = dict(decode_responses=True, socket_connect_timeout=settings.redis_timeout_seconds,
                       socket_timeout=settings.redis_timeout_seconds)
        if settings.sentinel_addresses:
            sentinel = redis.sentinel.Sentinel(settings.sentinel_addresses, **options)
            return sentinel.master_for(settings.redis_sentinel_service, redis_class=redis.Redis,
                                       connection_pool_class=SyncFollowingPool, **_url_kwargs(settings))
        return redis.Redis.from_url(settings.redis_url, **options)
    import fakeredis  # the embedded run only: production never loads it

    return fakeredis.FakeRedis(server=_shared_fake_server(), decode_responses=True)


def arq_settings(settings: Settings) -> RedisSettings | None:
    """arq's connection settings for REDIS_URL (through the sentinels when set); None for the embedded run."""
    if not settings.redis_url:
        return None
    arq = RedisSettings.from_dsn(settings.redis_url)
    if not settings.sentinel_addresses:
        return arq
    return SentinelRedisSettings(
        host=settings.sentinel_addresses, sentinel=True, sentinel_master=settings.redis_sentinel_service,
        database=arq.database, username=arq.username, password=arq.password, ssl=arq.ssl,
        conn_timeout=settings.redis_timeout_seconds, socket_timeout=settings.redis_timeout_seconds,
        retry=_retry(), retry_on_error=[RedisConnectionError, RedisTimeoutError])


class CoalescedReads:
    """MGETs of concurrent requests sent as one: under load a round trip serves many requests' reads."""

    def __init__(self, client: aioredis.Redis):
        self._client = client
        self._batcher = Batcher(self._mget)

    async def _mget(self, key_lists: list[list[str]]) -> list[list]:
        values = await self._client.mget([key for keys in key_lists for key in keys])
        out, at = [], 0
        for keys in key_lists:
            out.append(values[at:at + len(keys)])
            at += len(keys)
        return out

    async def mget(self, keys: list[str]) -> list:
        """The values at `keys` (None where missing), read no earlier than this call."""
        return await self._batcher.submit(keys)

"""Redis behind Sentinel: a primary's connection pool that follows a failover, and arq's pool built on it."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import redis.sentinel
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import RedisError

# How often a pool in use asks the sentinels where the primary is.
CHECK_SECONDS = 0.5


class FollowingPool(SentinelConnectionPool):
    """The primary's pool, asking the sentinels at most every CHECK_SECONDS whether the primary moved.

    redis-py asks only when it opens a connection, and after a forced failover the old primary keeps taking writes
    (which its demotion then discards) for about ten seconds before the sentinels turn it into a replica: open
    connections would go on writing there. A connection to a former primary is reopened before it is handed out,
    and closed when it comes back to the pool.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_check = 0.0

    async def get_master_address(self):
        """The primary the sentinels name now.

        redis-py's own closes every idle connection when the primary moved, while another task may be taking one
        of them from the pool: that task then wrote on a closed socket (an AttributeError, a 500). Only the task
        holding a connection closes it here."""
        self.master_address = await self.sentinel_manager.discover_master(self.service_name)
        return self.master_address

    async def get_connection(self, *args, **kwargs):
        """A connection to the primary the sentinels name now."""
        if self.is_master and (now := time.monotonic()) >= self._next_check:
            self._next_check = now + CHECK_SECONDS
            # Sentinels out of reach: keep the primary last known, which may well still be it.
            with contextlib.suppress(RedisError, OSError):
                await self.get_master_address()
        connection = await super().get_connection(*args, **kwargs)
        if connection.is_connected and self._former_primary(connection):
            try:
                await connection.disconnect()
                await connection.connect()
            except BaseException:
                await self.release(connection)
                raise
        return connection

    async def release(self, connection) -> None:
        """Take a connection back, closed when it talks to a primary that is one no more."""
        if self._former_primary(connection):
            await connection.disconnect()
        await super().release(connection)

    def _former_primary(self, connection) -> bool:
        return bool(self.is_master and self.master_address
                    and (connection.host, connection.port) != tuple(self.master_address))


class SyncFollowingPool(redis.sentinel.SentinelConnectionPool):
    """FollowingPool for the synchronous client (whose pool already drops connections to a former primary)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_check = 0.0

    def get_connection(self, *args, **kwargs):
        """A connection to the primary the sentinels name now."""
        if self.is_master and (now := time.monotonic()) >= self._next_check:
            self._next_check = now + CHECK_SECONDS
            with contextlib.suppress(RedisError, OSError):
                self.get_master_address()
        return super().get_connection(*args, **kwargs)


@dataclass
class SentinelRedisSettings(RedisSettings):
    """arq's settings with the reply timeout our own clients use (arq's own sentinel pool has none)."""

    socket_timeout: float | None = None


async def open_arq_pool(settings: RedisSettings, **options) -> ArqRedis:
    """arq's pool for `settings` (create_pool's keywords): through the sentinels on a FollowingPool when they are
    set, else arq's own."""
    if not settings.sentinel:
        return await create_pool(settings, **options)
    sentinel = Sentinel(settings.host, socket_connect_timeout=settings.conn_timeout,
                        socket_timeout=getattr(settings, "socket_timeout", None), retry=settings.retry,
                        retry_on_error=settings.retry_on_error)
    pool = sentinel.master_for(settings.sentinel_master, redis_class=ArqRedis, connection_pool_class=FollowingPool,
                               db=settings.database, username=settings.username, password=settings.password)
    pool.job_serializer = options.get("job_serializer")
    pool.job_deserializer = options.get("job_deserializer")
    pool.default_queue_name = options.get("default_queue_name", pool.default_queue_name)
    pool.expires_extra_ms = options.get("expires_extra_ms", pool.expires_extra_ms)
    try:
        await pool.ping()
    except BaseException:
        await pool.aclose()
        raise
    return pool

"""Tortoise ORM configuration and lifecycle."""

from __future__ import annotations

import contextvars
import functools
import importlib
import time

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient, TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connections
from tortoise.timezone import localtime

from api.core import failures
from api.core.settings import Settings

MODEL_MODULES = [
    "api.core.models",
    "api.citizens.models",
    "api.admin.models",
    "auth.models",
    "api.catalog.models",
    "api.applications.models",
    "notifications.models",
    "api.certificates.models",
    "api.codes.models",
    "api.policies.models",
]


def as_stored(at):
    """`at` in the zone the ORM stores datetimes in, for comparisons in ORM filters.

    On SQLite the ORM writes datetimes as local-time text but passes filter values through unchanged, so
    a UTC value compared with stored text is off by the zone's offset; PostgreSQL compares either correctly.
    """
    return localtime(at)


class _NoResetConnection(asyncpg.Connection):
    """A pooled connection returned without asyncpg's reset query (UNLISTEN, RESET ALL, advisory unlocks...).

    That query is a second round trip for every pooled query; the service never listens, takes advisory
    locks or sets session variables (only SET LOCAL, which ends with its transaction), and asyncpg still
    rolls back a transaction left open.
    """

    def get_reset_query(self) -> str:
        return ""


# Inside a `reads_replica` handler, the reads made on `reader()` go to the replica (DATABASE_REPLICA_URL).
_replica_reads: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_reads", default=False)
REPLICA = "replica"
# The replica's client, kept out of Tortoise's own connections: with two there, every `in_transaction()` would have
# to name its connection.
_replica: BaseDBAsyncClient | None = None
# A replica read that failed as an outage sends this process's lag-tolerant reads to the primary for this long, so
# a replica that is down costs one 503 per process and period, not every catalogue read until it is back.
REPLICA_REST_SECONDS = 10.0
_replica_rests_until = 0.0


def _connection(settings: Settings, url: str | None = None) -> dict | str:
    url = url or settings.effective_database_url
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        # Each Sanic worker holds its own pool: workers x maxsize must stay under max_connections.
        sep = "&" if "?" in url else "?"
        config = expand_db_url(f"{url}{sep}minsize=1&maxsize={settings.db_pool_max}")
        config["credentials"]["connection_class"] = _NoResetConnection
        # asyncpg waits 60 s for a connection and forever for a statement by default: an unreachable server must
        # become a quick 503, not a request held until the client gives up.
        config["credentials"]["timeout"] = settings.db_connect_timeout_seconds
        config["credentials"]["command_timeout"] = settings.db_command_timeout_seconds
        return config
    return url


def tortoise_config(settings: Settings) -> dict:
    """The Tortoise/aerich configuration for these settings."""
    return {
        "connections": {"default": _connection(settings)},
        "apps": {
            "models": {
                "models": [*MODEL_MODULES, "aerich.models"],
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "Asia/Shanghai",
    }


_original_enter = TransactionContextPooled.__aenter__


async def _enter_releasing_on_failure(self):
    # Tortoise takes a pooled connection, then sends BEGIN; when BEGIN fails (a connection that died in a
    # database restart, or one that hangs past the command timeout) its __aexit__ never runs, so the connection is
    # never given back: each failure shrinks the pool by one until every request of the process waits (seen as
    # endless 503s after a PostgreSQL restart in bench/faults.py). Give it back; asyncpg replaces a closed one.
    try:
        return await _original_enter(self)
    except BaseException:
        connection, pool = getattr(self.client, "_connection", None), self.client._parent._pool
        if connection is not None and pool is not None:
            self.client._connection = None
            await pool.release(connection)
        token = getattr(self, "token", None)
        if token is not None:
            get_connections().reset(token)
        raise


TransactionContextPooled.__aenter__ = _enter_releasing_on_failure


async def open_db(settings: Settings) -> None:
    """Connect Tortoise (the schema is made by migrations, not here)."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    global _replica
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    if settings.database_replica_url:
        # Unset, reads stay on "default": no second pool to the same server.
        _replica = _client(_connection(settings, settings.database_replica_url), name=REPLICA)
    if settings.effective_database_url.startswith("sqlite"):
        conn = Tortoise.get_connection("default")
        # WAL lets the reader in a request run beside a writer; busy_timeout rides out short locks.
        await conn.execute_script("PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;")


def reading_replica() -> bool:
    """True when `reader()` is the replica: inside a `reads_replica` handler, outside a transaction (whose reads
    stay in it), with DATABASE_REPLICA_URL set."""
    if not (_replica_reads.get() and _replica is not None) or time.monotonic() < _replica_rests_until:
        return False
    return not isinstance(Tortoise.get_connection("default"), TransactionalDBClient)


def has_replica() -> bool:
    """True when DATABASE_REPLICA_URL is set."""
    return _replica is not None


def rest_replica() -> None:
    """The replica failed: reads stay on the primary for REPLICA_REST_SECONDS."""
    global _replica_rests_until
    _replica_rests_until = time.monotonic() + REPLICA_REST_SECONDS


async def ping_replica() -> None:
    """Raise if the replica does not answer (and rest it); an answer sends the reads back to it at once."""
    global _replica_rests_until
    try:
        await _replica.execute_query("SELECT 1")
    except Exception:
        rest_replica()
        raise
    _replica_rests_until = 0.0


def reader() -> BaseDBAsyncClient:
    """The connection for reads that tolerate lag (`.using_db(db.reader())`, `rawsql.fetch(..., db.reader())`): the
    replica inside a `reads_replica` handler, else the default one (inside a transaction, the transaction's own)."""
    return _replica if reading_replica() else Tortoise.get_connection("default")


def reads_replica(handler):
    """Run `handler` (a route that tolerates replication lag) with the reads it makes on `reader()` on the replica;
    every other query, and every write, stays on the primary."""

    @functools.wraps(handler)
    async def on_replica(*args, **kwargs):
        token = _replica_reads.set(True)
        try:
            return await handler(*args, **kwargs)
        except Exception as exc:
            # A refused connection is the replica down too; a Redis or upstream outage is not its doing.
            reason = failures.transient_reason(exc)
            if reading_replica() and reason and not reason.startswith(("redis", "upstream")):
                rest_replica()
            raise
        finally:
            _replica_reads.reset(token)

    return on_replica


def _client(config: dict | str, *, name: str) -> BaseDBAsyncClient:
    """A Tortoise client for `config` (its pool opens on first use), made as Tortoise makes its own."""
    config = expand_db_url(config) if isinstance(config, str) else config
    client_class = importlib.import_module(config["engine"]).client_class
    return client_class(connection_name=name, **config["credentials"])


async def close_db() -> None:
    """Close every Tortoise connection, and the replica's."""
    global _replica
    await Tortoise.close_connections()
    if _replica is not None:
        replica, _replica = _replica, None
        await replica.close()


async def ping_db() -> None:
    """Raise if the database does not answer."""
    await Tortoise.get_connection("default").execute_query("SELECT 1")


def __getattr__(name: str):
    # aerich's CLI reads `api.core.db.TORTOISE_ORM`; built on demand, not at import.
    if name == "TORTOISE_ORM":
        from api.core.settings import load_settings  # settings are read when aerich asks, not on import

        return tortoise_config(load_settings())
    raise AttributeError(name)

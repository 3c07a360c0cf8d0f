"""The whole app served in process on a free port, over real HTTP, against the configured stores.

Embedded default: a fresh SQLite file and fakeredis. With DATABASE_URL and REDIS_URL (CI's second run):
a fresh PostgreSQL database made for this session and dropped after it, and the given Redis database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from pathlib import Path

os.environ.setdefault("TZ", "Asia/Shanghai")
import time  # noqa: E402

time.tzset()

import httpx  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from sanic import Sanic  # noqa: E402

from api.core.settings import load_settings  # noqa: E402

Sanic.test_mode = True


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _fresh_postgres(url: str) -> tuple[str, str]:
    import asyncpg

    base, _, _ = url.rpartition("/")
    name = f"gov_test_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base}/{name}", name


async def _drop_postgres(url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="session")
async def stores(tmp_path_factory):
    """Database URL (fresh, migrated) and Redis URL for the session."""
    data_dir: Path = tmp_path_factory.mktemp("data")
    base_db = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    db_url, db_name = (await _fresh_postgres(base_db)) if base_db else (None, None)
    if redis_url:
        import redis.asyncio as aioredis

        r = aioredis.Redis.from_url(redis_url)
        await r.flushdb()
        await r.aclose()
    yield {"data_dir": data_dir, "database_url": db_url, "redis_url": redis_url}
    if db_name:
        await _drop_postgres(base_db, db_name)


def make_settings(stores, **overrides):
    """Test settings on the session's stores."""
    port = overrides.pop("port", None) or free_port()
    # platform_timeout_seconds is the production default: on the embedded store the sandboxes share the test
    # server's event loop, and a busy moment of the suite must not read as an upstream that timed out.
    values = dict(
        app_env="test", port=port, data_dir=stores["data_dir"], database_url=stores["database_url"],
        redis_url=stores["redis_url"], trusted_proxies=1, platform_timeout_seconds=5.0, log_level="INFO",
        inline_worker=True,  # campaigns and imports finish inside the test server, on either store
    )
    values.update(overrides)
    return load_settings(**values)


class LiveServer:
    """A running app: its settings, base URL and the Sanic app itself."""

    def __init__(self, app, settings, server):
        self.app, self.settings, self.server = app, settings, server
        self.base_url = settings.public_base_url


async def start_server(settings) -> LiveServer:
    """Serve `create_app(settings)` on its port inside the running event loop."""
    from server import create_app

    app = create_app(settings)
    server = await app.create_server(host="127.0.0.1", port=settings.port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    return LiveServer(app, settings, server)


async def stop_server(live: LiveServer) -> None:
    """Stop a server started by `start_server`."""
    await live.server.before_stop()
    await live.server.close()
    await live.server.after_stop()


@pytest_asyncio.fixture(scope="session")
async def live(stores):
    """The app, migrated and served for the whole session."""
    from api.cli import migrate

    settings = make_settings(stores)
    await migrate(settings)
    server = await start_server(settings)
    yield server
    await stop_server(server)


@pytest_asyncio.fixture
async def client(live):
    """An HTTP client that looks like a new phone: its own forwarded client address."""
    ip = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    async with httpx.AsyncClient(base_url=live.base_url, headers={"X-Forwarded-For": ip}, timeout=10) as c:
        yield c


@pytest_asyncio.fixture(scope="session")
async def test_catalogue(live):
    """The tests' own small catalogue, loaded once (see tests/applications/catalogue_fixture.py)."""
    from api.catalog import service as catalog
    from tests.applications.catalogue_fixture import CATALOGUE

    await catalog.load_catalogue(data=CATALOGUE, redis=live.app.ctx.deps.redis)
    return CATALOGUE


@pytest.fixture
def redis(live):
    """The app's async Redis client."""
    return live.app.ctx.deps.redis


def pytest_collection_modifyitems(config, items):
    # One event loop for the session: the live server and every test share it.
    for item in items:
        if asyncio.iscoroutinefunction(getattr(item, "function", None)):
            item.add_marker(pytest.mark.asyncio(loop_scope="session"))

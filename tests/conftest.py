"""The whole app served in process on a free port, over real HTTP, against the configured stores.

Embedded default: a fresh SQLite file and fakeredis. With DATABASE_URL and REDIS_URL (CI's second run):
a fresh PostgreSQL database made for this session and dropped after it, and the given Redis database.

Under pytest-xdist (`make test` runs `-n auto`) each worker is a session of its own: its own SQLite file or
PostgreSQL database, its own Redis database (REDIS_URL's number plus the worker's index, so REDIS_URL's
database and the ones above it must be free), its own job queue and its own port. After every test that ran
the app, the rows and Redis keys it made are emptied (tests/cleanup.py).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("TZ", "Asia/Shanghai")
import time  # noqa: E402

time.tzset()

import httpx  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from sanic import Sanic  # noqa: E402

from api.core.settings import load_settings  # noqa: E402
from tests import cleanup  # noqa: E402
from tests.applications.catalogue_fixture import CATALOGUE  # noqa: E402

Sanic.test_mode = True
pytest_plugins = ["tests.stuck_tasks"]  # a test stuck near its time limit names its asyncio tasks
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under pytest-xdist
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
CONNECT_TIMEOUT = 3.0
_CAPPED = pytest.StashKey[str]()
# httpx loads the CA bundle for every client it makes (60 ms); the tests speak plain HTTP, so one context serves all.
_TLS = ssl.create_default_context()


def _masked(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def redis_db(url: str) -> int:
    """The database number a Redis URL names."""
    from redis.connection import parse_url

    return int(parse_url(url).get("db", 0))


def worker_redis_url(url: str, index: int = WORKER_INDEX) -> str:
    """The Redis URL of the xdist worker `index`: the given database number plus the index."""
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("db="))
    db = redis_db(url) + index
    if parts.scheme == "unix":
        return urlunsplit(parts._replace(query="&".join(filter(None, [query, f"db={db}"]))))
    return urlunsplit(parts._replace(path=f"/{db}", query=query))


def _redis_databases(url: str) -> int:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
        try:
            return int(client.config_get("databases").get("databases", 16))
        except redis.RedisError:  # CONFIG may be disabled: the default
            return 16
    finally:
        client.close()


async def _postgres_answers(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=CONNECT_TIMEOUT)
    await conn.close()


def _workers(config) -> int:
    """How many sessions run at once: the xdist workers, or 1."""
    if getattr(config.option, "dist", "no") == "no":
        return 1
    return max(1, len(getattr(config.option, "tx", None) or []))


def stores_line(config) -> str:
    """The one line that says which stores this run uses."""
    database, redis_url, workers = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL"), _workers(config)
    if not database and not redis_url:
        return "stores: embedded (SQLite + fakeredis)" + (f", one of each per worker, {workers} workers"
                                                          if workers > 1 else "")
    parts = []
    if database:
        base = _masked(database).rpartition("/")[0]
        parts.append(f"PostgreSQL {base}/gov_test_xxx" + (" (one per worker)" if workers > 1 else ""))
    else:
        parts.append("SQLite")
    if redis_url:
        first = redis_db(redis_url)
        shown = _masked(worker_redis_url(redis_url, 0))
        if workers > 1:
            shown = f"{shown.rsplit('/', 1)[0]}/{first}-{first + workers - 1} (one database per worker)"
        parts.append(f"Redis {shown}")
    else:
        parts.append("fakeredis")
    capped = config.stash.get(_CAPPED, None)
    return ("stores: " + " + ".join(parts) + (f", {workers} workers" if workers > 1 else "")
            + (f" ({capped})" if capped else ""))


@pytest.hookimpl(optionalhook=True, wrapper=True)
def pytest_xdist_auto_num_workers(config):
    """`-n auto`, but no more workers than Redis has databases from REDIS_URL's number up."""
    count = yield
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        return count
    try:
        databases = _redis_databases(redis_url)
    except Exception:  # noqa: BLE001 - pytest_configure says it is unreachable
        databases = 16
    if count > (room := max(1, databases - redis_db(redis_url))):
        config.stash[_CAPPED] = (f"-n auto: {room} of {count}, as REDIS_URL names database {redis_db(redis_url)} "
                                 f"of {databases}")
        count = room
    return count


def pytest_configure(config):
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has checked the stores
        return
    database, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if database:
        try:
            asyncio.run(_postgres_answers(database))
        except Exception as exc:  # noqa: BLE001 - any failure to connect says the same
            raise pytest.UsageError(f"PostgreSQL unreachable at {_masked(database)} ({exc})") from None
    if redis_url:
        try:
            databases = _redis_databases(redis_url)
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"Redis unreachable at {_masked(redis_url)} ({exc})") from None
        first, workers = redis_db(redis_url), _workers(config)
        if first + workers > databases:
            raise pytest.UsageError(
                f"{workers} test workers need Redis databases {first}..{first + workers - 1} from REDIS_URL "
                f"{_masked(redis_url)}, and Redis has {databases}: give a lower database number or fewer workers")


def pytest_report_header(config):
    return stores_line(config)


def pytest_sessionstart(session):
    config = session.config
    if not hasattr(config, "workerinput") and config.get_verbosity() < 0:  # -q hides the report header
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(stores_line(config))


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
    redis_url = worker_redis_url(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else None
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
        job_queue=f"arq:queue:{WORKER or 'main'}",  # each xdist worker works its own queue
        # The sandbox SMS provider has no quota: at the production 200 a second, a campaign over 2000 people
        # waited 4 s on the rate. No test counts on the rate (the crash test's workers keep their own settings).
        push_rate_sms=2000,
        # Quiet hours off: the suite runs at any hour of the real clock; the quiet-hour tests turn them on with a
        # moved clock (tests/policies/test_push_limits.py).
        push_quiet_start="00:00", push_quiet_end="00:00",
    )
    values.update(overrides)
    return load_settings(**values)


class LiveServer:
    """A running app: its settings, base URL and the Sanic app itself."""

    def __init__(self, app, settings, server):
        self.app, self.settings, self.server = app, settings, server
        self.base_url = settings.public_base_url
        self.catalogue_version: str | None = None  # of the test catalogue, loaded once (see clean_state)
        self.calendar_stamps: tuple | None = None  # of the test calendar years, loaded once (see clean_state)


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

    await migrate(make_settings(stores))
    for attempt in range(5):
        try:  # another worker may take the free port first
            server = await start_server(make_settings(stores))
            break
        except OSError:
            if attempt == 4:
                raise
    # The tests' own small catalogue is reference data: loaded once, put back after a test that loads another.
    server.catalogue_version = await cleanup.restore_catalogue(server.app.ctx.deps.redis, CATALOGUE, None)
    server.calendar_stamps = await cleanup.restore_calendar(server.app.ctx.deps.redis, None)
    yield server
    await stop_server(server)


@pytest.fixture(autouse=True)
def clean_state(request):
    """Every test that runs the app leaves it as the session set it up (tests/cleanup.py)."""
    if "live" in request.fixturenames:
        request.getfixturevalue("_clean_after")


@pytest_asyncio.fixture
async def _clean_after(live):
    yield
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10, verify=_TLS) as c:
        live.catalogue_version = await cleanup.clean(live, c, catalogue=CATALOGUE,
                                                     catalogue_version=live.catalogue_version)


@pytest_asyncio.fixture
async def client(live):
    """An HTTP client that looks like a new phone: its own forwarded client address."""
    ip = f"127.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    async with httpx.AsyncClient(base_url=live.base_url, headers={"X-Forwarded-For": ip}, timeout=10,
                                 verify=_TLS) as c:
        yield c


@pytest.fixture(scope="session")
def test_catalogue(live):
    """The tests' own small catalogue (tests/applications/catalogue_fixture.py), loaded with the app."""
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

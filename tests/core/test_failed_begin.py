"""A transaction whose BEGIN fails gives its pooled connection back (api/core/db.py patches Tortoise for it): before,
the connection stayed checked out for good, and a process whose database sessions stalled a few times answered 503
to everything ever after. PostgreSQL only: a pool of two behind a proxy whose open sessions stop answering."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from api.core import db
from tests.core.outage_proxy import database_proxy, through

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="a pool of asyncpg connections")
POOL, COMMAND_TIMEOUT = 2, 0.5


async def test_a_transaction_whose_begin_fails_gives_its_connection_back(live):
    proxy = await database_proxy(live.settings.database_url).start()
    settings = live.settings.model_copy(update={"db_pool_max": POOL, "db_command_timeout_seconds": COMMAND_TIMEOUT})
    client = db._client(db._connection(settings, through(live.settings.database_url, proxy)), name="failed_begin_test")
    try:
        async with client._in_transaction() as conn:  # the pool opens with one live connection, now idle
            assert (await conn.execute_query_dict("SELECT 1 AS one"))[0]["one"] == 1
        await proxy.stall()
        started = time.monotonic()
        with pytest.raises(TimeoutError):  # BEGIN on the stalled session: the command timeout, not a wait
            async with asyncio.timeout(5):
                async with client._in_transaction():
                    pass
        assert time.monotonic() - started < COMMAND_TIMEOUT + 2
        await proxy.resume()  # the session answers again and stays open: nothing closes it behind our back
        async with asyncio.timeout(5):  # without the fix the stalled session is still checked out: this waits
            held = [client._in_transaction() for _ in range(POOL)]
            conns = [await transaction.__aenter__() for transaction in held]  # the whole pool at once
            try:
                for conn in conns:
                    assert (await conn.execute_query_dict("SELECT 1 AS one"))[0]["one"] == 1
            finally:
                for transaction in reversed(held):
                    await transaction.__aexit__(None, None, None)
    finally:
        await client.close()
        await proxy.close()

"""Embedded store: an import beside a running server. Another process that commits between a batch's read of the
rows that exist and its write must not fail the import with "database is locked" (SQLite refuses to upgrade a
transaction whose snapshot is stale, at once, whatever busy_timeout says): the batch takes the write lock first."""

from __future__ import annotations

import contextlib
import os
import sqlite3

import pytest

from api.citizens import registry
from api.citizens.models import LowIncomeRecord
from api.core import rawsql
from tests.citizens.import_helpers import bidx
from tests.factories import random_id_number

pytestmark = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="SQLite's lock upgrade")


async def test_a_batch_is_not_failed_by_another_process_that_commits_after_its_read(live, monkeypatch):
    path = live.settings.effective_database_url.removeprefix("sqlite://")
    other = sqlite3.connect(path, isolation_level=None, timeout=0.2)  # the other process: the server, say
    other.execute("CREATE TABLE IF NOT EXISTS lock_probe (x INTEGER)")
    wrote: list[bool] = []
    real_fetch = rawsql.fetch

    async def fetch_then_another_process_writes(sql, params=(), conn=None):
        rows = await real_fetch(sql, params, conn)
        if "id_number_bidx AS k" in sql:  # the batch has read the rows that exist
            with contextlib.suppress(sqlite3.OperationalError):  # locked out: the batch holds the write lock
                other.execute("INSERT INTO lock_probe VALUES (1)")
                wrote.append(True)
        return rows

    monkeypatch.setattr(rawsql, "fetch", fetch_then_another_process_writes)
    ids = [random_id_number() for _ in range(3)]
    try:
        report = await registry.import_rows("low_income", [{"id_number": n, "category": "低保", "since": ""}
                                                           for n in ids])
    finally:
        other.execute("DROP TABLE lock_probe")
        other.close()
    assert (report.inserted, report.rejected_count) == (3, 0), report.as_dict()
    assert await LowIncomeRecord.filter(id_number_bidx__in=[bidx(n) for n in ids]).count() == 3
    assert wrote == []  # the other writer waited for the batch's commit, not the batch for it

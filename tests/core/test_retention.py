"""The audit log's monthly partitions are made ahead of time (once, whatever the runs) and dropped whole past
AUDIT_RETENTION_DAYS on PostgreSQL; SQLite deletes the old entries. Newer entries always stay."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from api.core import audit, partitions, rawsql
from api.core.ids import new_id
from api.core.models import AuditLog
from api.core.workdays import utc_now

on_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="partitioning is PostgreSQL's")


async def _entry(at: dt.datetime) -> str:
    entry_id = new_id("aud")
    await rawsql.execute(
        "INSERT INTO audit_log (id, created_at, actor_type, actor_id, action, detail) "
        "VALUES (?, ?, 'admin', 'adm_1', 'policy.publish', '{}')", [entry_id, at])
    return entry_id


async def _partition_of(entry_id: str) -> str:
    return await rawsql.fetch_value("SELECT tableoid::regclass::text FROM audit_log WHERE id = ?", [entry_id])


async def _drop(names: list[str]) -> None:
    for name in names:
        await rawsql.execute(f'DROP TABLE IF EXISTS "{name}"')


def _months_from(start: dt.datetime, count: int) -> list[dt.datetime]:
    months = [partitions.month_start(start)]
    while len(months) < count:
        months.append(partitions.next_month(months[-1]))
    return months


async def test_old_entries_go_and_newer_ones_stay(live):
    now = utc_now()
    old, kept = await _entry(now - dt.timedelta(days=400)), await _entry(now - dt.timedelta(days=30))
    await audit.erase_older_than(days=180, now=now)
    assert set(await AuditLog.filter(id__in=[old, kept]).values_list("id", flat=True)) == {kept}


@on_postgres
async def test_the_job_makes_the_coming_months_once_and_moves_early_entries_out_of_the_default(live):
    far = utc_now() + dt.timedelta(days=3 * 366)  # beyond what the migration made: these months are missing
    early = await _entry(far + dt.timedelta(days=1))
    assert await _partition_of(early) == "audit_log_default"
    names = [partitions.partition_name("audit_log", m) for m in _months_from(far, 3)]
    try:
        assert await partitions.ensure_months(table="audit_log", now=far) == names
        assert await partitions.ensure_months(table="audit_log", now=far) == []  # a second run makes nothing
        assert set(names) <= set(await partitions.month_partitions("audit_log"))
        assert await _partition_of(early) in names  # moved from the default partition into its month's
        assert await partitions.ensure_months(table="audit_log", now=utc_now()) == []  # the migration made these
    finally:
        await AuditLog.filter(id=early).delete()
        await _drop(names)


@on_postgres
async def test_retention_drops_only_the_months_wholly_past_it(live):
    now = utc_now()
    past = [now - dt.timedelta(days=400), now - dt.timedelta(days=370)]
    names = []
    try:
        for at in past:
            names += await partitions.ensure_months(table="audit_log", now=at, ahead=0)
        assert len(names) == 2
        old = [await _entry(at) for at in past]
        recent = await _entry(now - dt.timedelta(days=170))
        current = await _entry(now)
        dropped = await partitions.drop_months_before(table="audit_log", cutoff=now - dt.timedelta(days=180))
        assert sorted(names) == sorted(set(dropped) & set(names))
        assert set(names).isdisjoint(await partitions.month_partitions("audit_log"))
        assert not await AuditLog.filter(id__in=old).exists()
        assert set(await AuditLog.filter(id__in=[recent, current]).values_list("id", flat=True)) == {recent, current}
        assert partitions.partition_name("audit_log", partitions.month_start(now)) in \
            await partitions.month_partitions("audit_log")
    finally:
        await _drop(names)


async def test_the_nightly_job_keeps_at_least_the_setting(live):
    import worker
    from api.core.jobs import maintain_audit_log

    assert "maintain_audit_log" in {c.coroutine.__name__ for c in worker.all_cron()}
    assert live.app.ctx.deps.settings.audit_retention_days == 180
    kept = await _entry(utc_now() - dt.timedelta(days=179))
    await maintain_audit_log({"deps": live.app.ctx.deps})
    assert await AuditLog.filter(id=kept).exists()

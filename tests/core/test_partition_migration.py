"""The partitioning migration converts tables that hold rows: on a database at the migration before it, with rows in
the four tables, the upgrade keeps every row and puts it in its partition; the downgrade brings the plain tables
back, rows and all."""

from __future__ import annotations

import importlib.util
import os
import secrets
from types import SimpleNamespace

import asyncpg
import pytest

from api.cli import MIGRATIONS

pytestmark = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="partitioning is PostgreSQL's")
POSTGRES = SimpleNamespace(capabilities=SimpleNamespace(dialect="postgres"))
ROWS = [
    "INSERT INTO outbox_delivery (id, dedupe_key, channel, topic, status, attempts, created_at, payload) "
    "VALUES ('dlv_1', 'pol_1:p1:sms', 'sms', 'benefit', 'sent', 1, now() - interval '9 days', '{\"to\": \"x\"}')",
    "INSERT INTO policy_reach VALUES ('grt_1', 'pol_1', 'p1', 'cmp_1', TRUE, 'active', now(), 'pol_1')",
    "INSERT INTO inbox_message (id, citizen_id, title, body, topic, created_at) "
    "VALUES ('msg_1', 'cit_1', 't', 'b', 'benefit', now())",
    "INSERT INTO audit_log (id, created_at, actor_type, actor_id, action, detail) "
    "VALUES ('aud_old', now() - interval '100 days', 'admin', 'adm_1', 'x', '{}'), "
    "('aud_new', now(), 'admin', 'adm_1', 'x', '{}')",
]
TABLES = ("outbox_delivery", "policy_reach", "inbox_message", "audit_log")


async def _sql(path, step: str) -> str:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return await getattr(module, step)(POSTGRES)


async def _partitioned(conn) -> set[str]:
    return {r["t"] for r in await conn.fetch(
        "SELECT c.relname AS t FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid")}


async def _ids(conn) -> dict[str, set[str]]:
    return {t: {r["id"] for r in await conn.fetch(f'SELECT id FROM "{t}"')} for t in TABLES}


async def test_the_migration_keeps_the_rows_of_a_live_database_both_ways():
    base = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    name = f"parts_mig_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(f"{base.rpartition('/')[0]}/{name}")
        try:
            number = {p: int(p.name.split("_")[0]) for p in (MIGRATIONS / "models").glob("[0-9]*_*.py")}
            [last] = [p for p in number if p.stem.endswith("_partitioned_growth_tables")]
            earlier = sorted((p for p in number if number[p] < number[last]), key=number.get)
            for path in earlier:
                await conn.execute(await _sql(path, "upgrade"))
            for statement in ROWS:
                await conn.execute(statement)
            before = await _ids(conn)

            async with conn.transaction():
                await conn.execute(await _sql(last, "upgrade"))
            assert await _partitioned(conn) == set(TABLES)
            assert await _ids(conn) == before
            months = {r["t"] for r in await conn.fetch("SELECT tableoid::regclass::text AS t FROM audit_log")}
            assert len(months) == 2 and all(t.startswith("audit_log_p") for t in months)
            assert await conn.fetchval("SELECT payload->>'to' FROM outbox_delivery WHERE id = 'dlv_1'") == "x"
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.execute(ROWS[0].replace("'dlv_1'", "'dlv_2'"))

            async with conn.transaction():
                await conn.execute(await _sql(last, "downgrade"))
            assert await _partitioned(conn) == set()
            assert await _ids(conn) == before
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

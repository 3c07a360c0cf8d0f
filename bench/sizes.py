"""Disk, WAL and time per row of the tables that grow with people and with campaigns (docs/scale.md).

    DATABASE_URL=postgres://.../scratch python bench/sizes.py [ROWS]

Needs an empty scratch PostgreSQL database with the migrations applied (`python server.py migrate`); inserts ROWS
(default 100,000) rows shaped like the real ones into each table, one set-wise INSERT per table (as publishing
writes them), then prints bytes per row (heap, indexes, total), WAL bytes per row and rows per second.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import asyncpg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from api.core import pii  # noqa: E402
from api.core.settings import load_settings  # noqa: E402

ID = "'{p}_' || replace(gen_random_uuid()::text, '-', '')"
BIDX = "encode(sha256(('p' || g)::bytea), 'hex')"  # 64 hex characters, as the HMAC blind index


def _sealed_lengths() -> dict:
    """The lengths of real ciphertexts of an id number, a name, a phone and an address."""
    cipher = pii.configure(load_settings())
    samples = {"id": "110101199003074518", "name": "欧阳建国", "phone": "13800138000",
               "address": "北京市东城区东华门街道南池子大街十二号院三号楼二单元四零一室"}
    return {k: len(cipher.encrypt(v, context=k)) for k, v in samples.items()}


def _statements(sealed: dict) -> dict[str, str]:
    def s(kind: str) -> str:  # a ciphertext-like text of the real length
        return f"rpad(md5('{kind}' || g), {sealed[kind]}, md5(g::text))"

    payload = json.dumps({"kind": "application_accepted", "params": {"item": "城乡居民基本养老保险参保登记",
                                                                     "case_no": "2026120100012345"},
                          "page": "pages/case/detail?id=app_0123456789abcdef0123456789abcdef",
                          "ref": {"kind": "application", "id": "app_0123456789abcdef0123456789abcdef"},
                          "chain": ["wechat", "sms"], "title": "您的办件已受理"}, ensure_ascii=False)
    return {
        "population_record": (
            "INSERT INTO population_record (id, id_number_bidx, id_number_enc, name_enc, gender, birth_date, "
            "phone_enc, hukou_region, address_enc, imported_at, updated_at) "
            f"SELECT {ID.format(p='pop')}, {BIDX}, {s('id')}, {s('name')}, 'F', DATE '1970-01-01' + (g % 20000), "
            f"{s('phone')}, lpad((110101 + g % 3000)::text, 6, '0'), "
            f"{s('address')}, now(), now() FROM generate_series(1, $1) g"),
        "citizen": (
            "INSERT INTO citizen (id, name_enc, phone_enc, phone_bidx, id_number_enc, id_number_bidx, assurance_level, "
            f"real_name_verified_at, created_at, updated_at) SELECT {ID.format(p='cit')}, {s('name')}, {s('phone')}, "
            f"encode(sha256(('ph' || g)::bytea), 'hex'), {s('id')}, {BIDX}, 3, now(), now(), now() "
            "FROM generate_series(1, $1) g"),
        "policy_reach": (
            "INSERT INTO policy_reach (id, policy_id, family_id, person_bidx, campaign_id, granted, status, "
            f"created_at) SELECT {ID.format(p='grt')}, 'pol_0123456789abcdef0123456789abcdef', "
            f"'pol_0123456789abcdef0123456789abcdef', {BIDX}, 'cmp_0123456789abcdef0123456789abcdef', TRUE, 'active', "
            "now() FROM generate_series(1, $1) g"),
        "outbox_delivery": (  # a campaign row: no payload (its text is the policy's)
            "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, "
            f"status, attempts, created_at, sent_at) SELECT {ID.format(p='dlv')}, "
            f"'pol_0123456789abcdef0123456789abcdef:' || {BIDX} || ':wechat', 'cmp_0123456789abcdef0123456789abcdef', "
            f"{BIDX}, {ID.format(p='cit')}, 'wechat', 'benefit', 'delivered', 1, now(), now() "
            "FROM generate_series(1, $1) g"),
        "outbox_delivery (event rows, payload)": (
            "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
            f"created_at) SELECT {ID.format(p='dlv')}, 'evt:app_' || md5(g::text) || ':accepted:wechat', "
            f"{ID.format(p='cit')}, 'wechat', 'application', $2::jsonb, 'queued', 0, now() "
            "FROM generate_series(1, $1) g", payload),
        "inbox_message": (
            "INSERT INTO inbox_message (id, citizen_id, title, body, topic, ref_kind, ref_id, created_at) "
            f"SELECT {ID.format(p='msg')}, {ID.format(p='cit')}, '高龄津贴已自动发放', "
            "'根据您的户籍与年龄信息，您已符合高龄津贴发放条件，本月起按月发放至您的社保卡，"
            "无需申请。如有疑问请致电12345。', "
            "'benefit', 'policy', 'pol_0123456789abcdef0123456789abcdef', now() FROM generate_series(1, $1) g"),
        "audit_log": (
            "INSERT INTO audit_log (id, created_at, actor_type, actor_id, on_behalf_of, action, target_type, "
            f"target_id, request_id, ip, detail) SELECT {ID.format(p='aud')}, now(), 'admin', "
            "'adm_0123456789abcdef0123456789abcdef', NULL, 'citizen.reveal', 'citizen', "
            f"{ID.format(p='cit')}, md5(g::text), '10.12.0.34', '{{\"fields\": [\"phone\"]}}'::jsonb "
            "FROM generate_series(1, $1) g"),
    }


async def _size(conn, table: str) -> tuple[int, int]:
    """(heap bytes, index bytes) of `table` and all its partitions."""
    row = await conn.fetchrow(
        "SELECT sum(pg_table_size(r))::bigint AS heap, sum(pg_indexes_size(r))::bigint AS idx FROM "
        "(SELECT $1::regclass AS r UNION ALL "
        "SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = $1::regclass) t",
        table)
    return row["heap"], row["idx"]


async def main(rows: int) -> None:
    """Insert `rows` rows into each table and print the figures per row."""
    conn = await asyncpg.connect(os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1))
    try:
        print(f"{'table':40} {'heap B/row':>10} {'index B/row':>11} {'total B/row':>11} {'WAL B/row':>9} {'rows/s':>9}")
        for name, statement in _statements(_sealed_lengths()).items():
            sql, *args = statement if isinstance(statement, tuple) else (statement,)
            table = name.split(" ")[0]
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                raise SystemExit(f"{table} has rows: run this on an empty scratch database")
            wal0 = await conn.fetchval("SELECT pg_current_wal_insert_lsn()")
            t0 = time.perf_counter()
            await conn.execute(sql, rows, *args)
            seconds = time.perf_counter() - t0
            wal = await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1)", wal0)
            await conn.execute(f'VACUUM ANALYZE "{table}"')
            heap, idx = await _size(conn, table)
            print(f"{name:40} {heap / rows:10.0f} {idx / rows:11.0f} {(heap + idx) / rows:11.0f} "
                  f"{float(wal) / rows:9.0f} {rows / seconds:9.0f}")
            await conn.execute(f'TRUNCATE "{table}" CASCADE')  # empty before: only our rows, nothing refers to them
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))

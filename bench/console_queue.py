"""The staff console at 10,000 cases in one department: the clerk's queue and the dashboards, against GET /healthz.

Seeds the real tables set-wise (COPY on PostgreSQL, multi-row INSERT on SQLite): 10,000 cases of one department
over the last 55 days (a tenth cross-province; open ones on track, warning, overdue or paused; decided ones), 2,000
ratings with their rectifications, 10,000 certificates, 50,000 code scans and 20 campaigns with 20,000 deliveries.
Then serves the app (one worker, its own process) and times, sequentially after a warm-up, the median of each
request: the queue's first page, a filtered page, page 100 (by cursor), a case read, and every dashboard (its
default 30 days and a full 366). Each is printed in ms and as a ratio of GET /healthz's median in the same run.

    python bench/console_queue.py [--cases 10000] [--repeat 30]       # SQLite + fakeredis
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/4 \
        python bench/console_queue.py                                  # PostgreSQL + Redis

With DATABASE_URL the bench makes a fresh database beside the one named and drops it afterwards.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

from bench.stack import free_port  # noqa: E402

DEPT = "gongan"
PASSWORD = "bench-password-123"
OPEN = ("submitted", "supplement_requested", "supplemented", "accepted")
DECIDED = ("approved", "denied", "rejected", "completed", "delivered")
_APP_COLUMNS = ("id", "parent_id", "citizen_id", "submitted_by", "item_code", "bundle_code", "item_codes", "title",
                "dept", "status", "form_enc", "materials", "delivery_method", "delivery_address_enc", "carrier",
                "tracking_no", "supplement", "applicant_region", "handling_region", "receiving_region",
                "cross_province", "promised_days", "due_date", "sla_state", "paused_on", "accepted_at", "decided_at",
                "version", "created_at", "updated_at")


def _case(n: int, now: dt.datetime, form_enc: str, stored) -> tuple:
    created = now - dt.timedelta(minutes=8 * n)
    status = (OPEN + DECIDED)[n % 9]
    if status == "supplement_requested":
        sla = "paused"
    elif status in OPEN:
        sla = "overdue" if n % 20 == 0 else "warning" if n % 20 == 1 else "on_track"
    else:
        sla = "overdue" if n % 10 == 0 else "on_track"
    due = (created + dt.timedelta(days=7 + n % 14)).date()
    return (f"app_bench{n:06d}", None, f"cit_bench{n % 3000}", f"cit_bench{n % 3000}", "T00000000001", None,
            json.dumps(["T00000000001"]), "测试居住登记", DEPT, status, form_enc, "[]", "pickup", None, None, None,
            None, "430104", "430000", "430104", n % 10 == 0, 5, due, sla, None, None, None, 0, stored(created),
            stored(created))


async def _seed(settings, cases: int) -> None:
    from api.admin import service as admin_service
    from api.cli import migrate
    from api.core import db, rawsql
    from api.core.pii import build_cipher

    await migrate(settings)
    await db.open_db(settings)
    try:
        stored = db.as_stored
        now = dt.datetime.now(dt.timezone.utc)
        form_enc = build_cipher(settings).encrypt(json.dumps({"reason": "就业"}, ensure_ascii=False),
                                                  context="application.form")
        rows = [_case(n, now, form_enc, stored) for n in range(cases)]
        for start in range(0, len(rows), 500):
            await rawsql.insert_rows("application", _APP_COLUMNS, rows[start:start + 500])
        completed = [r for r in rows if r[9] == "completed"][:2000]
        ratings = [(f"rat_bench{n:06d}", r[0], r[2], n % 5 + 1, None, r[28]) for n, r in enumerate(completed)]
        rectifications = [(f"rec_bench{n:06d}", rt[0], rt[1], DEPT, "open" if n % 2 else "closed",
                           (now + dt.timedelta(days=n % 9 - 4)).date(), None, rt[5])
                          for n, rt in enumerate(ratings) if rt[3] <= 2]
        types = ("HUKOU", "RESIDENCE", "NO_CRIMINAL_RECORD", "MARRIAGE_RECORD", "SOCIAL_INSURANCE")
        depts = {"HUKOU": DEPT, "RESIDENCE": DEPT, "NO_CRIMINAL_RECORD": DEPT, "MARRIAGE_RECORD": "minzheng",
                 "SOCIAL_INSURANCE": "renshe"}
        certificates = []
        for n in range(10_000):
            at = stored(now - dt.timedelta(minutes=8 * n))
            kind = types[n % 5]
            certificates.append((f"crt_bench{n:06d}", f"cit_bench{n % 3000}", f"cit_bench{n % 3000}", kind,
                                 depts[kind], "就业", "issued" if n % 7 else "pending_review", None,
                                 f"SBENCH{n:08d}", "code", None, None, at if n % 7 else None, None, None, at, at))
        scenes = ("service", "health", "transit", "social_security")
        scans = [(f"scn_bench{n:07d}", "trm_bench", scenes[n % 4], None, None,
                  "accepted" if n % 13 else "refused", None, "online", None, False,
                  stored(now - dt.timedelta(seconds=95 * n)), stored(now - dt.timedelta(seconds=95 * n)))
                 for n in range(50_000)]
        policies, campaigns, deliveries, inbox = [], [], [], []
        for c in range(20):
            at = stored(now - dt.timedelta(days=2 * c))
            policies.append((f"pol_bench{c:03d}", f"政策 {c}", "摘要", "正文", "notify", "{}", None, '["inbox","sms"]',
                             None, None, None, "published", "adm_bench", at, at, at, None))
            campaigns.append((f"cmp_bench{c:03d}", f"pol_bench{c:03d}", "completed", "done", "q", at.date(), 1000,
                              0, 1000, None, "adm_bench", at, at, at, at))
            for n in range(1000):
                channel = "inbox" if n % 4 == 0 else "sms"
                status = ("delivered", "sent", "failed", "queued")[n % 4] if channel == "sms" else "delivered"
                ref = f"msg_bench{c:03d}{n:04d}" if channel == "inbox" else None
                deliveries.append((f"dlv_bench{c:03d}{n:04d}", f"cmp_bench{c:03d}:{n}", f"cmp_bench{c:03d}", None,
                                   None, channel, "policy", None, status, "x" if status == "failed" else None, 0,
                                   None, None, None, None, None, ref, None, at))
                if ref:
                    inbox.append((ref, "cit_bench", f"政策 {c}", "正文", "policy", None, None, at if n % 8 else None,
                                  at))
        tables = [
            ("application_rating", ("id", "application_id", "citizen_id", "score", "comment", "created_at"), ratings),
            ("rectification", ("id", "rating_id", "application_id", "dept", "status", "due_date", "closed_at",
                               "created_at"), rectifications),
            ("certificate", ("id", "citizen_id", "requested_by", "type_code", "dept", "purpose", "status", "reason",
                             "serial", "verify_code", "facts_enc", "pdf_key", "issued_at", "expires_at",
                             "revoked_at", "status_changed_at", "created_at"), certificates),
            ("code_scan", ("id", "terminal_id", "scene", "code_id", "holder_id", "outcome", "reason", "source",
                           "terminal_scan_id", "used_twice", "scanned_at", "recorded_at"), scans),
            ("policy", ("id", "title", "summary", "body", "mode", "rule", "benefit", "channels", "apply_url",
                        "valid_from", "valid_until", "status", "created_by", "updated_at", "published_at",
                        "created_at", "archived_at"), policies),
            ("campaign", ("id", "policy_id", "status", "stage", "queue_name", "as_of", "matched", "granted", "queued",
                          "error", "created_by", "started_at", "matched_at", "finished_at", "created_at"), campaigns),
            ("outbox_delivery", ("id", "dedupe_key", "campaign_id", "person_bidx", "citizen_id", "channel", "topic",
                                 "payload", "status", "reason", "attempts", "last_error", "claim_id", "lease_until",
                                 "next_attempt_at", "retry_until", "provider_ref", "sent_at", "created_at"),
             deliveries),
            ("inbox_message", ("id", "citizen_id", "title", "body", "topic", "ref_kind", "ref_id", "read_at",
                               "created_at"), inbox),
        ]
        for table, columns, values in tables:
            for start in range(0, len(values), 500):
                await rawsql.insert_rows(table, columns, values[start:start + 500])
        await rawsql.execute("ANALYZE")
        await admin_service.create_or_update(username="bench_clerk", password=PASSWORD, roles=["reviewer"],
                                             depts=[DEPT])
        await admin_service.create_or_update(username="bench_boss", password=PASSWORD, roles=["super_admin"],
                                             depts=[])
    finally:
        await db.close_db()


async def _median_ms(client: httpx.AsyncClient, url: str, headers: dict, repeat: int) -> float:
    for _ in range(5):
        r = await client.get(url, headers=headers)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        r = await client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return statistics.median(times)


async def _measure(base_url: str, repeat: int) -> list[tuple[str, float]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        async def login(name: str) -> dict:
            r = await client.post("/api/v1/admin/auth/login", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        clerk, boss = await login("bench_clerk"), await login("bench_boss")
        cursor = None
        for _ in range(99):
            page = (await client.get("/api/v1/admin/applications", params={"cursor": cursor} if cursor else {},
                                     headers=clerk)).json()
            cursor = page["next_cursor"]
        first = (await client.get("/api/v1/admin/applications", headers=clerk)).json()["items"]
        assert len(first) == 20 and first[0]["sla_state"] == "overdue", first[:1]
        year = {"from": (dt.date.today() - dt.timedelta(days=365)).isoformat(), "to": dt.date.today().isoformat()}
        year_query = f"from={year['from']}&to={year['to']}"
        routes = [("GET /healthz", "/healthz", {}),
                  ("queue, first page", "/api/v1/admin/applications", clerk),
                  ("queue, first page (super admin)", "/api/v1/admin/applications", boss),
                  ("queue, status=accepted&cross_province=true",
                   "/api/v1/admin/applications?status=accepted&cross_province=true", clerk),
                  ("queue, sla_state=overdue", "/api/v1/admin/applications?sla_state=overdue", clerk),
                  ("queue, page 100", f"/api/v1/admin/applications?cursor={cursor}", clerk),
                  ("case read", f"/api/v1/admin/applications/{first[0]['id']}", clerk)]
        for name, who in (("applications", clerk), ("sla", clerk), ("ratings", clerk), ("certificates", clerk),
                          ("scans", boss), ("campaigns", boss)):
            routes.append((f"dashboard {name}, 30 days", f"/api/v1/admin/dashboards/{name}", who))
            routes.append((f"dashboard {name}, 366 days", f"/api/v1/admin/dashboards/{name}?{year_query}", who))
        return [(label, await _median_ms(client, url, headers, repeat)) for label, url, headers in routes]


def _serve(env: dict, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "server.py"], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start")


async def _database(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    """Seed, serve, time and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    opts = parser.parse_args()
    os.environ["TZ"] = "Asia/Shanghai"
    time.tzset()
    from api.core.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="bench_console_"))
    base_db, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    db_name = f"bench_console_{secrets.token_hex(4)}" if base_db else None
    db_url = f"{base_db.rpartition('/')[0]}/{db_name}" if base_db else None
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(APP_ENV="development", PORT=str(port), WORKERS="1", DATA_DIR=str(work), ACCESS_LOG="false",
               LOG_LEVEL="WARNING", TZ="Asia/Shanghai", **({"DATABASE_URL": db_url} if db_url else {}),
               **({"REDIS_URL": redis_url} if redis_url else {}))
    if db_name:
        asyncio.run(_database(base_db, f'CREATE DATABASE "{db_name}"'))
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    proc = None
    try:
        settings = load_settings(app_env="development", data_dir=work, database_url=db_url, redis_url=redis_url,
                                 port=port)
        started = time.perf_counter()
        asyncio.run(_seed(settings, opts.cases))
        seeded = time.perf_counter() - started
        proc = _serve(env, port, work / "api.log")
        figures = asyncio.run(_measure(f"http://127.0.0.1:{port}", opts.repeat))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if db_name:
            asyncio.run(_database(base_db, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    store = "PostgreSQL + Redis" if db_url else "SQLite + fakeredis"
    print(f"{store}: {opts.cases} cases in {DEPT} seeded in {seeded:.1f} s; median of {opts.repeat} sequential "
          "requests after 5 warm-up ones, one worker")
    healthz = figures[0][1]
    for label, ms in figures:
        print(f"  {label:48s} {ms:8.2f} ms  {ms / healthz:6.1f} x healthz")
    return 0


if __name__ == "__main__":
    sys.exit(main())

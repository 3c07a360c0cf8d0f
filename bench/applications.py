"""Applications at scale: search, submission rate and a citizen's list, on PostgreSQL with 100,000 applications.

In one run (see bench/stack.py): the bare Sanic app as the baseline, the project in production mode
with one worker. Prints `GET /api/v1/items?q=` requests per second as a ratio of the bare app's
(target >= 0.30), `POST /api/v1/applications` per second (target >= 300) and the median of a
citizen's `GET /api/v1/applications` (target < 10 ms). Exits 1 when a target is missed.

    python bench/applications.py [--rows 100000] [--seconds 5]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
from urllib.parse import quote

import httpx

from bench.loadgen import measure_rps, post_rate
from bench.stack import Stack
from tests.applications.catalogue_fixture import CATALOGUE

ITEM = "T00000000001"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# The applicant's phone is filled from the verified login phone (a different one would be 422 identity_mismatch);
# name and id number, which these citizens never had checked, are taken as typed (the id number with a right check
# digit).
FORM = {"applicant_name": "王五", "applicant_id_number": "110101198506150019", "reason": "就业"}


async def _citizen(stack: Stack) -> tuple[str, str]:
    """A level-2 citizen logged in through the sandbox: (access token, citizen id)."""
    import asyncpg

    async with httpx.AsyncClient(timeout=10) as client:
        codes = (await client.post(f"{stack.sandbox_url}/sandbox/wechat/codes", json={"phone": "13700001111"})).json()
        tokens = (await client.post(f"{stack.api_url}/api/v1/auth/wechat/login",
                                    json={"code": codes["code"], "phone_code": codes["phone_code"]})).json()
    conn = await asyncpg.connect(stack.db_url.replace("postgres://", "postgresql://", 1))
    await conn.execute("UPDATE citizen SET assurance_level = 2 WHERE id = $1", tokens["citizen"]["id"])
    await conn.close()
    # As the app does after a real-name check: refresh, so the access token carries level 2.
    async with httpx.AsyncClient(timeout=10) as client:
        fresh = (await client.post(f"{stack.api_url}/api/v1/auth/refresh",
                                   json={"refresh_token": tokens["refresh_token"]})).json()
    return fresh["access_token"], tokens["citizen"]["id"]


async def _seed(stack: Stack, *, rows: int, citizen_id: str) -> None:
    """`rows` applications set-wise (COPY), 60 of them the bench citizen's, the rest spread over 10,000 people."""
    import asyncpg

    from api.core.pii import build_cipher
    from api.core.settings import Settings

    cipher = build_cipher(Settings(pii_keys=stack.keys["PII_KEYS"], pii_active_key_id="bench1",
                                   blind_index_key=stack.keys["BLIND_INDEX_KEY"]))
    form_enc = cipher.encrypt(json.dumps(FORM, ensure_ascii=False), context="application.form")
    now = dt.datetime.now(dt.timezone.utc)
    statuses = ("submitted", "accepted", "approved", "completed", "supplement_requested")
    records = []
    for n in range(rows):
        owner = citizen_id if n < 60 else f"cit_bench_{n % 10_000}"
        created = now - dt.timedelta(minutes=n)
        records.append((
            f"app_bench_{n}", None, owner, owner, ITEM, None, json.dumps([ITEM]), "测试居住登记", "gongan",
            statuses[n % len(statuses)], form_enc, "[]", "pickup", None, None, "430104", "430000", "430104",
            False, 5, (created + dt.timedelta(days=7)).date(), "on_track", None, None, None, 0, created, created))
    conn = await asyncpg.connect(stack.db_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.copy_records_to_table("application", records=records, columns=[
            "id", "parent_id", "citizen_id", "submitted_by", "item_code", "bundle_code", "item_codes", "title",
            "dept", "status", "form_enc", "materials", "delivery_method", "delivery_address_enc", "tracking_no",
            "applicant_region", "handling_region", "receiving_region", "cross_province", "promised_days",
            "due_date", "sla_state", "paused_on", "accepted_at", "decided_at", "version", "created_at",
            "updated_at"])
        await conn.execute("ANALYZE application")
    finally:
        await conn.close()


async def _submissions(stack: Stack, token: str, *, seconds: int, concurrency: int) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        r = await client.post("/api/v1/files", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=headers)
        file_id = r.json()["file_id"]
        body = {"item_code": ITEM, "form": FORM, "delivery": {"method": "pickup"}, "applicant_region": "430104",
                "materials": [{"material_code": "M_ID_CARD", "file_id": file_id},
                              {"material_code": "M_RESIDENCE_PROOF", "commitment": True},
                              {"material_code": "M_PHOTO", "deferred": True}]}
    return await post_rate("127.0.0.1", stack.api_port, "/api/v1/applications", headers=headers, seconds=seconds,
                           body=json.dumps(body, ensure_ascii=False).encode(), connections=concurrency)


async def _list_latencies(stack: Stack, token: str, count: int) -> list[float]:
    times = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10) as client:
        for i in range(count + 20):
            started = time.perf_counter()
            r = await client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"})
            elapsed = (time.perf_counter() - started) * 1000
            assert r.status_code == 200 and len(r.json()["items"]) == 20, r.text[:300]
            if i >= 20:
                times.append(elapsed)
    return times


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    opts = parser.parse_args()
    with Stack() as stack:
        catalogue = stack.work / "catalogue.json"
        catalogue.write_text(json.dumps(CATALOGUE, ensure_ascii=False), encoding="utf-8")
        stack.cli("load-catalogue")  # the demo catalogue: what search runs over
        stack.cli("load-catalogue", str(catalogue))  # and the tests' item that submissions use
        stack.start_api()
        token, citizen_id = asyncio.run(_citizen(stack))
        started = time.perf_counter()
        asyncio.run(_seed(stack, rows=opts.rows, citizen_id=citizen_id))
        seeded = time.perf_counter() - started
        bare_rps, tool = measure_rps("127.0.0.1", stack.bare_port, "/", seconds=opts.seconds,
                                     connections=opts.connections)
        search_rps, _ = measure_rps("127.0.0.1", stack.api_port, f"/api/v1/items?q={quote('出生')}",
                                    seconds=opts.seconds, connections=opts.connections)
        list_times = asyncio.run(_list_latencies(stack, token, 300))
        submit_rate = asyncio.run(_submissions(stack, token, seconds=opts.seconds, concurrency=opts.connections))
    ratio = search_rps / bare_rps
    median = statistics.median(list_times)
    print(f"load tool: {tool}, {opts.connections} connections, {opts.seconds} s each; "
          f"{opts.rows} applications seeded in {seeded:.1f} s")
    print(f"bare Sanic hello:            {bare_rps:10.0f} req/s  (baseline 1.00)")
    print(f"GET /api/v1/items?q=出生:    {search_rps:10.0f} req/s  ratio {ratio:.2f}  (target >= 0.30)")
    print(f"POST /api/v1/applications:   {submit_rate:10.0f} per s, one worker  (target >= 300)")
    print(f"GET /api/v1/applications:    median {median:.1f} ms, p95 {statistics.quantiles(list_times, n=20)[18]:.1f}"
          f" ms  (target median < 10 ms)")
    ok = ratio >= 0.30 and submit_rate >= 300 and median < 10
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

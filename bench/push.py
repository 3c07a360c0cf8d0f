"""Policies at province scale, in production mode on PostgreSQL and Redis (see bench/stack.py).

With N synthetic people (default 1,000,000; a generator in bench/synthetic.py) it prints:
- import: population rows per second through `python server.py import` (target >= 20,000), and as a ratio
  of a plain COPY of the same rows, unencrypted, into a scratch table in the same run;
- preview: the time of `POST /admin/policies/{id}/preview` for a four-condition rule (target < 2 s) and its
  ratio to a hand-written SQL count of the same predicate in the same run (target <= 2);
- publish: an auto_grant policy matching about a fifth of the people: the time from publish until every
  grant is written and every delivery queued (target < 60 s for 200,000);
- send: SMS messages per second that one worker sends through the sandbox with no rate limit (target >= 1000),
  and as a ratio of the sandbox's own rate for the same sends posted straight at it.
Exits 1 when a target is missed.

    python bench/push.py [--people 1000000] [--seconds 15]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import datetime as dt
import secrets
import time

import asyncpg
import httpx

from bench import synthetic
from bench.stack import Stack, copy_seconds

FOUR = {"all": [{"field": "hukou_region", "op": "prefix", "value": "4301"}, {"field": "age", "op": ">=", "value": 60},
                {"field": "gender", "op": "=", "value": "女"},
                {"field": "low_income_category", "op": "exists", "value": False}]}
GRANT = {"all": [{"field": "age", "op": ">=", "value": 60}, {"field": "gender", "op": "=", "value": "女"}]}


def _pg(stack: Stack) -> str:
    return stack.db_url.replace("postgres://", "postgresql://", 1)



async def _hand_count(stack: Stack) -> float:
    """Seconds for the hand-written count of FOUR's predicate."""
    today = dt.date.today()
    cutoff = today.replace(year=today.year - 60) if not (today.month == 2 and today.day == 29) else \
        dt.date(today.year - 60, 2, 28)
    conn = await asyncpg.connect(_pg(stack))
    try:
        started = time.perf_counter()
        await conn.fetchval(
            "SELECT count(*) FROM population_record p LEFT JOIN low_income_record l "
            "ON l.id_number_bidx = p.id_number_bidx WHERE substr(p.hukou_region, 1, 4) = $1 "
            "AND p.birth_date <= $2 AND p.gender = $3 AND l.id_number_bidx IS NULL", "4301", cutoff, "女")
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _admin(stack: Stack, client: httpx.AsyncClient) -> dict:
    password = secrets.token_hex(12)
    stack.cli("create-admin", "--username", "bench-policy", "--password", password, "--role", "policy_admin")
    r = await client.post("/api/v1/admin/auth/login", json={"username": "bench-policy", "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _policy(client, admin, rule: dict, channels: list[str]) -> str:
    r = await client.post("/api/v1/admin/policies", headers=admin, json={
        "title": "高龄津贴（压测）", "summary": "压测", "body": "压测", "mode": "auto_grant", "rule": rule,
        "benefit": {"name": "津贴", "amount": 100, "unit": "元/月"}, "channels": channels})
    r.raise_for_status()
    return r.json()["id"]


async def _campaign(client, admin, campaign_id: str) -> dict:
    r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
    r.raise_for_status()
    return r.json()


async def _sandbox_rate(stack: Stack, seconds: float, concurrency: int = 50) -> float:
    """SMS sends per second that the sandbox takes when posted straight at it (the upstream's own ceiling)."""
    from api.core.settings import load_settings
    from miniapp_handlers.sms.client import SmsClient

    settings = load_settings(sms_api_base=f"{stack.sandbox_url}/sandbox/sms/",
                             sms_access_key_secret=stack.keys["SMS_ACCESS_KEY_SECRET"])
    client = SmsClient(settings)
    done = 0
    deadline = time.perf_counter() + seconds

    async def one():
        nonlocal done
        while time.perf_counter() < deadline:
            await client.send(phone=f"139{secrets.randbelow(10**8):08d}", template_code="SMS_POLICY_0001",
                              params={"title": "压测"})
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client.close()
    return done / elapsed


async def _run(stack: Stack, people: int, seconds: int) -> list[tuple[str, bool]]:
    results = []
    work = stack.work
    csv_path, low_path = work / "population.csv", work / "low_income.csv"
    ids = synthetic.write_population(csv_path, people)
    synthetic.write_low_income(low_path, ids, 0.05)
    del ids
    started = time.perf_counter()
    stack.cli("import", "population", str(csv_path))
    import_s = time.perf_counter() - started
    stack.cli("import", "low_income", str(low_path))
    copy_s = await copy_seconds(stack.db_url, csv_path)
    rate = people / import_s
    print(f"import: {people} rows in {import_s:.1f} s = {rate:,.0f} rows/s (target >= 20,000); plain COPY "
          f"{copy_s:.1f} s, ratio {copy_s / import_s:.2f}")
    results.append(("import >= 20,000 rows/s", rate >= 20_000))
    async with asyncpg.create_pool(_pg(stack), min_size=1, max_size=1) as pool:
        await pool.execute("ANALYZE")

    stack.start_api()
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as client:
        admin = await _admin(stack, client)
        preview_id = await _policy(client, admin, FOUR, ["inbox"])
        await client.post(f"/api/v1/admin/policies/{preview_id}/preview", headers=admin)  # warm the plan cache
        started = time.perf_counter()
        r = await client.post(f"/api/v1/admin/policies/{preview_id}/preview", headers=admin)
        preview_s = time.perf_counter() - started
        r.raise_for_status()
        hand_s = min([await _hand_count(stack) for _ in range(2)])
        ratio = preview_s / hand_s
        print(f"preview: {r.json()['matched']:,} matched in {preview_s * 1000:.0f} ms (reported "
              f"{r.json()['elapsed_ms']:.0f} ms; target < 2000); hand-written count {hand_s * 1000:.0f} ms, "
              f"ratio {ratio:.2f} (target <= 2)")
        results += [("preview < 2 s", preview_s < 2), ("preview within 2x of SQL", ratio <= 2)]

        stack.start_worker(PUSH_RATE_SMS="1000000", PUSH_SENDERS="2")
        grant_id = await _policy(client, admin, GRANT, ["sms", "inbox"])
        started = time.perf_counter()
        r = await client.post(f"/api/v1/admin/policies/{grant_id}/publish",
                              headers={**admin, "Idempotency-Key": "bench-publish-1"})
        r.raise_for_status()
        campaign_id = r.json()["campaign_id"]
        while (figures := await _campaign(client, admin, campaign_id))["stage"] == "match":
            await asyncio.sleep(0.2)
        publish_s = time.perf_counter() - started
        print(f"publish: {figures['granted']:,} grants written and {figures['queued']:,} deliveries queued in "
              f"{publish_s:.1f} s (target < 60 s for 200,000)")
        results.append(("publish < 60 s", publish_s < 60 and figures["granted"] >= 0.15 * people))

        def sent(f):
            return f["sent"]["total"]

        await asyncio.sleep(2)  # the senders start
        first = await _campaign(client, admin, campaign_id)
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        last = await _campaign(client, admin, campaign_id)
        send_rate = (sent(last) - sent(first)) / (time.perf_counter() - t0)
        await client.post(f"/api/v1/admin/campaigns/{campaign_id}/cancel", headers=admin)
    await asyncio.sleep(1)
    upstream = await _sandbox_rate(stack, 5)
    print(f"send: one worker sent {send_rate:,.0f} SMS/s through the sandbox (target >= 1000); posted straight at "
          f"the sandbox {upstream:,.0f}/s, ratio {send_rate / upstream:.2f}")
    results.append(("send >= 1000/s", send_rate >= 1000))
    return results


def main() -> int:
    """Run the benchmark; 1 when a target is missed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    args = parser.parse_args()
    with Stack() as stack:
        results = asyncio.run(_run(stack, args.people, args.seconds))
    for name, ok in results:
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main())

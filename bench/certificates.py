"""Certificates: issuing (registry check, PDF, QR, signature) and public verification, in production mode.

In one run (see bench/stack.py): the bare Sanic app as the baseline and the project with one worker
on PostgreSQL and Redis. Prints the median time to issue a 户籍证明 through `POST /api/v1/certificates`
(target < 100 ms) and `POST /api/v1/verify` requests per second as a ratio of the bare app's (target
>= 0.25). Exits 1 when a target is missed.

    python bench/certificates.py [--issues 100] [--seconds 5]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import json
import secrets
import statistics
import time

import httpx

from bench.loadgen import measure_rps, post_rate
from bench.stack import Stack

PERSON = {"id_number": "430104199001011230", "name": "周一", "gender": "男", "birth_date": "1990-01-01",
          "phone": "13700002222", "hukou_region": "430104", "address": "湖南省长沙市岳麓区麓山南路 1 号"}


async def _verified_citizen(stack: Stack) -> str:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=10) as client:
        codes = (await client.post(f"{stack.sandbox_url}/sandbox/wechat/codes", json={"phone": PERSON["phone"]})).json()
        tokens = (await client.post("/api/v1/auth/wechat/login",
                                    json={"code": codes["code"], "phone_code": codes["phone_code"]})).json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        r = await client.post("/api/v1/me/real-name", json={"name": PERSON["name"], "id_number": PERSON["id_number"]},
                              headers=headers)
        assert r.status_code == 200, r.text
        fresh = (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
        return fresh["access_token"]


async def _issue_times(stack: Stack, token: str, count: int) -> tuple[list[float], str]:
    times, url = [], ""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        for i in range(count + 5):
            started = time.perf_counter()
            r = await client.post("/api/v1/certificates", json={"type_code": "HUKOU", "purpose": "就业"},
                                  headers={**headers, "Idempotency-Key": secrets.token_hex(12)})
            elapsed = (time.perf_counter() - started) * 1000
            if r.status_code != 201 or r.json()["status"] != "issued":
                raise RuntimeError(f"issue answered {r.status_code}: {r.text[:300]}")
            url = r.json()["verify_url"]
            if i >= 5:
                times.append(elapsed)
    return times, url


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    opts = parser.parse_args()
    with Stack() as stack:
        csv = stack.work / "population.csv"
        csv.write_text(",".join(PERSON) + "\n" + ",".join(PERSON.values()) + "\n", encoding="utf-8")
        stack.cli("import", "population", str(csv))
        stack.start_api()
        token = asyncio.run(_verified_citizen(stack))
        times, url = asyncio.run(_issue_times(stack, token, opts.issues))
        bare_rps, tool = measure_rps("127.0.0.1", stack.bare_port, "/", seconds=opts.seconds,
                                     connections=opts.connections)
        verify_rps = asyncio.run(post_rate("127.0.0.1", stack.api_port, "/api/v1/verify", headers={},
                                           body=json.dumps({"payload": url}).encode(), seconds=opts.seconds,
                                           connections=opts.connections, expect=200))
    median = statistics.median(times)
    ratio = verify_rps / bare_rps
    print(f"load tool: {tool} (verify: python), {opts.connections} connections, {opts.seconds} s each")
    print(f"issue a 户籍证明 (check, PDF, QR, PAdES): median {median:.1f} ms, p95 "
          f"{statistics.quantiles(times, n=20)[18]:.1f} ms over {len(times)}  (target median < 100 ms)")
    print(f"bare Sanic hello:        {bare_rps:10.0f} req/s  (baseline 1.00)")
    print(f"POST /api/v1/verify:     {verify_rps:10.0f} req/s  ratio {ratio:.2f}  (target >= 0.25)")
    ok = median < 100 and ratio >= 0.25
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""HTTP speed: GET /api/v1/me against a bare Sanic app, and the median of a full WeChat login.

Starts, in one run: a bare Sanic "hello" app (the baseline), a sandbox WeChat/Alipay upstream (the
embedded server, standing in for the platforms), and the project in production mode on PostgreSQL
and Redis with one worker, pointed at that sandbox as it would be at the real platforms.
Prints requests per second for both and their ratio (target: /me >= 20% of bare), and the login
latency (target: median < 30 ms). Exits 1 when a target is missed.

    python bench/http.py [--seconds 5] [--logins 200]
"""

import sys
from pathlib import Path

# This file is named http.py: drop its own folder from the path so `import http` finds the standard library.
ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import secrets
import statistics
import time

import httpx

from bench.loadgen import measure_rps
from bench.stack import Stack


async def _login_latencies(api: str, sandbox: str, count: int) -> tuple[list[float], str]:
    times, token = [], ""
    async with httpx.AsyncClient(timeout=10) as client:
        for i in range(count + 10):
            phone = f"139{secrets.randbelow(10**8):08d}"
            codes = (await client.post(f"{sandbox}/sandbox/wechat/codes", json={"phone": phone})).json()
            started = time.perf_counter()
            r = await client.post(f"{api}/api/v1/auth/wechat/login",
                                  json={"code": codes["code"], "phone_code": codes["phone_code"]})
            elapsed = (time.perf_counter() - started) * 1000
            if r.status_code != 200:
                raise RuntimeError(f"login failed: {r.status_code} {r.text}")
            if i >= 10:  # the first logins warm the token cache and the pools
                times.append(elapsed)
            token = r.json()["access_token"]
    return times, token


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32)
    opts = parser.parse_args()

    with Stack() as stack:
        stack.start_api()
        latencies, token = asyncio.run(_login_latencies(stack.api_url, stack.sandbox_url, opts.logins))
        bare_rps, tool = measure_rps("127.0.0.1", stack.bare_port, "/", seconds=opts.seconds,
                                     connections=opts.connections)
        me_rps, _ = measure_rps("127.0.0.1", stack.api_port, "/api/v1/me", seconds=opts.seconds,
                                connections=opts.connections, headers={"Authorization": f"Bearer {token}"})

    ratio = me_rps / bare_rps
    median = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[18]
    print(f"load tool: {tool}, {opts.connections} connections, {opts.seconds} s each")
    print(f"bare Sanic hello:          {bare_rps:10.0f} req/s  (baseline 1.00)")
    print(f"GET /api/v1/me (prod, PG): {me_rps:10.0f} req/s  ratio {ratio:.2f}  (target >= 0.20)")
    print(f"WeChat login via sandbox:  median {median:.1f} ms, p95 {p95:.1f} ms over {len(latencies)} logins"
          f"  (target median < 30 ms)")
    ok = ratio >= 0.20 and median < 30
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

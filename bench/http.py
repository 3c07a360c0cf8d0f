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
import base64
import os
import secrets
import socket
import statistics
import subprocess
import tempfile
import time

import httpx

from bench.loadgen import measure_rps  # noqa: E402

PG = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def free_port() -> int:
    """A free local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keys() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    def pem(key) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    platform_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "JWT_PRIVATE_KEY": pem(ed25519.Ed25519PrivateKey.generate()),
        "ALIPAY_APP_PRIVATE_KEY": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "SANDBOX_ALIPAY_PRIVATE_KEY": pem(platform_key),
        "ALIPAY_PUBLIC_KEY": platform_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "ALIPAY_AES_KEY": base64.b64encode(os.urandom(16)).decode(),
        "WECHAT_SECRET": secrets.token_hex(16),
        "PII_KEYS": f"bench1:{base64.b64encode(os.urandom(32)).decode()}",
        "PII_ACTIVE_KEY_ID": "bench1",
        "BLIND_INDEX_KEY": secrets.token_hex(32),
        "LOGIN_RATE_PER_IP": "100000000",
        "LOGIN_RATE_PER_ACCOUNT": "100000000",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "TZ": "Asia/Shanghai",
    }


def _start(args: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{args} exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{args} did not listen on {port}")


async def _create_db() -> tuple[str, str]:
    import asyncpg

    name = f"bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(PG.replace("postgres://", "postgresql://", 1))
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"{PG.rpartition('/')[0]}/{name}", name


async def _drop_db(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG.replace("postgres://", "postgresql://", 1))
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


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

    work = Path(tempfile.mkdtemp(prefix="bench_"))
    keys = _keys()
    bare_port, sandbox_port, api_port = free_port(), free_port(), free_port()
    sandbox_url, api_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{api_port}"
    db_url, db_name = asyncio.run(_create_db())
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
    sandbox_env = {**base_env, **keys, "PORT": str(sandbox_port), "DATA_DIR": str(work / "sandbox"),
                   "MINIAPP_SANDBOX": "1"}
    for name in ("PII_KEYS", "PII_ACTIVE_KEY_ID", "BLIND_INDEX_KEY"):
        sandbox_env.pop(name)
    api_env = {**base_env, **keys, "APP_ENV": "production", "MINIAPP_SANDBOX": "0", "PORT": str(api_port),
               "WORKERS": "1", "DATA_DIR": str(work / "api"), "DATABASE_URL": db_url, "REDIS_URL": REDIS,
               "PUBLIC_BASE_URL": api_url, "WECHAT_API_BASE": f"{sandbox_url}/sandbox/wechat/",
               "ALIPAY_GATEWAY": f"{sandbox_url}/sandbox/alipay/gateway.do"}
    procs = []
    try:
        subprocess.run([sys.executable, "server.py", "migrate"], cwd=ROOT, env=api_env, check=True,
                       capture_output=True)
        procs.append(_start(["bench/hello_app.py", str(bare_port)], base_env, bare_port, work / "bare.log"))
        procs.append(_start(["server.py"], sandbox_env, sandbox_port, work / "sandbox.log"))
        procs.append(_start(["server.py"], api_env, api_port, work / "api.log"))

        latencies, token = asyncio.run(_login_latencies(api_url, sandbox_url, opts.logins))
        bare_rps, tool = measure_rps("127.0.0.1", bare_port, "/", seconds=opts.seconds, connections=opts.connections)
        me_rps, _ = measure_rps("127.0.0.1", api_port, "/api/v1/me", seconds=opts.seconds,
                                connections=opts.connections, headers={"Authorization": f"Bearer {token}"})
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(_drop_db(db_name))

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

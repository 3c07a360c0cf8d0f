"""The processes a benchmark runs against, in one run: a bare Sanic "hello" app (the baseline), the
sandbox platforms (the embedded server), and the project in production mode on a fresh PostgreSQL
database and Redis with one worker, pointed at that sandbox as it would be at the real platforms."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
        "PRESENTATION_PRIVATE_KEY": pem(ed25519.Ed25519PrivateKey.generate()),
        "ALIPAY_APP_PRIVATE_KEY": pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        "SANDBOX_ALIPAY_PRIVATE_KEY": pem(platform_key),
        "ALIPAY_PUBLIC_KEY": platform_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "ALIPAY_AES_KEY": base64.b64encode(os.urandom(16)).decode(),
        "WECHAT_SECRET": secrets.token_hex(16),
        "SMS_ACCESS_KEY_SECRET": secrets.token_hex(16),
        "PII_KEYS": f"bench1:{base64.b64encode(os.urandom(32)).decode()}",
        "PII_ACTIVE_KEY_ID": "bench1",
        "BLIND_INDEX_KEY": secrets.token_hex(32),
        "LOGIN_RATE_PER_IP": "100000000",
        "LOGIN_RATE_PER_ACCOUNT": "100000000",
        "VERIFY_RATE_PER_IP": "100000000",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "TZ": "Asia/Shanghai",
    }


def bench_template_ids() -> dict[str, str]:
    """MESSAGE_TEMPLATE_IDS for every message kind and platform: production refuses the sandbox's own ids, and the
    sandbox takes any id, as the real platforms take the ids registered on their consoles."""
    messages = json.loads((ROOT / "notifications" / "templates" / "messages.json").read_text(encoding="utf-8"))
    return {f"{channel}.{kind}": f"bench-{channel}-{kind}" for kind, d in messages.items() if not kind.startswith("_")
            for channel in ("wechat", "alipay", "sms") if channel in d}


def _start(args: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    # Its own session: Sanic's manager kills a stuck worker's process group, which must not be ours.
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


async def _admin_db(server: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def copy_seconds(db_url: str, csv_path: Path) -> float:
    """Seconds for a plain COPY of a population CSV, unencrypted, into a scratch table: the floor an import is
    measured against."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("CREATE TEMP TABLE scratch (id_number text, name text, gender text, birth_date date, "
                           "phone text, hukou_region text, address text)")
        started = time.perf_counter()
        with csv_path.open("rb") as handle:
            await conn.copy_to_table("scratch", source=handle, format="csv", header=True)
        return time.perf_counter() - started
    finally:
        await conn.close()


class Stack:
    """Start with `with Stack() as s:`; `s.bare_port`, `s.api_url`, `s.sandbox_url`, `s.db_url`, `s.env`. `server`:
    the PostgreSQL URL whose server gets the bench's database (default BENCH_DATABASE_URL, the shared cluster)."""

    def __init__(self, server: str = PG):
        self.work = Path(tempfile.mkdtemp(prefix="bench_"))
        self.keys = _keys()
        self.bare_port, self.sandbox_port, self.api_port = free_port(), free_port(), free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.db_name = f"bench_{secrets.token_hex(4)}"
        self.server = server
        self.db_url = f"{server.rpartition('/')[0]}/{self.db_name}"
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
        self.base_env = base
        self.sandbox_env = {**base, **self.keys, "PORT": str(self.sandbox_port), "DATA_DIR": str(self.work / "sbx"),
                            "MINIAPP_SANDBOX": "1"}
        for name in ("PII_KEYS", "PII_ACTIVE_KEY_ID", "BLIND_INDEX_KEY"):
            self.sandbox_env.pop(name)
        self.env = {**base, **self.keys, "APP_ENV": "production", "MINIAPP_SANDBOX": "0",
                    "PORT": str(self.api_port), "WORKERS": "1", "DATA_DIR": str(self.work / "api"),
                    "DATABASE_URL": self.db_url, "REDIS_URL": REDIS, "PUBLIC_BASE_URL": self.api_url,
                    "CERTIFICATE_CA_DIR": str(self.work / "ca"),
                    "WECHAT_API_BASE": f"{self.sandbox_url}/sandbox/wechat/",
                    "ALIPAY_GATEWAY": f"{self.sandbox_url}/sandbox/alipay/gateway.do",
                    "SMS_API_BASE": f"{self.sandbox_url}/sandbox/sms/",
                    "MESSAGE_TEMPLATE_IDS": json.dumps(bench_template_ids()),
                    # Benches run at any hour: pushes are measured, not held for the morning.
                    "PUSH_QUIET_START": "00:00", "PUSH_QUIET_END": "00:00"}
        self.procs: list[subprocess.Popen] = []

    def cli(self, *args: str) -> str:
        """Run `python server.py ARGS` against the production database; its output."""
        done = subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True)
        return done.stdout

    def __enter__(self) -> "Stack":
        asyncio.run(_admin_db(self.server, f'CREATE DATABASE "{self.db_name}"'))
        import redis

        redis.Redis.from_url(REDIS).flushdb()
        # Production expects its signing keys provisioned: the benchmark provisions a demo CA.
        from api.certificates.ca import ensure_demo_ca
        from api.certificates.types import all_types

        ensure_demo_ca(self.work / "ca", {t.dept: t.issuer for t in all_types().values()})
        try:
            self.cli("migrate")
            self.procs.append(_start(["bench/hello_app.py", str(self.bare_port)], self.base_env, self.bare_port,
                                     self.work / "bare.log"))
            self.procs.append(_start(["server.py"], self.sandbox_env, self.sandbox_port, self.work / "sandbox.log"))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start_upstream(self, name: str) -> str:
        """Another sandbox server, for an upstream that is a service of its own in production (the SMS provider
        beside WeChat and Alipay), so that one upstream's backlog does not hold up calls to another; its URL."""
        port = free_port()
        env = {**self.sandbox_env, "PORT": str(port), "DATA_DIR": str(self.work / f"sbx-{name}")}
        self.procs.append(_start(["server.py"], env, port, self.work / f"sandbox-{name}.log"))
        return f"http://127.0.0.1:{port}"

    def start_api(self) -> None:
        """Serve the project (after any seeding the benchmark does first)."""
        self.procs.append(_start(["server.py"], self.env, self.api_port, self.work / "api.log"))

    def start_worker(self, **env: str) -> subprocess.Popen:
        """Start one `python server.py worker` process (jobs: campaigns, imports) with extra settings."""
        proc = subprocess.Popen([sys.executable, "server.py", "worker"], cwd=ROOT, env={**self.env, **env},
                                stdout=(self.work / "worker.log").open("a"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(_admin_db(self.server, f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        if exc and exc[0] is not None:
            print(f"the processes' logs are kept in {self.work}", file=sys.stderr)
        else:
            shutil.rmtree(self.work, ignore_errors=True)

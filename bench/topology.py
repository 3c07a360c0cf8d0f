"""The production topology on loopback, for the fault harness (bench/faults.py): its own PostgreSQL primary and
streaming replica, Redis primary, replica and three sentinels, the sandbox platforms in a process of their own, one
`server.py` with two Sanic workers and two `server.py worker` job workers, each supervised as systemd would
(Restart=always). Every process runs in its own process group and is killed on stop, at exit too; the temp dir goes.

Nothing here touches the machine's shared PostgreSQL or Redis."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.stack import _keys, bench_template_ids, free_port

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_BIN = Path("/usr/bin/redis-server")
SERVICE = "gov-redis"


def binaries_present() -> bool:
    """Whether PostgreSQL 15, redis-server and a `postgres` user are on this machine."""
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return (PG_BIN / "postgres").exists() and REDIS_BIN.exists() and os.geteuid() == 0


def app_supports_sentinels() -> bool:
    """Whether the app reads REDIS_SENTINELS (the settings name it)."""
    return "redis_sentinels" in (ROOT / "api" / "core" / "settings.py").read_text(encoding="utf-8")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _wait_port(port: int, proc: subprocess.Popen | None, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if _listening(port):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port}")


def _killpg(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


class Supervised:
    """One app process restarted `restart_seconds` after it ends, as systemd's Restart=always does."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path, restart_seconds: float):
        self.name, self.args, self.env, self.log, self.restart_seconds = name, args, env, log, restart_seconds
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.supervise = True
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start the process (appending to its log)."""
        with self.lock:
            # Its own session: Sanic's manager kills a stuck worker's process group, which must not be ours.
            self.proc = subprocess.Popen([sys.executable, *self.args], cwd=ROOT, env=self.env,
                                         stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)

    def tick(self) -> None:
        """Restart the process if it ended and supervision is on."""
        proc = self.proc
        if self.supervise and proc is not None and proc.poll() is not None:
            time.sleep(self.restart_seconds)
            if self.supervise and self.proc is proc:
                self.restarts += 1
                self.start()

    def signal(self, sig: int, *, group: bool = False) -> None:
        """Send `sig` to the process (or its whole group, as systemd's stop does)."""
        if self.proc is not None and self.proc.poll() is None:
            (os.killpg if group else os.kill)(self.proc.pid, sig)

    def stop(self) -> None:
        """Stop supervising and kill the process group."""
        self.supervise = False
        if self.proc is not None:
            _killpg(self.proc)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass


class Topology:
    """`with Topology(work_env) as t:`: everything up; `t.api_url`, `t.sandbox_url`, `t.db_url`, `t.env`."""

    def __init__(self, *, sentinels: bool | None = None, quiet: bool = True):
        self.dir = Path(tempfile.mkdtemp(prefix="faults_"))
        os.chmod(self.dir, 0o755)
        self.use_sentinels = app_supports_sentinels() if sentinels is None else sentinels
        self.pg_port, self.pg_replica_port = free_port(), free_port()
        self.redis_port, self.redis_replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sandbox_port, self.api_port = free_port(), free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.db_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/gov"
        self.replica_url = f"postgres://postgres@127.0.0.1:{self.pg_replica_port}/gov"
        self.keys = _keys()
        self.infra: dict[str, subprocess.Popen] = {}
        self.apps: dict[str, Supervised] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.env: dict[str, str] = {}
        self.quiet = quiet
        atexit.register(self.stop)

    # PostgreSQL ------------------------------------------------------------------------------------------------

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check, capture_output=True, text=True)

    def _pg_ctl(self, data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), *args, check=check)

    def _pg_start(self, data: Path, port: int) -> None:
        # pg_ctl start -w waits for readiness; the postmaster gets a session of its own from pg_ctl.
        self._pg_ctl(data, "-l", str(data.parent / f"{data.name}.log"), "-w", "-t", "60",
                     "-o", f"-p {port} -k {self.dir / 'sock'} -c listen_addresses=127.0.0.1", "start")

    def _init_pg(self) -> None:
        (self.dir / "sock").mkdir()
        shutil.chown(self.dir / "sock", "postgres", "postgres")
        primary = self.dir / "pg"
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with (primary / "postgresql.conf").open("a") as conf:
            # Speed over durability only where a crash of this throwaway cluster cannot matter to the figures:
            # fsync stays on, since a PostgreSQL restart is one of the faults.
            conf.write("wal_level = replica\nmax_wal_senders = 5\nmax_connections = 200\nshared_buffers = 128MB\n"
                       "synchronous_commit = on\nhot_standby = on\n")
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host replication postgres 127.0.0.1/32 trust\n")
        self._pg_start(primary, self.pg_port)
        self._as_postgres(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                          "-c", "CREATE DATABASE gov")
        replica = self.dir / "pg-replica"
        self._as_postgres(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U",
                          "postgres", "-D", str(replica), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        self._pg_start(replica, self.pg_replica_port)

    def pg_stop(self, mode: str = "fast") -> None:
        """Stop the PostgreSQL primary (`fast`: a clean restart's first half; `immediate`: a crash)."""
        self._pg_ctl(self.dir / "pg", "-m", mode, "-w", "stop", check=False)

    def pg_start(self) -> None:
        """Start the PostgreSQL primary again."""
        self._pg_start(self.dir / "pg", self.pg_port)

    # Redis -----------------------------------------------------------------------------------------------------

    def _redis(self, name: str, port: int, *extra: str) -> subprocess.Popen:
        workdir = self.dir / name
        workdir.mkdir(exist_ok=True)
        # appendonly: a restarted primary keeps the queue, as a production Redis that holds a job queue must.
        proc = subprocess.Popen([str(REDIS_BIN), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                                 "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", *extra],
                                stdout=(self.dir / f"{name}.log").open("a"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        _wait_port(port, proc, name)
        self.infra[name] = proc
        return proc

    def _sentinel(self, index: int, port: int) -> None:
        conf = self.dir / f"sentinel{index}.conf"
        # down-after 10 s: the 5-second restart scenario is a restart, not a failover; SENTINEL FAILOVER forces one.
        conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                        f"sentinel monitor {SERVICE} 127.0.0.1 {self.redis_port} 2\n"
                        f"sentinel down-after-milliseconds {SERVICE} 10000\n"
                        f"sentinel failover-timeout {SERVICE} 10000\nsentinel parallel-syncs {SERVICE} 1\n")
        proc = subprocess.Popen([str(REDIS_BIN), str(conf), "--sentinel"], stdout=(self.dir / f"sentinel{index}.log")
                                .open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(port, proc, f"sentinel{index}")
        self.infra[f"sentinel{index}"] = proc

    def _init_redis(self) -> None:
        self._redis("redis-a", self.redis_port)
        self._redis("redis-b", self.redis_replica_port, "--replicaof", "127.0.0.1", str(self.redis_port))
        self.redis_ports = {"redis-a": self.redis_port, "redis-b": self.redis_replica_port}
        for index, port in enumerate(self.sentinel_ports):
            self._sentinel(index, port)

    def redis_primary(self) -> tuple[str, int]:
        """(name, port) of the Redis the sentinels call primary now (the first one when sentinels are not asked)."""
        import redis

        for port in self.sentinel_ports:
            try:
                host, p = redis.Redis(port=port, socket_timeout=1).execute_command(
                    "SENTINEL", "get-master-addr-by-name", SERVICE)
                p = int(p)
                return next(n for n, q in self.redis_ports.items() if q == p), p
            except Exception:  # noqa: BLE001 - that sentinel is not answering: ask the next
                continue
        return "redis-a", self.redis_port

    def redis_stop(self, name: str) -> None:
        """Stop one Redis cleanly (SIGTERM: it writes its append-only file and exits)."""
        proc = self.infra[name]
        proc.terminate()
        proc.wait(15)

    def redis_start(self, name: str) -> None:
        """Start a stopped Redis again on its port, from its append-only file."""
        extra = () if name == "redis-a" else ("--replicaof", "127.0.0.1", str(self.redis_port))
        # A stopped primary that sentinels replaced comes back as a replica: they reconfigure it themselves.
        self._redis(name, self.redis_ports[name], *extra)

    def redis_failover(self) -> None:
        """Ask a sentinel for a failover of the primary now."""
        import redis

        redis.Redis(port=self.sentinel_ports[0], socket_timeout=2).execute_command("SENTINEL", "FAILOVER", SERVICE)

    # The app ---------------------------------------------------------------------------------------------------

    def _app_env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "APP_ENV")}
        env = {**base, **self.keys, "APP_ENV": "production", "MINIAPP_SANDBOX": "0", "PORT": str(self.api_port),
               "WORKERS": "2", "DATA_DIR": str(self.dir / "api"), "DATABASE_URL": self.db_url,
               "DATABASE_REPLICA_URL": self.replica_url, "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
               "PUBLIC_BASE_URL": self.api_url, "CERTIFICATE_CA_DIR": str(self.dir / "ca"),
               "WECHAT_API_BASE": f"{self.sandbox_url}/sandbox/wechat/",
               "ALIPAY_GATEWAY": f"{self.sandbox_url}/sandbox/alipay/gateway.do",
               "SMS_API_BASE": f"{self.sandbox_url}/sandbox/sms/",
               "MESSAGE_TEMPLATE_IDS": json.dumps(bench_template_ids()),
               "PUSH_QUIET_START": "00:00", "PUSH_QUIET_END": "00:00", "PUSH_WEEKLY_CAP_PER_CITIZEN": "1000",
               "MAKER_CHECKER_THRESHOLD": "100000000", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
        if self.use_sentinels:
            env["REDIS_SENTINELS"] = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
            env["REDIS_SENTINEL_SERVICE"] = SERVICE
        return env

    def cli(self, *args: str) -> str:
        """Run `python server.py ARGS` against the topology's database; its output."""
        return subprocess.run([sys.executable, "server.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def _start_apps(self, worker_env: dict[str, str]) -> None:
        sandbox_env = {k: v for k, v in self.env.items() if k not in ("DATABASE_URL", "REDIS_URL",
                                                                       "DATABASE_REPLICA_URL", "REDIS_SENTINELS")}
        sandbox_env.update({"APP_ENV": "development", "MINIAPP_SANDBOX": "1", "PORT": str(self.sandbox_port),
                            "WORKERS": "1", "DATA_DIR": str(self.dir / "sbx"), "LOG_LEVEL": "WARNING",
                            "INLINE_WORKER": "0"})  # the sandbox serves; its own jobs have no tables here
        for name in ("PII_KEYS", "PII_ACTIVE_KEY_ID", "BLIND_INDEX_KEY"):
            sandbox_env.pop(name, None)
        self.apps["sandbox"] = Supervised("sandbox", ["server.py"], sandbox_env, self.dir / "sandbox.log", 1)
        self.apps["server"] = Supervised("server", ["server.py"], {**self.env, "ACCESS_LOG": "false"},
                                         self.dir / "server.log", 2)
        for index in (1, 2):
            self.apps[f"worker{index}"] = Supervised(f"worker{index}", ["server.py", "worker"],
                                                     {**self.env, **worker_env}, self.dir / f"worker{index}.log", 1)
        self.apps["sandbox"].start()
        _wait_port(self.sandbox_port, self.apps["sandbox"].proc, "sandbox")
        self.apps["server"].start()
        self.wait_api_ready()
        for index in (1, 2):
            self.apps[f"worker{index}"].start()
        self._thread = threading.Thread(target=self._supervise, daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            for app in list(self.apps.values()):
                app.tick()

    def wait_api_ready(self, timeout: float = 90) -> float:
        """Wait until the server's /readyz answers 200; seconds waited."""
        import httpx

        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                if httpx.get(f"{self.api_url}/readyz", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server is not ready: " + (self.dir / "server.log").read_text()[-3000:])

    def job_worker_pids(self) -> dict[str, int]:
        """The live job workers' pids by name."""
        return {n: a.proc.pid for n, a in self.apps.items() if n.startswith("worker") and a.proc
                and a.proc.poll() is None}

    def kill_worker(self, name: str) -> None:
        """SIGKILL one job worker (its supervisor starts it again after RestartSec)."""
        self.apps[name].signal(signal.SIGKILL, group=True)

    # Up and down -----------------------------------------------------------------------------------------------

    def start(self, worker_env: dict[str, str] | None = None, *, apps: bool = True) -> "Topology":
        """Start every component and migrate the database (`apps=False`: the stores alone)."""
        try:
            shutil.chown(self.dir, "postgres", "postgres")
            self._step("PostgreSQL primary and replica", self._init_pg)
            self._step("Redis primary, replica and sentinels", self._init_redis)
            self.env = self._app_env()
            if not apps:
                return self
            from api.certificates.ca import ensure_demo_ca
            from api.certificates.types import all_types

            ensure_demo_ca(self.dir / "ca", {t.dept: t.issuer for t in all_types().values()})
            self._step("migrations", self.cli, "migrate")
            self._step("sandbox, server and job workers", self._start_apps, worker_env or {})
        except BaseException:
            self.stop()
            raise
        return self

    def _step(self, what: str, fn, *args) -> None:
        started = time.monotonic()
        fn(*args)
        if not self.quiet:
            print(f"{what}: {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    def __enter__(self) -> "Topology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Kill every process started here and remove the temp dir (safe to call twice)."""
        self._stop.set()
        for app in self.apps.values():
            app.supervise = False
        for app in self.apps.values():
            app.stop()
        for proc in self.infra.values():
            _killpg(proc)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for data in (self.dir / "pg", self.dir / "pg-replica"):
            if (data / "postmaster.pid").exists():
                self._pg_ctl(data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


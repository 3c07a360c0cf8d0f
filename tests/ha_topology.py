"""A Redis primary, its replicas (one by default) and three sentinels on free loopback ports in a directory of
their own, for the HA tests and the fault bench: `start()`, `failover()` (SENTINEL FAILOVER, then wait until every
sentinel names the new primary), `stop()` (kills every process group it started, and removes the directory). The
methods block: from async code call the `a...` twins, which run them in a thread so the event loop keeps going."""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.processes import kill_groups

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SENTINELS = 3
QUORUM = 2


def redis_server_available() -> bool:
    """True when a redis-server binary can be run here."""
    return os.access(REDIS_SERVER, os.X_OK)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"redis topology: {what} within {timeout} s")
        time.sleep(0.1)


class RedisTopology:
    """One primary, `replicas` replicas and three sentinels monitoring them as `service`."""

    def __init__(self, directory: Path | None = None, *, service: str = "gov-redis", replicas: int = 1,
                 down_after_ms: int = 1000):
        self.service, self.replicas, self.down_after_ms = service, replicas, down_after_ms
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="redis-ha-"))
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}

    @property
    def sentinels(self) -> str:
        """The sentinels as REDIS_SENTINELS wants them: comma-separated host:port."""
        return ",".join(f"127.0.0.1:{self.ports[f'sentinel{i}']}" for i in range(SENTINELS))

    def _spawn(self, name: str, config: str) -> None:
        # Each process gets its own directory and config file: sentinels rewrite theirs.
        home = self.directory / name
        home.mkdir(parents=True, exist_ok=True)
        (home / "redis.conf").write_text(config, encoding="utf-8")
        log = (home / "redis.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [REDIS_SERVER, str(home / "redis.conf"), *(["--sentinel"] if name.startswith("sentinel") else [])],
            cwd=home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def _client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1,
                           decode_responses=True)

    def _ask(self, port: int, *command):
        with self._client(port) as client:
            return client.execute_command(*command)

    def start(self) -> RedisTopology:
        """Start everything and wait until the sentinels agree on the primary and see its replica."""
        atexit.register(self.stop)  # a bench script that dies still takes its servers with it
        data = ["primary", *(f"replica{i}" for i in range(self.replicas))]
        for name in (*data, *(f"sentinel{i}" for i in range(SENTINELS))):
            self.ports[name] = _free_port()
        base = "bind 127.0.0.1\nsave \"\"\nappendonly no\nport {port}\ndir {dir}\n"
        primary = self.ports["primary"]
        try:
            for name in data:
                config = base.format(port=self.ports[name], dir=self.directory / name)
                if name != "primary":
                    config += f"replicaof 127.0.0.1 {primary}\n"
                self._spawn(name, config)
            for i in range(SENTINELS):
                name = f"sentinel{i}"
                self._spawn(name, base.format(port=self.ports[name], dir=self.directory / name) + (
                    f"sentinel monitor {self.service} 127.0.0.1 {primary} {QUORUM}\n"
                    f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                    f"sentinel failover-timeout {self.service} 10000\n"
                    f"sentinel parallel-syncs {self.service} 1\n"))
            _wait(lambda: all(self._ask(self.ports[name], "INFO", "replication")["master_link_status"] == "up"
                              for name in data[1:]), timeout=20, what="the replicas in sync")
            _wait(self._all_settled, timeout=30, what="the sentinels seeing the primary, its replica and each other")
        except BaseException:
            self.stop()
            raise
        return self

    def _settled_on(self, port: int, primary: tuple[str, int]) -> bool:
        if tuple(self._ask(port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service) or ()) != \
                (primary[0], str(primary[1])):
            return False
        with self._client(port) as client:
            master = client.sentinel_master(self.service)
            replicas = client.sentinel_slaves(self.service)
        healthy = [r for r in replicas if not (r["is_sdown"] or r["is_odown"] or r["is_disconnected"])
                   and r.get("master-link-status") == "ok"]
        return (master["is_master"] and not master["is_sdown"] and master["num-other-sentinels"] == SENTINELS - 1
                and len(healthy) >= self.replicas)

    def _all_settled(self, primary: tuple[str, int] | None = None) -> bool:
        primary = primary or ("127.0.0.1", self.ports["primary"])
        return all(self._settled_on(self.ports[f"sentinel{i}"], primary) for i in range(SENTINELS))

    def primary(self) -> tuple[str, int]:
        """The primary's address as the first sentinel names it."""
        host, port = self._ask(self.ports["sentinel0"], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
        return host, int(port)

    def primary_client(self, db: int = 0) -> redis.Redis:
        """A plain client of the current primary (close it after use)."""
        host, port = self.primary()
        return redis.Redis(host=host, port=port, db=db, socket_timeout=2, decode_responses=True)

    def failover(self, timeout: float = 30) -> tuple[str, int]:
        """Promote a replica (SENTINEL FAILOVER) and wait until every sentinel names it and it takes writes. The old
        primary keeps taking writes for about ten seconds before the sentinels make it the new one's replica (a
        failover soon after this one waits for that)."""
        old = self.primary()
        # A failover soon after another waits until the sentinels see the old primary as the new one's replica.
        _wait(lambda: self._all_settled(old), timeout=timeout, what="the sentinels settled before a failover")
        self._ask(self.ports["sentinel0"], "SENTINEL", "FAILOVER", self.service)
        _wait(lambda: all(self._ask(self.ports[f"sentinel{i}"], "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service)
                          [1] != str(old[1]) for i in range(SENTINELS)), timeout=timeout, what="a new primary")
        new = self.primary()
        _wait(lambda: self._ask(new[1], "INFO", "replication")["role"] == "master", timeout=timeout,
              what="the new primary taking writes")
        return new

    def stop(self) -> None:
        """Kill every process group started here (idempotent) and remove the directory if it was made here."""
        kill_groups(self.processes.values(), wait=5)
        self.processes.clear()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.stop)

    async def astart(self) -> RedisTopology:
        """`start()` off the event loop."""
        return await asyncio.to_thread(self.start)

    async def afailover(self, timeout: float = 30) -> tuple[str, int]:
        """`failover()` off the event loop."""
        return await asyncio.to_thread(self.failover, timeout)

    async def astop(self) -> None:
        """`stop()` off the event loop."""
        await asyncio.to_thread(self.stop)

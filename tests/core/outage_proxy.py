"""A TCP proxy a test puts between the app and PostgreSQL or Redis, and a private redis-server, to make outages."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.conftest import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class Proxy:
    """Forwards 127.0.0.1:port to a target. `cut()`: every connection closed, new ones refused; `hang()`: every
    connection closed, new ones accepted and never answered (a network that drops packets); `stall()`: the
    connections open now kept open and nothing forwarded on them either way (sessions stuck on the server), until
    `resume()`; `restore()`: forwards again on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._forward = True
        self._flows: set[asyncio.Event] = set()  # one per forwarded connection: set while it flows

    async def start(self) -> Proxy:
        """Listen (again) on the proxy's port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        return self

    async def _accept(self, reader, writer) -> None:
        self._writers.add(writer)
        if not self._forward:
            return  # held open and silent
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 3)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)
        flowing = asyncio.Event()
        flowing.set()
        self._flows.add(flowing)
        for a, b in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(a, b, flowing))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(reader, writer, flowing: asyncio.Event) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _drop_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        self._flows.clear()
        await asyncio.sleep(0)

    async def cut(self) -> None:
        """Close every connection and refuse new ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._drop_all()

    async def hang(self) -> None:
        """Close every connection; accept new ones and never answer them."""
        self._forward = False
        await self._drop_all()

    async def stall(self) -> None:
        """The connections open now stay open and forward nothing more (sessions stuck on the server); new ones are
        served."""
        for flowing in self._flows:
            flowing.clear()

    async def resume(self) -> None:
        """After `stall()`: the held-back bytes flow on and the connections stay open (the server answers again)."""
        for flowing in self._flows:
            flowing.set()

    async def restore(self) -> None:
        """Forward again."""
        self._forward = True
        await self._drop_all()
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        """Stop for good."""
        await self.cut()


def database_proxy(database_url: str) -> Proxy:
    """A proxy (not started: it refuses connections until `start()`) to the server of `database_url`."""
    parts = urlsplit(database_url)
    return Proxy(parts.hostname, parts.port or 5432)


def through(database_url: str, proxy: Proxy) -> str:
    """`database_url` with `proxy` in front of its server (user and database kept)."""
    parts = urlsplit(database_url)
    credentials = parts.netloc.rpartition("@")[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{proxy.port}"))


def start_redis(directory: Path) -> tuple[subprocess.Popen, int]:
    """A private redis-server on a free loopback port, nothing saved; the process and its port."""
    import redis

    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.5)
    try:
        for _ in range(100):
            try:
                client.ping()
                return process, port
            except redis.ConnectionError:
                if process.poll() is not None:
                    break
                time.sleep(0.05)
    finally:
        client.close()
    stop_process(process)
    raise RuntimeError("the private redis-server did not start")


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a process the test started and everything it started (its own session), and wait for it."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        pass
    # Always: a child that outlived its parent (a Sanic worker, multiprocessing's resource tracker) would run on.
    _signal_group(process, signal.SIGKILL)
    process.wait(5)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)  # started with start_new_session: its group is its id
    except (ProcessLookupError, PermissionError):
        if process.poll() is None:
            process.send_signal(sig)

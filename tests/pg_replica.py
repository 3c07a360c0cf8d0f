"""A PostgreSQL primary and its streaming replica (initdb, then pg_basebackup -R) on free loopback ports in a directory
of their own, for the replica tests and the fault bench. The servers run as user `postgres` (initdb refuses root);
`stop()` kills their process groups and removes the directory. The methods block: from async code call them through
asyncio.to_thread."""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.processes import kill_groups

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"


def postgres_available() -> bool:
    """True when the PostgreSQL binaries and their user are here, and this process may run as that user."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return False
    return (BIN / "initdb").exists() and (BIN / "pg_basebackup").exists() and os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*command: str, timeout: float = 60) -> None:
    done = subprocess.run(["runuser", "-u", USER, "--", *command], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")


class PostgresPair:
    """A primary and a streaming replica of it: `primary_url(db)`, `replica_url(db)`."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix="pg-pair-"))
        shutil.chown(self.directory, USER, USER)
        self.ports = {"primary": _free_port(), "replica": _free_port()}
        self.processes: dict[str, subprocess.Popen] = {}

    def primary_url(self, database: str = "postgres") -> str:
        """The primary's URL for `database`."""
        return f"postgres://{USER}@127.0.0.1:{self.ports['primary']}/{database}"

    def replica_url(self, database: str = "postgres") -> str:
        """The replica's URL for `database`."""
        return f"postgres://{USER}@127.0.0.1:{self.ports['replica']}/{database}"

    def _serve(self, name: str) -> None:
        home = self.directory / name
        log = (self.directory / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            ["runuser", "-u", USER, "--", str(BIN / "postgres"), "-D", str(home), "-p", str(self.ports[name]),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.directory}",
             "-c", "max_connections=30", "-c", "shared_buffers=16MB", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while subprocess.run([str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.ports[name])],
                             capture_output=True).returncode != 0:
            if self.processes[name].poll() is not None or time.monotonic() > deadline:
                log_text = (self.directory / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PostgreSQL {name} did not start: {log_text}")
            time.sleep(0.1)

    def start(self) -> PostgresPair:
        """initdb and start the primary, copy it with pg_basebackup -R and start the replica."""
        atexit.register(self.stop)
        try:
            _as_postgres(str(BIN / "initdb"), "-D", str(self.directory / "primary"), "-U", USER, "--auth=trust",
                         "--no-sync", "-E", "UTF8", "--locale=C")
            self._serve("primary")
            _as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.ports["primary"]), "-U", USER,
                         "-D", str(self.directory / "replica"), "-R", "-X", "stream", "--no-sync")
            self._serve("replica")
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self, name: str) -> None:
        """Stop one server (`primary` or `replica`) at once, as a crash would: an immediate shutdown, no checkpoint,
        crash recovery at the next start (a SIGKILL left its backends holding the data directory for a while)."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGQUIT)
        process.wait(20)

    def restart(self, name: str) -> None:
        """Start a killed server again on its port and data directory."""
        self._serve(name)

    def stop(self) -> None:
        """Kill both servers' process groups (idempotent) and remove the directory."""
        kill_groups(self.processes.values())
        self.processes.clear()
        shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.stop)

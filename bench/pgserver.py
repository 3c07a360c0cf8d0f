"""A PostgreSQL cluster of the bench's own, configured as the province's server (deploy/postgresql.conf), on a free
loopback port: the shared test cluster on :5432 keeps PostgreSQL's stock settings (128 MB of shared buffers, 1 GB of
WAL between checkpoints, autovacuum off), which no province would run. Needs the PostgreSQL 15 binaries, the
`postgres` user, and root to run as it (initdb refuses root)."""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"
CONFIG = ROOT / "deploy" / "postgresql.conf"


def available() -> bool:
    """True when a cluster of our own can be made here."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return False
    return (BIN / "initdb").exists() and os.geteuid() == 0


def _as_postgres(*command: str) -> None:
    done = subprocess.run(["runuser", "-u", USER, "--", *command], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")


class ProvinceServer:
    """`with ProvinceServer(port) as pg:` a running cluster; `pg.url(database)`; removed on exit."""

    def __init__(self, port: int):
        self.port = port
        # Beside the project's checkout, not in a tmpfs /tmp: a 10M-person bench writes tens of gigabytes.
        self.directory = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=os.environ.get("BENCH_PG_DIR", "/var/tmp")))
        shutil.chown(self.directory, USER, USER)
        self.process: subprocess.Popen | None = None

    def url(self, database: str = "postgres") -> str:
        """The cluster's URL for `database`."""
        return f"postgres://{USER}@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> ProvinceServer:
        atexit.register(self.stop)
        try:
            data = self.directory / "data"
            _as_postgres(str(BIN / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                         "--locale=C")
            shutil.copy(CONFIG, data / "province.conf")
            with (data / "postgresql.conf").open("a") as conf:
                conf.write("\ninclude 'province.conf'\n")
            log = (self.directory / "server.log").open("ab")
            self.process = subprocess.Popen(
                ["runuser", "-u", USER, "--", str(BIN / "postgres"), "-D", str(data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.directory}"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            log.close()
            deadline = time.monotonic() + 60
            while subprocess.run([str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                 capture_output=True).returncode != 0:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: "
                                       + (self.directory / "server.log").read_text(errors="replace")[-2000:])
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """A fast shutdown (SIGINT), then the directory goes (idempotent)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
        atexit.unregister(self.stop)

"""The fault harness's topology (bench/topology.py): its stores start (a streaming replica, sentinels that agree on
the primary) and stop leaving no process and no temp dir."""

import subprocess
from pathlib import Path

import pytest

from bench.topology import Topology, binaries_present

pytestmark = pytest.mark.skipif(not binaries_present(), reason="needs root, PostgreSQL 15 and redis-server")


def _alive(pid: int) -> bool:
    """Running, not a zombie: a daemon (the postmaster) that exited is reaped by whatever adopted it, maybe late."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_the_stores_start_and_stop_cleanly():
    topology = Topology(sentinels=True)
    try:
        topology.start(apps=False)
        standby = subprocess.run(
            ["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql", "-h", "127.0.0.1", "-p",
             str(topology.pg_replica_port), "-U", "postgres", "-Atc", "SELECT pg_is_in_recovery()"],
            capture_output=True, text=True, check=True).stdout.strip()
        assert standby == "t"
        assert topology.redis_primary() == ("redis-a", topology.redis_port)
        pids = [p.pid for p in topology.infra.values()]
        postmaster = int((topology.dir / "pg" / "postmaster.pid").read_text().split()[0])
    finally:
        topology.stop()
    assert not topology.dir.exists()
    assert not any(_alive(pid) for pid in [*pids, postmaster])

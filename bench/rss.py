"""Resident memory and CPU time of a benchmark's processes, sampled from /proc while it runs: the peak RSS of every
process under each named root (a Sanic server and its workers, a job worker, an importer and its pool, a PostgreSQL
server and its backends), and the CPU seconds the root and its descendants used, grouped by role."""

from __future__ import annotations

import os
import threading
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds a live process has used, None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _status(pid: int) -> tuple[int, int] | None:
    """(parent pid, resident kB) of a live process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    ppid = rss = 0
    for line in text.splitlines():
        if line.startswith("PPid:"):
            ppid = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return ppid, rss


class RssSampler:
    """`watch(role, pid)` a process tree; `peaks()` is the highest RSS (MiB) any one process of each role reached."""

    def __init__(self, interval: float = 0.25):
        self.interval, self.roots, self.peak = interval, {}, {}
        self.cpu_only: set[str] = set()  # roles whose memory is not ours to judge (a database server's buffers)
        self.cpu: dict[int, tuple[str, bool, float]] = {}  # pid -> (role, is the root, CPU seconds last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, role: str, pid: int, *, memory: bool = True) -> None:
        """Sample this process and its descendants under `role` (their CPU time only, with `memory=False`)."""
        self.roots[pid] = role
        if not memory:
            self.cpu_only.add(role)

    def start(self) -> RssSampler:
        """Start sampling in a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    def peaks(self) -> dict[str, float]:
        """Role -> peak RSS of its largest process, MiB."""
        return {role: kb / 1024 for role, kb in sorted(self.peak.items()) if role not in self.cpu_only}

    def cpu_seconds(self) -> dict[str, tuple[float, float]]:
        """Role -> (CPU seconds of its root process, of the root's descendants) so far; a process's CPU counts up to
        its last sample (an interval before it ended, at worst)."""
        totals: dict[str, list[float]] = {}
        for role, is_root, seconds in self.cpu.values():
            totals.setdefault(role, [0.0, 0.0])[0 if is_root else 1] += seconds
        return {role: (own, descendants) for role, (own, descendants) in totals.items()}

    def sample(self) -> None:
        """One pass over /proc."""
        tree: dict[int, tuple[int, int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (status := _status(int(entry))) is not None:
                tree[int(entry)] = status
        for pid, (_, rss) in tree.items():
            role, at, hops = None, pid, 0
            while at and hops < 8:  # climb to a watched root
                if at in self.roots:
                    role = self.roots[at]
                    break
                at, hops = tree.get(at, (0, 0))[0], hops + 1
            if role is None:
                continue
            if rss > self.peak.get(role, 0):
                self.peak[role] = rss
            if (seconds := _cpu_seconds(pid)) is not None:
                self.cpu[pid] = (role, pid in self.roots, seconds)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

"""Resident memory of a benchmark's processes, sampled from /proc while it runs: the peak of every process under
each named root (a Sanic server and its workers, a job worker, an importer and its pool), grouped by role."""

from __future__ import annotations

import os
import threading
from pathlib import Path


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
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, role: str, pid: int) -> None:
        """Sample this process and its descendants under `role`."""
        self.roots[pid] = role

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
        return {role: kb / 1024 for role, kb in sorted(self.peak.items())}

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
            if role is not None and rss > self.peak.get(role, 0):
                self.peak[role] = rss

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

"""Riding out a database or Redis outage in a background loop: wait with a capped, jittered exponential backoff and
try again, never end.

A process logs one line when its first loop starts failing (`store_outage_started`) and one when its last failing
loop is through again (`store_outage_ended`, with the outage's length), however many loops and tries lie between;
a periodic job that met the outage is through once any try of the process works PERIODIC_HOLD_SECONDS later.
"""

from __future__ import annotations

import asyncio
import random
import time

from api.core import failures, outages
from api.core.logging import get_logger

log = get_logger("api.backoff")

FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 10.0
# A periodic job's failure holds the process's outage open this long, then any try that works ends it: a job that
# runs every few seconds keeps it open through a partial outage (no flapping log), an hourly one does not for an hour.
PERIODIC_HOLD_SECONDS = MAX_PAUSE_SECONDS
_failing: set[Backoff] = set()  # the loops of this process that are waiting out an outage
_since: float | None = None  # when the first of them failed (monotonic)


def store_outage(exc: BaseException) -> bool:
    """True when `exc` (or an error it wraps) says the database or Redis is out of reach (as a request's 503 says)."""
    return outages.unavailable_store(exc) is not None


class Backoff:
    """One loop's way through outages: `failed(exc)` after a try that failed, `ok()` after one that worked."""

    def __init__(self, loop: str, *, first: float = FIRST_PAUSE_SECONDS, cap: float = MAX_PAUSE_SECONDS,
                 periodic: bool = False):
        self.loop = loop
        self.first, self.cap = first, cap
        self.pause = first
        self.periodic = periodic  # its next run may be an hour away: see PERIODIC_HOLD_SECONDS
        self.failed_at = 0.0

    @property
    def failing(self) -> bool:
        """True from a failed try to the next one that works."""
        return self in _failing

    async def failed(self, exc: BaseException) -> None:
        """Note a failed try (the process's outage starts here if no other loop is failing) and wait the next
        pause: twice the last, up to the cap, each drawn between half and all of it so workers do not retry in
        step."""
        self.note(exc)
        pause, self.pause = self.pause, min(self.pause * 2, self.cap)
        await asyncio.sleep(random.uniform(pause / 2, pause))

    def note(self, exc: BaseException) -> None:
        """Note a failed try without waiting (a periodic job, whose schedule is its pause)."""
        global _since
        if not _failing:
            _since = time.monotonic()
            log.error("store_outage_started", loop=self.loop, reason=failures.failure_reason(exc),
                      error_type=type(exc).__name__)
        self.failed_at = time.monotonic()
        _failing.add(self)

    def ok(self) -> None:
        """Note a try that worked: the process's outage ends here when this was the last loop failing (a periodic
        job that failed PERIODIC_HOLD_SECONDS ago or more counts as through)."""
        self.pause = self.first
        if not _failing:
            return
        held_since = time.monotonic() - PERIODIC_HOLD_SECONDS
        through = [b for b in _failing if b is self or (b.periodic and b.failed_at <= held_since)]
        if not through:
            return
        _failing.difference_update(through)
        if not _failing and _since is not None:
            log.warning("store_outage_ended", loop=self.loop, seconds=round(time.monotonic() - _since, 1))

    def leave(self) -> None:
        """The loop stops while failing (the process is shutting down): it no longer holds the outage open."""
        _failing.discard(self)

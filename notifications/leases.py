"""Keeping a sender's claim alive while it works: the lease on its outbox rows (claimed and sending) is short, and
renewed every third of it by a task beside the work, so a slow batch never looks dead while a dead sender's rows go
back within one lease (notifications/outbox.py says what happens to them then)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from api.core.logging import get_logger
from notifications import outbox

log = get_logger("notifications.leases")


@contextlib.asynccontextmanager
async def renewing(*, claim_id: str, lease_seconds: float, beat: Callable[[], Awaitable[object]] | None = None):
    """Renew the lease of the rows `claim_id` holds (and call `beat`, a heartbeat of the same life) every third of
    the lease while the block runs."""
    # Started before the block opens any transaction: a renewal commits on its own, at once.
    task = asyncio.get_running_loop().create_task(_renew(claim_id, lease_seconds, beat))
    try:
        yield
    finally:
        # A cancelled sender (a worker going down) renews no more: its rows lapse as a dead one's would.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _renew(claim_id: str, lease_seconds: float, beat) -> None:
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            await outbox.renew(claim_id=claim_id, lease_seconds=lease_seconds)
            if beat is not None:
                await beat()
        except Exception as exc:  # noqa: BLE001 - the next renewal tries again; the work meets the outage itself
            log.warning("lease_renew_failed", error_type=type(exc).__name__)

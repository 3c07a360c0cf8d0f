"""One run at a time of a campaign's matching step (match, grants, queued deliveries): a lease on the campaign row
that only one run can take, renewed while the step runs.

A state transition in the database rather than a Redis lock: the step's own transaction can check, as it commits,
that it still holds the lease (`fenced`), so a run that lost it (stalled past its lease) rolls back instead of
committing beside its successor; and a Redis failover cannot lose the lease. A dead owner stops renewing, its lease
lapses within CAMPAIGN_STEP_LEASE_SECONDS, and the watchdog hands the step to exactly one new run (`hand_over`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from api.core import rawsql
from api.core.ids import new_id
from api.core.logging import get_logger
from api.core.workdays import utc_now

log = get_logger("api.policies.steps")

_FREE = "(step_owner IS NULL OR step_lease_until < ?)"


class StepLost(Exception):
    """The step's lease passed to another run before this one committed: its work is rolled back."""


def new_owner() -> str:
    """A fresh owner id for one run of a step."""
    return new_id("stp")


async def take(*, campaign_id: str, owner: str, lease_seconds: float) -> bool:
    """Take the matching step's lease for `owner` when it is free, lapsed, or already handed to `owner` (by the
    watchdog); False when another run holds it or the step is done."""
    t = utc_now()
    return bool(await rawsql.execute(
        f"UPDATE campaign SET step_owner = ?, step_lease_until = ? WHERE id = ? AND stage = 'match' "
        f"AND ({_FREE} OR step_owner = ?)",
        [owner, t + dt.timedelta(seconds=lease_seconds), campaign_id, t, owner]))


async def hand_over(*, campaign_id: str, lease_seconds: float) -> str | None:
    """Reserve a matching step whose lease is free or lapsed for one new run; its owner id (to queue the run
    with), or None when a live run holds it (so the 5-second watchdog never queues the step twice)."""
    owner = new_owner()
    return owner if await take_free(campaign_id=campaign_id, owner=owner, lease_seconds=lease_seconds) else None


async def take_free(*, campaign_id: str, owner: str, lease_seconds: float) -> bool:
    """Take the lease only when it is free or lapsed."""
    t = utc_now()
    return bool(await rawsql.execute(
        f"UPDATE campaign SET step_owner = ?, step_lease_until = ? WHERE id = ? AND stage = 'match' AND {_FREE}",
        [owner, t + dt.timedelta(seconds=lease_seconds), campaign_id, t]))


async def renew(*, campaign_id: str, owner: str, lease_seconds: float) -> bool:
    """Extend `owner`'s lease; False when it is no longer theirs."""
    return bool(await rawsql.execute(
        "UPDATE campaign SET step_lease_until = ? WHERE id = ? AND step_owner = ?",
        [utc_now() + dt.timedelta(seconds=lease_seconds), campaign_id, owner]))


async def release(*, campaign_id: str, owner: str) -> None:
    """Give the lease up (the step ended, done or not: a retry or the watchdog may take it at once)."""
    await rawsql.execute("UPDATE campaign SET step_owner = NULL, step_lease_until = NULL WHERE id = ? "
                         "AND step_owner = ?", [campaign_id, owner])


async def fenced(*, campaign_id: str, owner: str, conn) -> None:
    """Inside the step's transaction, as its last statement: end the lease, or raise StepLost (rolling the step
    back) when another run holds it now."""
    if not await rawsql.execute("UPDATE campaign SET step_owner = NULL, step_lease_until = NULL WHERE id = ? "
                                "AND step_owner = ?", [campaign_id, owner], conn):
        raise StepLost(campaign_id)


async def still_held(*, campaign_id: str, owner: str, conn) -> None:
    """Inside one chunk's transaction of the step: raise StepLost (rolling the chunk back) unless `owner` still
    holds the step; the lease stays."""
    # A no-op update, not a read: it locks the campaign row until the chunk commits, so no takeover slips between.
    if not await rawsql.execute("UPDATE campaign SET step_owner = step_owner WHERE id = ? AND step_owner = ?",
                                [campaign_id, owner], conn):
        raise StepLost(campaign_id)


@contextlib.asynccontextmanager
async def held(*, campaign_id: str, owner: str, lease_seconds: float):
    """Renew `owner`'s lease every third of it while the block runs; give it up when the block ends."""
    # Started before the step opens its transaction: the renewals must commit on their own, not with the step.
    renewer = asyncio.get_running_loop().create_task(_renew_until_cancelled(campaign_id, owner, lease_seconds))
    try:
        yield
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await renewer
        with contextlib.suppress(Exception):  # a store that is out: the lease lapses on its own
            await release(campaign_id=campaign_id, owner=owner)


async def _renew_until_cancelled(campaign_id: str, owner: str, lease_seconds: float) -> None:
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            if not await renew(campaign_id=campaign_id, owner=owner, lease_seconds=lease_seconds):
                log.warning("campaign_step_lease_lost", campaign_id=campaign_id)
                return
        except Exception as exc:  # noqa: BLE001 - a failed renewal is retried; the step's commit is fenced
            log.warning("campaign_step_renew_failed", campaign_id=campaign_id, error_type=type(exc).__name__)

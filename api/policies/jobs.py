"""Background jobs of policies: matching a campaign, its senders, the watchdog that restarts stalled senders, and
settling the SMS sends whose outcome is unknown."""

from __future__ import annotations

import contextlib

from api.core.jobs import Cron, Job
from api.policies import campaigns
from notifications import service as notifications
from notifications import spread


async def run_campaign(ctx, campaign_id: str, owner: str | None = None) -> str:
    """Match a campaign's policy over the population, record grants and queue deliveries (idempotent; one run at a
    time; `owner`: the step reservation the watchdog made for this run)."""
    deps = ctx["deps"]
    return await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings, owner=owner)


async def send_deliveries(ctx, campaign_id: str, hops: int = 0) -> dict:
    """Send a campaign's queued deliveries, batch by batch, until none is left or the campaign stops; a second
    sender of the campaign on this worker moves to a live worker running none (notifications/spread.py)."""
    deps, worker_id = ctx["deps"], ctx.get("worker_id")
    if worker_id is None:
        return await campaigns.send(deps=deps, campaign_id=campaign_id)
    if not await spread.join(deps.redis, campaign_id=campaign_id, worker_id=worker_id, queue=deps.settings.job_queue,
                             may_move=hops < spread.MAX_HOPS):
        await deps.jobs.enqueue("send_deliveries", campaign_id, hops + 1, defer_seconds=spread.hop_delay())
        return {"moved": hops + 1}
    try:
        return await campaigns.send(deps=deps, campaign_id=campaign_id)
    finally:
        with contextlib.suppress(Exception):  # a store that is out: the count dies with this worker's presence
            await spread.leave(deps.redis, campaign_id=campaign_id, worker_id=worker_id)


async def campaign_failed(ctx, campaign_id: str, *_job_args, reason: str) -> None:
    """The campaign's job gave up: the campaign shows `failed` and the reason (the watchdog leaves it alone)."""
    # _job_args: the rest of the failed job's arguments (a run's step owner, a sender's hops), not needed here.
    await campaigns.fail(campaign_id=campaign_id, reason=reason)


async def campaign_watchdog(ctx) -> int:
    """Restart senders for running campaigns whose senders went quiet (a worker died): nothing is left behind."""
    return await campaigns.watchdog(deps=ctx["deps"])


async def settle_uncertain_sms(ctx) -> dict:
    """Ask the SMS provider about uncertain sends (campaigns' and events'): taken, resent once, or told in the inbox."""
    deps = ctx["deps"]
    done = await campaigns.settle(deps=deps)
    return {"campaigns": len(done), **await notifications.settle_event_sms(deps=deps)}


JOBS = [Job(settle_uncertain_sms, tries=3, timeout_seconds=300),
        Job(run_campaign, tries=5, timeout_seconds=600, on_failure=campaign_failed),
        Job(send_deliveries, tries=5, timeout_seconds=3600, on_failure=campaign_failed)]
CRON = [Cron(campaign_watchdog, {"second": set(range(0, 60, 5))}, tries=1, run_at_startup=True),
        Cron(settle_uncertain_sms, {"second": {17, 47}}, tries=1)]

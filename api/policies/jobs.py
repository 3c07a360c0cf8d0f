"""Background jobs of policies: matching a campaign, its senders, the watchdog that restarts stalled senders, and
settling the SMS sends whose outcome is unknown."""

from __future__ import annotations

from api.core.jobs import Cron, Job
from api.policies import campaigns
from notifications import service as notifications


async def run_campaign(ctx, campaign_id: str, owner: str | None = None) -> str:
    """Match a campaign's policy over the population, record grants and queue deliveries (idempotent; one run at a
    time; `owner`: the step reservation the watchdog made for this run)."""
    deps = ctx["deps"]
    return await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings, owner=owner)


async def send_deliveries(ctx, campaign_id: str) -> dict:
    """Send a campaign's queued deliveries, batch by batch, until none is left or the campaign stops."""
    return await campaigns.send(deps=ctx["deps"], campaign_id=campaign_id)


async def campaign_failed(ctx, campaign_id: str, *, reason: str) -> None:
    """The campaign's job gave up: the campaign shows `failed` and the reason (the watchdog leaves it alone)."""
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

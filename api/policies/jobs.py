"""Background jobs of policies: matching a campaign, and the watchdog that restarts stalled senders."""

from __future__ import annotations

from api.core.jobs import Cron, Job
from api.policies import campaigns


async def run_campaign(ctx, campaign_id: str) -> str:
    """Match a campaign's policy over the population, record grants and queue deliveries (idempotent)."""
    deps = ctx["deps"]
    return await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings)


async def campaign_watchdog(ctx) -> int:
    """Restart senders for running campaigns whose senders went quiet (a worker died): nothing is left behind."""
    deps = ctx["deps"]
    return await campaigns.watchdog(jobs=deps.jobs, settings=deps.settings, redis=deps.redis)


JOBS = [Job(run_campaign, tries=5, timeout_seconds=600)]
CRON = [Cron(campaign_watchdog, {"second": set(range(0, 60, 5))}, tries=1, run_at_startup=True)]

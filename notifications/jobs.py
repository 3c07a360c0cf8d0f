"""Background jobs of notifications: the senders that work the outbox."""

from __future__ import annotations

from api.core.jobs import Cron, Job
from notifications import sender


async def send_deliveries(ctx, campaign_id: str) -> dict:
    """Send a campaign's queued deliveries, batch by batch, until none is left or the campaign stops."""
    return await sender.send_campaign(campaign_id=campaign_id, deps=ctx["deps"])


JOBS = [Job(send_deliveries, tries=5, timeout_seconds=3600)]
CRON: list[Cron] = []

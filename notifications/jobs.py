"""The notifications' own periodic jobs (a campaign's senders are queued by api/policies/jobs.py)."""

from __future__ import annotations

from api.core.jobs import Cron, Job
from api.core.workdays import utc_now
from notifications import retention, tally


async def erase_message_content(ctx) -> int:
    """Erase finished deliveries' content past MESSAGE_CONTENT_RETENTION_DAYS (idempotent)."""
    return await retention.erase_content(days=ctx["deps"].settings.message_content_retention_days, now=utc_now())


async def fold_delivery_tallies(ctx) -> int:
    """Sum the tally rows of campaigns that have many into one per group (idempotent); how many were folded."""
    return await tally.fold_long()


JOBS: list[Job] = []
CRON = [Cron(erase_message_content, {"minute": {23}}), Cron(fold_delivery_tallies, {"second": {29}})]

"""The notifications' own periodic jobs (a campaign's senders are queued by api/policies/jobs.py)."""

from __future__ import annotations

from api.core.jobs import Cron, Job
from api.core.workdays import utc_now
from notifications import retention


async def erase_message_content(ctx) -> int:
    """Erase finished deliveries' content past MESSAGE_CONTENT_RETENTION_DAYS (idempotent)."""
    return await retention.erase_content(days=ctx["deps"].settings.message_content_retention_days, now=utc_now())


JOBS: list[Job] = []
CRON = [Cron(erase_message_content, {"minute": {23}})]

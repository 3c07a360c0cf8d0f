"""Background jobs of the one-person code: dropping revocations of codes that have expired anyway."""

from __future__ import annotations

from api.codes.models import CodeRevocation
from api.core.jobs import Cron, Job, days_ago, purge


async def purge_code_revocations(ctx) -> int:
    """Drop revocations of codes that have expired anyway (terminals refuse those by their expiry)."""
    return await purge(CodeRevocation.filter(expires_at__lte=days_ago(0)), event="purged_code_revocations")


JOBS: list[Job] = []
CRON = [Cron(purge_code_revocations, {"minute": {7, 37}})]

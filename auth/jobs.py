"""Background jobs of auth: forgetting long-expired refresh tokens."""

from __future__ import annotations

from api.core.jobs import Cron, Job, days_ago, purge
from auth.models import RefreshToken


async def purge_expired_refresh_tokens(ctx) -> int:
    """Delete refresh tokens that expired more than a day ago (safe to run any number of times)."""
    return await purge(RefreshToken.filter(expires_at__lt=days_ago(1)), event="purged_refresh_tokens")


JOBS: list[Job] = []
CRON = [Cron(purge_expired_refresh_tokens, {"minute": {17}})]

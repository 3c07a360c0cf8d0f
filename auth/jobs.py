"""Background jobs of auth: forgetting long-expired refresh tokens."""

from __future__ import annotations

import datetime as dt

from api.core import db
from api.core.jobs import Cron, Job
from api.core.logging import get_logger
from auth.models import RefreshToken

log = get_logger("auth.jobs")


async def purge_expired_refresh_tokens(ctx) -> int:
    """Delete refresh tokens that expired more than a day ago (safe to run any number of times)."""
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    deleted = await RefreshToken.filter(expires_at__lt=db.as_stored(cutoff)).delete()
    log.info("purged_refresh_tokens", count=deleted)
    return deleted


JOBS: list[Job] = []
CRON = [Cron(purge_expired_refresh_tokens, {"minute": {17}})]

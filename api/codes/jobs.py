"""Background jobs of the one-person code: dropping revocations of codes that have expired anyway."""

from __future__ import annotations

import datetime as dt

from api.codes import service
from api.core.jobs import Cron, Job
from api.core.logging import get_logger

log = get_logger("api.codes.jobs")


async def purge_code_revocations(ctx) -> int:
    """Drop revocations of codes that have expired anyway (terminals refuse those by their expiry)."""
    deleted = await service.purge_revocations(now=dt.datetime.now(dt.timezone.utc))
    log.info("purged_code_revocations", count=deleted)
    return deleted


JOBS: list[Job] = []
CRON = [Cron(purge_code_revocations, {"minute": {7, 37}})]

"""Background jobs of applications: the deadline scan."""

from __future__ import annotations

from api.applications import staff
from api.core.jobs import Cron, Job
from api.core.logging import get_logger

log = get_logger("api.applications.jobs")


async def scan_deadlines(ctx) -> dict:
    """Move open cases to `warning`/`overdue` and tell their departments (each notice once per case and state)."""
    result = await staff.scan_deadlines()
    log.info("scanned_deadlines", **result)
    return result


JOBS: list[Job] = []
CRON = [Cron(scan_deadlines, {"minute": {2, 17, 32, 47}})]

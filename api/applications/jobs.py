"""Background jobs of applications: the deadline scan and the supplement reminder."""

from __future__ import annotations

from api.applications import staff, supplements
from api.core.jobs import Cron, Job
from api.core.logging import get_logger

log = get_logger("api.applications.jobs")


async def scan_deadlines(ctx) -> dict:
    """Move open cases to `warning`/`overdue` and tell their departments (each notice once per case and state)."""
    result = await staff.scan_deadlines()
    log.info("scanned_deadlines", **result)
    return result


async def warn_supplements_due(ctx) -> dict:
    """Remind applicants whose supplement is due within 2 working days (each case once per due date)."""
    result = await supplements.warn_due_soon()
    log.info("warned_supplements_due", **result)
    return result


JOBS: list[Job] = []
# The reminder runs in office hours (worker time, TZ=Asia/Shanghai): an event message ignores quiet hours, so a run
# at night would wake people. Twice a day, so one missed run (a restart) still warns the same day; the event key
# makes the second run send nothing already sent.
CRON = [Cron(scan_deadlines, {"minute": {2, 17, 32, 47}}),
        Cron(warn_supplements_due, {"hour": {9, 15}, "minute": {5}})]

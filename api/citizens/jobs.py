"""Background jobs of citizens: registry imports."""

from __future__ import annotations

from api.citizens import imports
from api.core.jobs import Cron, Job


async def run_import_job(ctx, job_id: str) -> dict:
    """Import an uploaded registry file (a retry goes on after the last batch that committed: nothing counted twice)."""
    return await imports.run_job(job_id=job_id, storage=ctx["deps"].storage)


async def import_failed(ctx, job_id: str, *, reason: str) -> None:
    """The import gave up: it shows `failed` and the reason."""
    await imports.fail_job(job_id=job_id, reason=reason)


JOBS = [Job(run_import_job, tries=3, timeout_seconds=3600, on_failure=import_failed)]
CRON: list[Cron] = []

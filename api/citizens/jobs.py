"""Background jobs of citizens: registry imports."""

from __future__ import annotations

from api.citizens import imports
from api.core.jobs import Cron, Job


async def run_import_job(ctx, job_id: str) -> dict:
    """Import an uploaded registry file (a retry goes on after the last batch that committed: nothing counted twice)."""
    return await imports.run_job(job_id=job_id, storage=ctx["deps"].storage)


async def requeue_lost_imports(ctx) -> int:
    """Queue again the uploads whose job the queue lost (Redis down at the upload, or a failover): none stays queued."""
    return len(await imports.requeue_lost(jobs=ctx["deps"].jobs))


async def import_failed(ctx, job_id: str, *, reason: str) -> None:
    """The import gave up: it shows `failed` and the reason."""
    await imports.fail_job(job_id=job_id, reason=reason)


JOBS = [Job(run_import_job, tries=3, timeout_seconds=3600, on_failure=import_failed)]
CRON = [Cron(requeue_lost_imports, {"second": {41}})]

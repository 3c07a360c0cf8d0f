"""An upload whose job the queue lost (Redis down when it was queued, a failover that dropped it) is queued again by
the minute's sweep, and runs once; one the queue still holds is not queued twice."""

from __future__ import annotations

import asyncio

from arq.constants import job_key_prefix

from api.citizens import imports
from api.citizens.jobs import CRON, requeue_lost_imports
from api.citizens.models import ImportJob, TransitRecord
from tests.citizens.import_helpers import (
    bidx,
    finished,
    import_admin,
    restart_inline_worker,
    stop_inline_worker,
    upload,
)
from tests.factories import random_id_number

TRANSIT = "id_number,ride_account,standing\n{id},RA-0001,good\n"


async def _runs(jobs, job_id: str) -> int:
    """How many runs of the upload's job arq recorded, once it has recorded one: arq records a result after the job
    returns, a moment after the job's own row says `completed`."""
    for _ in range(100):
        runs = sum(1 for r in await jobs.pool.all_job_results()
                   if r.function == "run_import_job" and r.args == (job_id,))
        if runs:
            return runs
        await asyncio.sleep(0.1)
    return 0


async def test_a_lost_upload_is_queued_again_and_imported_once(client, live):
    admin = await import_admin(client)
    id_number = random_id_number()
    await stop_inline_worker(live)  # the job waits in the queue while the test looks
    try:
        deps = live.app.ctx.deps
        job = await upload(client, admin, "transit", TRANSIT.format(id=id_number))
        # Still in the queue: a sweep queues nothing (it would be a second run of the same upload).
        assert await imports.requeue_lost(jobs=deps.jobs, older_than_seconds=0) == []
        # The queue loses it, as a Redis primary lost before its replica had it would.
        key = f"run_import_job:{job['id']}"
        assert await deps.jobs.pool.delete(job_key_prefix + key) == 1
        await deps.jobs.pool.zrem(deps.jobs.queue_name, key)
        # An upload younger than the sweep's wait is left to the enqueue that is surely on its way.
        assert await imports.requeue_lost(jobs=deps.jobs) == []
        assert await imports.requeue_lost(jobs=deps.jobs, older_than_seconds=0) == [job["id"]]
        assert await imports.requeue_lost(jobs=deps.jobs, older_than_seconds=0) == []  # queued once
    finally:
        await restart_inline_worker(live)
    done = await finished(client, admin, job["id"])
    assert done["status"] == "completed" and done["inserted"] == 1, done
    assert await TransitRecord.filter(id_number_bidx=bidx(id_number)).count() == 1
    assert await _runs(live.app.ctx.deps.jobs, job["id"]) == 1


async def test_the_sweep_leaves_finished_and_command_line_imports_alone(client, live):
    admin = await import_admin(client)
    job = await upload(client, admin, "transit", TRANSIT.format(id=random_id_number()))
    assert (await finished(client, admin, job["id"]))["status"] == "completed"
    # A command-line import killed outright stays `running` with no upload kept: only its operator can rerun it.
    cli = await ImportJob.create(dataset="transit", created_by=imports.CLI_ACTOR, status="running", total_rows=10)
    assert await requeue_lost_imports({"deps": live.app.ctx.deps}) == 0
    assert await imports.requeue_lost(jobs=live.app.ctx.deps.jobs, older_than_seconds=0) == []
    assert (await ImportJob.get(id=cli.id)).status == "running"
    assert await _runs(live.app.ctx.deps.jobs, job["id"]) == 1
    assert requeue_lost_imports in [c.coroutine for c in CRON]  # the worker runs it every minute

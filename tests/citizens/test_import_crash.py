"""Whatever stops an import leaves exactly what its job says, and its retry loses nothing and counts nothing twice:
a worker that dies mid-import (its run cancelled between or inside batches) and a command line killed with -9."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from api.citizens import imports, registry
from api.citizens.models import ImportJob, ImportRejection, TransitRecord
from tests.citizens.import_helpers import (
    finished,
    import_admin,
    job_row,
    landed,
    rejection_rows,
    restart_inline_worker,
    stop_inline_worker,
    upload,
)
from tests.factories import random_id_number

ROWS_TO_KILL = 300_000
BAD_LINES = {40: "standing", 95: "身份证号与第 12 行重复", 160: "standing", 251: "身份证号与第 200 行重复"}


def _transit_file(rows: int) -> tuple[str, list[str]]:
    """A transit file of `rows` rows, four of them bad (BAD_LINES); its text and the id numbers by line."""
    ids = {random_id_number() for _ in range(rows * 2)}
    ids = [None, None, *list(ids)[:rows]]  # by line: line 2 is the first row
    ids[95], ids[251] = ids[12], ids[200]
    lines = []
    for line in range(2, rows + 2):
        standing = "lost" if BAD_LINES.get(line) == "standing" else "good"
        lines.append(f"{ids[line]},RA-{line},{standing}\n")
    return "id_number,ride_account,standing\n" + "".join(lines), ids


async def _agrees(job_id: str) -> ImportJob:
    """The job's counts against the registry: every row it says it wrote is there, and no other."""
    job = await job_row(job_id)
    assert job.processed == job.inserted + job.updated + job.rejected, job.__dict__
    assert await landed(TransitRecord, job_id) == job.inserted + job.updated
    assert len(await rejection_rows(job_id)) == job.rejected == await ImportRejection.filter(job_id=job_id).count()
    return job


@pytest.mark.parametrize("stop_at", [60, 130])
async def test_a_worker_lost_mid_import_leaves_what_the_job_says_and_the_retry_goes_on(client, live, monkeypatch,
                                                                                      stop_at):
    monkeypatch.setattr(registry, "BATCH", 20)
    admin = await import_admin(client)
    text, ids = _transit_file(600)
    deps = live.app.ctx.deps
    await stop_inline_worker(live)  # this test plays the worker: one run that dies, then the retry
    try:
        job_id = (await upload(client, admin, "transit", text))["id"]
        run = asyncio.create_task(imports.run_job(job_id=job_id, storage=deps.storage))
        while (await job_row(job_id)).processed < stop_at:
            assert not run.done(), run
            await asyncio.sleep(0.002)
        run.cancel()  # the worker dies: the batch in flight commits whole or not at all
        with pytest.raises(asyncio.CancelledError):
            await run
        crashed = await _agrees(job_id)
        assert crashed.status == "running" and stop_at <= crashed.processed < 600, crashed.__dict__
        assert crashed.processed % 20 == 0  # whole batches only
        assert await rejection_rows(job_id) == [line for line in BAD_LINES if line < crashed.processed + 2]

        result = await imports.run_job(job_id=job_id, storage=deps.storage)  # arq's retry
        assert (result["read"], result["inserted"], result["updated"], result["rejected"]) == (600, 596, 0, 4)
    finally:
        await restart_inline_worker(live)
    done = await finished(client, admin, job_id)
    assert (done["status"], done["processed"], done["inserted"], done["updated"], done["rejected"]) == (
        "completed", 600, 596, 0, 4)
    await _agrees(job_id)
    assert await rejection_rows(job_id) == sorted(BAD_LINES)
    for error in done["errors"]:
        assert BAD_LINES[error["line"]] in error["reason"]
    assert await TransitRecord.all().count() == 596  # nothing written twice, nothing lost
    assert {r.import_line for r in await TransitRecord.filter(import_id=job_id)} == {
        line for line in range(2, 602) if line not in BAD_LINES}


async def test_an_import_killed_with_sigkill_leaves_what_its_job_says(live, tmp_path):
    from tests.core.test_cli import ROOT

    # Long enough that the kill lands mid-file even when this test's polling stalls for seconds under a loaded
    # suite: a 60,000-row file was once imported whole between the poll that saw progress and the kill.
    text, _ = _transit_file(ROWS_TO_KILL)
    path = tmp_path / "transit.csv"
    path.write_text(text, encoding="utf-8")
    s = live.settings
    env = {**os.environ, "DATA_DIR": str(s.data_dir), "TZ": "Asia/Shanghai", "LOG_LEVEL": "WARNING",
           "JOB_QUEUE": s.job_queue}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
        if getattr(s, name.lower()):
            env[name] = getattr(s, name.lower())
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "server.py"), "import", "transit",
                                                str(path), env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(3000):
            job = await ImportJob.filter(created_by="cli", dataset="transit").first()
            if job is not None and job.processed >= 4000:
                break
            assert proc.returncode is None, "the import ended before it could be killed"
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the import made no progress")
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
    killed = await _agrees(job.id)
    assert killed.status == "running" and 4000 <= killed.processed < ROWS_TO_KILL, killed.__dict__
    assert await TransitRecord.all().count() == killed.inserted

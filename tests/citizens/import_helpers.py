"""Registry imports as a staff member drives them (the admin routes), and files built row by row."""

from __future__ import annotations

import asyncio
import csv
import io

from api.citizens import idnumber
from api.citizens.models import ImportJob, ImportRejection
from api.core import pii
from tests.applications.conftest import staff_headers
from tests.factories import random_id_number, random_phone
from tests.stuck_tasks import task_stacks

POPULATION_HEADER = ["id_number", "name", "gender", "birth_date", "phone", "hukou_region", "address"]


async def stop_inline_worker(live, *, timeout: float = 30) -> None:
    """Stop the app's job worker so a test can hold a job in the queue; one that does not stop within `timeout`
    fails the test naming every task still running and where it waits (not a worker killed at the suite's limit)."""
    try:
        await asyncio.wait_for(live.app.ctx.inline_worker.stop(), timeout)
    except TimeoutError:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        raise AssertionError(f"the inline worker did not stop in {timeout} s; tasks:\n{task_stacks(others)}") from None


async def restart_inline_worker(live) -> None:
    """Start the app's job worker again after a test stopped it to hold a job in the queue."""
    from api.core.queue import create_job_queue
    from server import start_inline_worker

    live.app.ctx.deps.jobs = await create_job_queue(live.settings)  # stopping the worker closed its pool
    start_inline_worker(live.app)


async def import_admin(client) -> dict:
    """Headers of a staff member who may import (policy_admin)."""
    return await staff_headers(client, roles=("policy_admin",), depts=())


async def upload(client, admin, dataset: str, data: bytes | str, *, expect: int = 202) -> dict:
    """POST the file as text/csv; the answer's body."""
    body = data.encode() if isinstance(data, str) else data
    r = await client.post(f"/api/v1/admin/datasets/{dataset}/imports", headers={**admin, "Content-Type": "text/csv"},
                          content=body)
    assert r.status_code == expect, r.text
    return r.json()


async def finished(client, admin, job_id: str) -> dict:
    """The import job once it has completed or failed."""
    for _ in range(300):
        job = (await client.get(f"/api/v1/admin/imports/{job_id}", headers=admin)).json()
        if job["status"] in ("completed", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(job)


async def all_rejections(client, admin, job_id: str, *, limit: int = 100) -> list[dict]:
    """Every rejected row of an import, page after page."""
    items, cursor = [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        r = await client.get(f"/api/v1/admin/imports/{job_id}/rejections{query}", headers=admin)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return items


def bidx(id_number: str) -> str:
    """The blind index a registry row is keyed on."""
    return pii.cipher().blind_index(id_number, kind="id_number")


def person(**fields) -> dict:
    """A population row whose every field agrees with its id number."""
    id_number = fields.pop("id_number", None) or random_id_number()
    row = {"id_number": id_number, "name": "王小明", "gender": idnumber.gender(id_number),
           "birth_date": idnumber.birth_date(id_number).isoformat(), "phone": random_phone(),
           "hukou_region": "430104", "address": "长沙市岳麓区"}
    return {**row, **fields}


def csv_line(values: list[str]) -> str:
    """One CSV record as a spreadsheet would write it (quoted where needed), with its line end."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


async def snapshot(model) -> dict:
    """Every row of a registry table, every column: to compare before and after."""
    return {r["id_number_bidx"]: r for r in await model.all().values()}


async def landed(model, job_id: str) -> int:
    """Registry rows the import wrote last."""
    return await model.filter(import_id=job_id).count()


async def job_row(job_id: str) -> ImportJob:
    """The job as stored."""
    return await ImportJob.get(id=job_id)


async def rejection_rows(job_id: str) -> list[int]:
    """The lines of an import's stored rejections."""
    return sorted(await ImportRejection.filter(job_id=job_id).values_list("line", flat=True))

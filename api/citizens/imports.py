"""Registry imports as jobs, uploaded (a background job) or from the command line: the file is read through for its
structure first (a broken file is refused whole, with its line), the upload is kept encrypted until imported, and
each batch commits with the job's counts and its rejected rows (line, reason, id number masked; never the row's
content), so the job's answer is always what the registry holds."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import itertools
import multiprocessing
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from pathlib import Path

from tortoise.transactions import in_transaction

from api.citizens import registry, registry_csv
from api.citizens.datasets import Dataset
from api.citizens.models import ImportJob, ImportRejection
from api.core import audit, db, failures, pii, rawsql
from api.core.errors import NotFound
from api.core.ids import new_id
from api.core.logging import get_logger
from api.core.pagination import Key, Order, Page, PageRequest, paginate

log = get_logger("api.citizens.imports")
CONTEXT = "registry-import"
BY_LINE = Order((Key("line", int),))
CSV_CHUNK = 5000
CLI_ACTOR = "cli"
POOL_MIN_ROWS = 20_000  # below this, starting the processes costs more than they save
REQUEUE_AFTER_SECONDS = 60  # an upload's job is in the queue within a second of its answer; this leaves no race


class UnknownDataset(NotFound):
    code = "unknown_dataset"


class _Superseded(Exception):
    """Another run of the same job committed a batch first: this one stops and leaves the job to it."""


def _spec(dataset: str) -> Dataset:
    if dataset not in registry.DATASETS:
        raise UnknownDataset(f"未知数据集 {dataset}；可导入：{'、'.join(registry.DATASETS)}")
    return registry.DATASETS[dataset]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def create_job(*, dataset: str, data: bytes, actor, storage, jobs) -> ImportJob:
    """Read the upload through for its structure (422 `malformed_csv` with the line, nothing kept), keep it
    encrypted and queue its import."""
    spec = _spec(dataset)
    total = await asyncio.to_thread(registry_csv.count_records, data, columns=spec.columns)
    job = ImportJob(dataset=dataset, created_by=actor.actor_id, total_rows=total)
    job.file_key = f"imports-{job.id}.csv.enc"
    await storage.put(job.file_key, pii.cipher().encrypt_bytes(data, context=CONTEXT))
    async with in_transaction():
        await job.save()
        await audit.record_for(actor, action="registry.import", target_type="import_job", target_id=job.id,
                               detail={"dataset": dataset, "bytes": len(data), "rows": total})
    await queue_job(job.id, jobs=jobs)
    return job


def _queue_key(job_id: str) -> str:
    return f"run_import_job:{job_id}"


async def queue_job(job_id: str, *, jobs) -> bool:
    """Queue an upload's import under a key of its own: False when the queue knows it already (waiting or running),
    so queueing it again never runs it twice."""
    return await jobs.enqueue("run_import_job", job_id, job_id=_queue_key(job_id)) is not None


async def requeue_lost(*, jobs, older_than_seconds: float = REQUEUE_AFTER_SECONDS) -> list[str]:
    """Queue again the unfinished uploads the job queue no longer knows (an enqueue that met a Redis outage, a queue
    lost with a Redis primary): the ids queued. A command-line import (no upload kept) is left alone."""
    since = db.as_stored(_now() - dt.timedelta(seconds=older_than_seconds))
    ids = await ImportJob.filter(status__in=("queued", "running"), file_key__isnull=False, created_at__lte=since) \
        .values_list("id", flat=True)
    queued = [job_id for job_id in ids if await queue_job(job_id, jobs=jobs)]
    for job_id in queued:
        log.warning("registry_import_requeued", job_id=job_id)
    return queued


async def run_job(*, job_id: str, storage) -> dict:
    """Import one uploaded file; a retry goes on after the last batch that committed. A failure is recorded by
    `fail_job` once the job gives up."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None or job.status in ("completed", "failed"):
        return {"status": job.status if job else "missing"}
    data = pii.cipher().decrypt_bytes(await storage.get(job.file_key), context=CONTEXT)
    columns = registry.DATASETS[job.dataset].columns
    total = await asyncio.to_thread(registry_csv.count_records, data, columns=columns)
    job.status, job.started_at, job.total_rows = "running", job.started_at or _now(), total
    await job.save(update_fields=["status", "started_at", "total_rows"])
    report = await _import(job, registry_csv.CsvFile(data, columns=columns).records())
    if report is None:
        return {"status": "superseded"}
    await storage.delete(job.file_key)  # the registry rows hold the data now, encrypted field by field
    return report.as_dict()


async def import_file(*, dataset: str, path: Path, progress: Callable[[registry.ImportReport], object] | None = None,
                      processes: int = 0) -> tuple[ImportJob, dict]:
    """The command line's import: read the file through for its structure, then import it as a job of its own
    (listed with the uploaded ones, its rejected rows readable the same way); the job and its report. With
    `processes` > 1, a large file's rows are checked and encrypted in that many processes."""
    spec = _spec(dataset)

    def count() -> int:
        with path.open("rb") as handle:
            return registry_csv.count_records(handle, columns=spec.columns)

    total = await asyncio.to_thread(count)
    job = ImportJob(dataset=dataset, created_by=CLI_ACTOR, status="running", started_at=_now(), total_rows=total)
    async with in_transaction():
        await job.save()
        await audit.record(actor_type="system", actor_id=CLI_ACTOR, action="registry.import",
                           target_type="import_job", target_id=job.id,
                           detail={"dataset": dataset, "bytes": path.stat().st_size, "rows": total})
    try:
        with path.open("rb") as handle, _pool(processes if total >= POOL_MIN_ROWS else 0) as pool:
            report = await _import(job, registry_csv.CsvFile(handle, columns=spec.columns).records(),
                                   progress=progress, pool=pool)
    except Exception as exc:
        await fail_job(job_id=job.id, reason=failures.failure_reason(exc))
        raise
    return job, {"job_id": job.id, **report.as_dict()}


def _pool(processes: int):
    # Spawned, not forked: the parent holds an event loop, open connections and threads.
    if processes <= 1:
        return nullcontext(None)
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))


async def _import(job: ImportJob, records, *, progress=None, pool=None) -> registry.ImportReport | None:
    """Import a job's records after those its committed batches already took; the final report (None when another
    run of the job took over)."""
    report = registry.ImportReport(dataset=job.dataset, inserted=job.inserted, updated=job.updated,
                                   rejected=list(job.errors), rejected_count=job.rejected)

    async def commit(conn, before: registry.ImportReport, after: registry.ImportReport,
                     rejections: list[registry.Rejection]) -> None:
        if rejections:
            await rawsql.insert_rows(
                ImportRejection._meta.db_table, ("id", "job_id", "line", "reason", "id_number_masked"),
                [(new_id("rej"), job.id, r.line, r.reason[:255], r.id_number) for r in rejections], conn)
        counts = {"processed": after.processed, "inserted": after.inserted, "updated": after.updated,
                  "rejected": after.rejected_count}
        if len(after.rejected) != len(before.rejected):
            counts["errors"] = after.rejected
        moved = await ImportJob.filter(id=job.id, status="running", processed=before.processed).using_db(conn) \
            .update(**counts)
        if moved != 1:
            raise _Superseded()

    try:
        report = await registry.import_records(job.dataset, itertools.islice(records, job.processed, None),
                                               import_id=job.id, report=report, on_batch=commit, progress=progress,
                                               pool=pool)
    except _Superseded:
        log.warning("registry_import_superseded", job_id=job.id)
        return None
    await ImportJob.filter(id=job.id, status="running").update(status="completed", finished_at=_now())
    log.info("registry_imported", job_id=job.id, **{k: v for k, v in report.as_dict().items() if k != "rejected_rows"})
    return report


async def fail_job(*, job_id: str, reason: str) -> None:
    """End an unfinished import as failed with its short reason: what its committed batches wrote stays, as its
    counts say (an upload stays, encrypted, for another go)."""
    await ImportJob.filter(id=job_id, status__in=("queued", "running")).update(
        status="failed", error=reason, finished_at=_now())
    log.error("registry_import_failed", job_id=job_id, reason=reason)


async def read_job(job_id: str) -> ImportJob:
    """An import job (404 when there is none)."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None:
        raise NotFound("导入任务不存在")
    return job


async def page(*, paging: PageRequest) -> Page:
    """Import jobs, newest first."""
    return await paginate(ImportJob.all(), page=paging)


async def rejections(*, job_id: str, paging: PageRequest) -> Page:
    """An import's rejected rows by line (404 when there is no such import)."""
    await read_job(job_id)
    return await paginate(ImportRejection.filter(job_id=job_id), page=paging, order=BY_LINE)


async def rejections_csv(*, actor, job_id: str) -> AsyncIterator[str]:
    """An import's rejected rows as CSV text in pieces (line, id number masked, reason); the export is audited.
    404 when there is no such import."""
    await read_job(job_id)
    await audit.record_for(actor, action="registry.import.rejections_export", target_type="import_job",
                           target_id=job_id)
    return _csv_pieces(job_id)


async def _csv_pieces(job_id: str) -> AsyncIterator[str]:
    yield "\ufeff行号,身份证号（脱敏）,原因\r\n"  # the BOM: Excel opens UTF-8 as such only with one
    after = 0
    while True:
        rows = await ImportRejection.filter(job_id=job_id, line__gt=after).order_by("line").limit(CSV_CHUNK) \
            .values_list("line", "id_number_masked", "reason")
        if not rows:
            return
        out = io.StringIO()
        csv.writer(out).writerows((line, masked, _cell(reason)) for line, masked, reason in rows)
        yield out.getvalue()
        after = rows[-1][0]


def _cell(text: str) -> str:
    # A reason may quote a column name from the file: never let a spreadsheet read it as a formula.
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text

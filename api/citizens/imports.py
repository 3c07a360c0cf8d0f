"""Registry imports as background jobs: the upload is kept encrypted until imported, the job records its
progress batch by batch and keeps an error report (line and reason, never the row's content)."""

from __future__ import annotations

import datetime as dt
import io

from tortoise.transactions import in_transaction

from api.citizens import registry
from api.citizens.models import ImportJob
from api.core import audit, pii
from api.core.errors import NotFound, ValidationFailed
from api.core.logging import get_logger
from api.core.pagination import Page, PageRequest, paginate

log = get_logger("api.citizens.imports")
CONTEXT = "registry-import"


class UnknownDataset(NotFound):
    code = "unknown_dataset"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("CSV 须为 UTF-8 编码", fields={"file": "须为 UTF-8 编码的 CSV"}) from None


async def create_job(*, dataset: str, data: bytes, actor, storage, jobs) -> ImportJob:
    """Check the upload's header, keep it encrypted and queue its import."""
    if dataset not in registry.DATASETS:
        raise UnknownDataset(f"未知数据集 {dataset}；可导入：{'、'.join(registry.DATASETS)}")
    text = _text(data)
    header = text.split("\n", 1)[0].strip().split(",")
    missing = [c for c in registry.DATASETS[dataset].columns if c not in header]
    if missing:
        raise ValidationFailed(fields={"file": f"CSV 缺少列: {', '.join(missing)}"})
    job = ImportJob(dataset=dataset, created_by=actor.actor_id)
    job.file_key = f"imports-{job.id}.csv.enc"
    await storage.put(job.file_key, pii.cipher().encrypt_bytes(data, context=CONTEXT))
    async with in_transaction():
        await job.save()
        await audit.record_for(actor, action="registry.import", target_type="import_job", target_id=job.id,
                               detail={"dataset": dataset, "bytes": len(data)})
    await jobs.enqueue("run_import_job", job.id)
    return job


async def run_job(*, job_id: str, storage) -> dict:
    """Import one uploaded file (a retry repeats rows already written: they update in place); a failure is
    recorded by `fail_job` once the job gives up."""
    job = await ImportJob.get_or_none(id=job_id)
    if job is None or job.status in ("completed", "failed"):
        return {"status": job.status if job else "missing"}
    text = _text(pii.cipher().decrypt_bytes(await storage.get(job.file_key), context=CONTEXT))
    job.status, job.started_at = "running", dt.datetime.now(dt.timezone.utc)
    job.total_rows = max(0, sum(1 for line in text.splitlines()[1:] if line.strip()))
    await job.save(update_fields=["status", "started_at", "total_rows"])

    async def progress(report: registry.ImportReport) -> None:
        await ImportJob.filter(id=job.id).update(processed=report.processed, inserted=report.inserted,
                                                 updated=report.updated, rejected=report.rejected_count,
                                                 errors=report.rejected)

    rows = registry.read_csv_lines(io.StringIO(text), required=registry.DATASETS[job.dataset].columns)
    report = await registry.import_rows(job.dataset, rows, progress=progress)
    await ImportJob.filter(id=job.id).update(status="completed", finished_at=dt.datetime.now(dt.timezone.utc))
    await storage.delete(job.file_key)  # the registry rows hold the data now, encrypted field by field
    log.info("registry_imported", job_id=job.id, **{k: v for k, v in report.as_dict().items() if k != "rejected_rows"})
    return report.as_dict()


async def fail_job(*, job_id: str, reason: str) -> None:
    """End an unfinished import as failed with its short reason (the upload stays, encrypted, for another go)."""
    await ImportJob.filter(id=job_id, status__in=("queued", "running")).update(
        status="failed", error=reason, finished_at=dt.datetime.now(dt.timezone.utc))
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

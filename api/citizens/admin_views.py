"""Admin routes for registry data: dataset imports as background jobs, and their progress."""

from __future__ import annotations

from sanic import Blueprint

from api.citizens import imports
from api.citizens.schemas import ImportJobPage, ImportJobRead
from api.core.errors import ValidationFailed
from api.core.guards import admin_required
from api.core.http import binary, doc, multipart_file, respond
from api.core.pagination import page_request

bp = Blueprint("registry_admin", url_prefix="/api/v1/admin")
IMPORT_ROLES = ("super_admin", "policy_admin")


def _job(job) -> dict:
    # A failed import keeps its reason in the `error` column.
    return {**{k: getattr(job, k) for k in ImportJobRead.model_fields if k != "failure_reason"},
            "failure_reason": job.error}


def _upload(request) -> bytes:
    if request.files and request.files.get("file"):
        return request.files.get("file").body
    if not request.body:
        raise ValidationFailed(fields={"file": "请上传 CSV（text/csv 请求体，或 multipart 的 file 字段）"})
    return request.body


@bp.post("/datasets/<name:str>/imports")
@doc("导入登记数据集 CSV（population、disability、social_insurance、health_card、transit、low_income）：后台逐行校验，"
     "坏行记入错误报告（行号与原因），重复导入按身份证号就地更新；请求体上限 12 MB，更大的文件用命令行导入",
     response=ImportJobRead, status=202, errors=(401, 403, 404, 413, 422), tag="registry-admin", secured="admin",
     body_media={**binary("text/csv"), **multipart_file()})
@admin_required(*IMPORT_ROLES)
async def create_import(request, name: str):
    job = await imports.create_job(dataset=name, data=_upload(request), actor=request.ctx.actor,
                                   storage=request.app.ctx.deps.storage, jobs=request.app.ctx.deps.jobs)
    return respond(_job(job), status=202)


@bp.get("/imports/<job_id:id>")
@doc("导入任务进度与错误报告", response=ImportJobRead, errors=(401, 403, 404), tag="registry-admin", secured="admin")
@admin_required(*IMPORT_ROLES)
async def read_import(request, job_id: str):
    return respond(_job(await imports.read_job(job_id)))


@bp.get("/imports")
@doc("导入任务，最新在前", response=ImportJobPage, errors=(401, 403, 422), tag="registry-admin", secured="admin")
@admin_required(*IMPORT_ROLES)
async def list_imports(request):
    return respond((await imports.page(paging=page_request(request.args))).body(_job))

"""Admin routes for registry data: dataset imports as background jobs, their progress and their rejected rows."""

from __future__ import annotations

from sanic import Blueprint

from api.citizens import imports
from api.citizens.schemas import ImportJobPage, ImportJobRead, ImportRejectionPage
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


def _rejection(row) -> dict:
    return {"line": row.line, "reason": row.reason, "id_number": row.id_number_masked}


def _upload(request) -> bytes:
    if request.files and request.files.get("file"):
        return request.files.get("file").body
    if not request.body:
        raise ValidationFailed(fields={"file": "请上传 CSV（text/csv 请求体，或 multipart 的 file 字段）"})
    return request.body


@bp.post("/datasets/<name:str>/imports")
@doc("导入登记数据集 CSV（population、disability、social_insurance、health_card、transit、low_income）",
     description=("请求体为 UTF-8 CSV（text/csv，或 multipart 的 file 字段），首行为表头，"
                  "须含该数据集的各列，其后可有更多列（加密保存）；上限 12 MB，更大的文件用命令行导入。"
                  "先通读整个文件检查结构：不是 UTF-8、含 NUL、引号未闭合、表头缺列或列名重复时 "
                  "422 malformed_csv，fields.file 指出出错的文件行号，不导入任何行。"
                  "结构无误则 202 并在后台逐行校验：字段数与表头不符、字段超长、身份证号校验位错误、"
                  "姓名或手机号不像、出生日期或性别与身份证号不符、日期不是 YYYY-MM-DD、"
                  "户籍区划不是 6 位数字、身份证号与文件中前面的行重复的行被拒"
                  "（行号与原因，见 /imports/{id}/rejections），其余的行写入，已有的按身份证号就地更新。"
                  "每 2000 行一批，数据与任务进度在同一事务中提交：inserted + updated + rejected = "
                  "processed，任何时刻任务所报即登记数据所有。"),
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


@bp.get("/imports/<job_id:id>/rejections")
@doc("导入任务被拒的行：文件行号、原因与脱敏的身份证号，按行号排序分页", response=ImportRejectionPage,
     errors=(401, 403, 404), tag="registry-admin", secured="admin")
@admin_required(*IMPORT_ROLES)
async def list_rejections(request, job_id: str):
    page = await imports.rejections(job_id=job_id, paging=page_request(request.args))
    return respond(page.body(_rejection))


@bp.get("/imports/<job_id:id>/rejections.csv")
@doc("下载导入任务被拒的行（CSV：行号、脱敏的身份证号、原因；UTF-8 带 BOM，可直接用 Excel 打开）",
     description="不含任何明文个人信息；每次下载记入审计日志。", errors=(401, 403, 404), tag="registry-admin",
     secured="admin", response_media=binary("text/csv"))
@admin_required(*IMPORT_ROLES)
async def download_rejections(request, job_id: str):
    pieces = await imports.rejections_csv(actor=request.ctx.actor, job_id=job_id)
    response = await request.respond(content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{job_id}-rejections.csv"'})
    async for piece in pieces:
        await response.send(piece)
    await response.eof()


@bp.get("/imports")
@doc("导入任务，最新在前", response=ImportJobPage, errors=(401, 403, 422), tag="registry-admin", secured="admin")
@admin_required(*IMPORT_ROLES)
async def list_imports(request):
    return respond((await imports.page(paging=page_request(request.args))).body(_job))

"""Citizens' routes: uploads, applications, supplements, withdrawal, ratings, drafts."""

from __future__ import annotations

from sanic import Blueprint, empty

from api.applications import drafts, files, ratings, service
from api.applications.schemas import (
    ApplicationCreate,
    ApplicationPage,
    ApplicationRead,
    DraftIn,
    DraftPage,
    DraftRead,
    FileRead,
    RatingIn,
    SupplementIn,
)
from api.core import idempotency
from api.core.errors import ValidationFailed
from api.core.guards import citizen_required
from api.core.http import doc, json_object, multipart_file, parse, respond
from api.core.pagination import page_request

bp = Blueprint("applications", url_prefix="/api/v1")
SCOPE = "applications"


@bp.post("/files")
@doc("上传材料文件（multipart，字段 file）：按内容判定类型，仅 PDF/JPEG/PNG，最大 10 MiB；仅本人（或授权代办人）可用",
     response=FileRead, status=201, errors=(401, 413, 415, 422), tag="applications", secured="citizen",
     body_media=multipart_file())
@citizen_required(scope=SCOPE)
async def upload(request):
    upload_ = request.files.get("file") if request.files else None
    if upload_ is None:
        raise ValidationFailed(fields={"file": "请以 multipart/form-data 上传字段 file"})
    actor = request.ctx.actor
    row = await files.save_upload(storage=request.app.ctx.deps.storage, owner_id=actor.citizen_id,
                                  uploaded_by=actor.actor_id, data=upload_.body, filename=upload_.name,
                                  content_type=upload_.type)
    return respond({"file_id": row.id, "sha256": row.sha256, "size": row.size, "content_type": row.content_type},
                   status=201)


@bp.post("/applications")
@doc("提交申请（单个事项或一件事）；带 Idempotency-Key 时重复提交只生成一件", body=ApplicationCreate,
     response=ApplicationRead, status=201, errors=(401, 403, 404, 409, 422), tag="applications", secured="citizen",
     description="材料可为上传文件（file_id）、电子证照（license_id，免提交）、告知承诺（commitment）或容缺后补"
                 "（deferred）。一件事按部门拆分为子办件（sub_cases）。跨省通办：applicant_region 与 handling_region "
                 "不在同一省时须为跨省通办事项；receiving_region 为异地代收窗口。")
@citizen_required(scope=SCOPE)
async def submit(request):
    body = parse(request, ApplicationCreate)
    key = idempotency.check_key(request.headers.get("idempotency-key"))
    status, answer = await service.submit(actor=request.ctx.actor, body=body, idempotency_key=key,
                                          raw=json_object(request), redis=request.app.ctx.deps.redis,
                                          home_region=request.app.ctx.deps.settings.home_region)
    return respond(answer, status=status)


@bp.get("/applications")
@doc("我的办件（一件事为一条），按提交时间倒序；可按 status 筛选", response=ApplicationPage, errors=(401, 422),
     tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def list_applications(request):
    page = await service.list_mine(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args),
                                   status=request.args.get("status"))
    return respond(page.body())


@bp.get("/applications/<application_id:id>")
@doc("办件详情：时间线、子办件、到期日、sla_state、寄递单号；?reveal=true 本人查看明文（记入审计）",
     response=ApplicationRead, errors=(401, 404), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def get_application(request, application_id: str):
    actor = request.ctx.actor
    reveal = request.args.get("reveal", "").lower() in ("1", "true") and not actor.is_agent
    return respond(await service.read(actor=actor, application_id=application_id, reveal=reveal))


@bp.post("/applications/<application_id:id>/supplement")
@doc("补正：提交要求补正的材料或表单字段（也用于补交容缺材料）", body=SupplementIn, response=ApplicationRead,
     errors=(401, 404, 409, 422), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def supplement(request, application_id: str):
    body = parse(request, SupplementIn)
    answer = await service.supplement(actor=request.ctx.actor, application_id=application_id, body=body,
                                      redis=request.app.ctx.deps.redis)
    return respond(answer)


@bp.post("/applications/<application_id:id>/withdraw")
@doc("撤回尚未作出决定的办件", response=ApplicationRead, errors=(401, 404, 409), tag="applications",
     secured="citizen")
@citizen_required(scope=SCOPE)
async def withdraw(request, application_id: str):
    return respond(await service.withdraw(actor=request.ctx.actor, application_id=application_id))


@bp.post("/applications/<application_id:id>/rating")
@doc("好差评：办结后评价一次（1-5 分）；1、2 分生成整改单", body=RatingIn, status=201, errors=(401, 404, 409, 422),
     tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def rate(request, application_id: str):
    body = parse(request, RatingIn)
    answer = await ratings.rate(actor=request.ctx.actor, application_id=application_id, score=body.score,
                                comment=body.comment)
    return respond(answer, status=201)


@bp.post("/drafts")
@doc("保存草稿（可在另一平台或由代办人继续填写后提交）", body=DraftIn, response=DraftRead, status=201,
     errors=(401, 409, 422), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def create_draft(request):
    body = parse(request, DraftIn)
    return respond(await drafts.save(citizen_id=request.ctx.actor.citizen_id, body=body), status=201)


@bp.get("/drafts")
@doc("我的草稿", response=DraftPage, errors=(401,), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def list_drafts(request):
    page = await drafts.list_mine(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body())


@bp.get("/drafts/<draft_id:id>")
@doc("草稿详情", response=DraftRead, errors=(401, 404), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def get_draft(request, draft_id: str):
    return respond(await drafts.read(citizen_id=request.ctx.actor.citizen_id, draft_id=draft_id))


@bp.put("/drafts/<draft_id:id>")
@doc("更新草稿", body=DraftIn, response=DraftRead, errors=(401, 404, 422), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def update_draft(request, draft_id: str):
    body = parse(request, DraftIn)
    return respond(await drafts.save(citizen_id=request.ctx.actor.citizen_id, body=body, draft_id=draft_id))


@bp.delete("/drafts/<draft_id:id>")
@doc("删除草稿", status=204, errors=(401, 404), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def delete_draft(request, draft_id: str):
    await drafts.delete(citizen_id=request.ctx.actor.citizen_id, draft_id=draft_id)
    return empty()

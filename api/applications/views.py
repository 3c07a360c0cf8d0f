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


def _reveal(request) -> bool:
    # Only the owner sees their personal data in clear: an agent's ask for it is read as a masked read.
    return request.args.get("reveal", "").lower() in ("1", "true") and not request.ctx.actor.is_agent


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


IDENTITY_RULE = ("申请与提交人绑定：事项表单中标注 x-identity（name、id_number、phone）的字段是申请人本人的信息，"
                 "由系统按实名认证信息填写（亲友代办时为被代办人的），可不填；若填写须与实名信息一致（或为 "
                 "GET /api/v1/me 返回的脱敏值），否则 422 identity_mismatch 并指明字段，不生成任何数据。尚未核验的项"
                 "（如仅验证手机号的市民的姓名）按所填保存。表单声明 x-subject: other 的事项（为他人申请）这些字段"
                 "按所填保存。标注 format: id-number 的字段按 GB 11643 校验位检查，不符为 422 form_invalid。")


@bp.post("/applications")
@doc("提交申请（单个事项或一件事）；带 Idempotency-Key 时重复提交只生成一件", body=ApplicationCreate,
     response=ApplicationRead, status=201, errors=(401, 403, 404, 409, 422, 503), tag="applications",
     secured="citizen", idempotent=True,
     description="材料可为上传文件（file_id）、电子证照（license_id，免提交）、告知承诺（commitment）或容缺后补"
                 "（deferred）。一件事按部门拆分为子办件（sub_cases）。跨省通办：applicant_region 与 handling_region "
                 "不在同一省时须为跨省通办事项；receiving_region 为异地代收窗口。" + IDENTITY_RULE
                 + "应答中 applicant 为申请人、agent 为代为提交的代办人（本人提交时为 null），均脱敏。由草稿提交（"
                 "draft_id）时，表单或收件地址中与草稿应答所示脱敏值相同的值视为草稿中保存的原值。"
                 "办理时限落入尚未导入节假日安排的年份时为 503 calendar_missing（带 Retry-After），不生成办件，"
                 "导入后可用同一 Idempotency-Key 重试。")
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
@doc("办件详情：时间线、子办件、到期日、sla_state、寄递单号、申请人与代办人（脱敏）；?reveal=true 本人查看明文表单"
     "（记入审计）", response=ApplicationRead, errors=(401, 404), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def get_application(request, application_id: str):
    actor = request.ctx.actor
    return respond(await service.read(actor=actor, application_id=application_id, reveal=_reveal(request),
                                      redis=request.app.ctx.deps.redis))


@bp.post("/applications/<application_id:id>/supplement")
@doc("补正：提交要求补正的材料或表单字段（也用于补交容缺材料）", body=SupplementIn, response=ApplicationRead,
     errors=(401, 404, 409, 422), tag="applications", secured="citizen",
     description="表单字段与原表单合并后重新校验；申请人身份字段不能改为他人的信息（422 identity_mismatch）；与应答所示"
                 "脱敏值相同的值视为原值不变。")
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
    return respond(await service.withdraw(actor=request.ctx.actor, application_id=application_id,
                                          redis=request.app.ctx.deps.redis))


@bp.post("/applications/<application_id:id>/rating")
@doc("好差评：办结后评价一次（1-5 分）；1、2 分生成整改单", body=RatingIn, status=201, errors=(401, 404, 409, 422),
     tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def rate(request, application_id: str):
    body = parse(request, RatingIn)
    answer = await ratings.rate(actor=request.ctx.actor, application_id=application_id, score=body.score,
                                comment=body.comment)
    return respond(answer, status=201)


DRAFT_RULES = ("草稿可缺必填项，但已填写的须符合事项表单（类型、格式、枚举、身份证号校验位；未知字段为 422 "
               "form_invalid）；item_code 或 bundle_code 不存在为 422；材料须为该事项的材料（422 materials_invalid）；"
               "内容（UTF-8 JSON）超过 64 KiB 为 413 draft_too_large；被拒绝时草稿不变。申请人身份字段由实名信息预填"
               "（规则同提交申请）。应答中姓名、证件号、手机号、地址、账号均脱敏（masked: true）；保存时与应答所示"
               "脱敏值相同的值视为草稿原值。草稿整体加密保存。")


@bp.post("/drafts")
@doc("保存草稿（可在另一平台或由代办人继续填写后提交）", body=DraftIn, response=DraftRead, status=201,
     errors=(401, 409, 413, 422), tag="applications", secured="citizen", description=DRAFT_RULES)
@citizen_required(scope=SCOPE)
async def create_draft(request):
    body = parse(request, DraftIn)
    answer = await drafts.save(actor=request.ctx.actor, body=body, redis=request.app.ctx.deps.redis)
    return respond(answer, status=201)


@bp.get("/drafts")
@doc("我的草稿（脱敏），最近保存的在前", response=DraftPage, errors=(401,), tag="applications", secured="citizen",
     description="代办人查看记入审计。")
@citizen_required(scope=SCOPE)
async def list_drafts(request):
    page = await drafts.list_mine(actor=request.ctx.actor, paging=page_request(request.args))
    return respond(page.body())


@bp.get("/drafts/<draft_id:id>")
@doc("草稿详情（脱敏）；?reveal=true 本人查看明文（记入审计，代办人不可）", response=DraftRead, errors=(401, 404),
     tag="applications", secured="citizen", query={"reveal": "true：本人查看明文"})
@citizen_required(scope=SCOPE)
async def get_draft(request, draft_id: str):
    return respond(await drafts.read(actor=request.ctx.actor, draft_id=draft_id, reveal=_reveal(request)))


@bp.put("/drafts/<draft_id:id>")
@doc("更新草稿（整体替换）", body=DraftIn, response=DraftRead, errors=(401, 404, 413, 422), tag="applications",
     secured="citizen", description=DRAFT_RULES)
@citizen_required(scope=SCOPE)
async def update_draft(request, draft_id: str):
    body = parse(request, DraftIn)
    return respond(await drafts.save(actor=request.ctx.actor, body=body, redis=request.app.ctx.deps.redis,
                                     draft_id=draft_id))


@bp.delete("/drafts/<draft_id:id>")
@doc("删除草稿", status=204, errors=(401, 404), tag="applications", secured="citizen")
@citizen_required(scope=SCOPE)
async def delete_draft(request, draft_id: str):
    await drafts.delete(citizen_id=request.ctx.actor.citizen_id, draft_id=draft_id)
    return empty()

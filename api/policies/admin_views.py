"""Admin routes: policies (draft, preview, publish, archive), campaigns and their figures, the attribute
registry, and citizens' correction requests."""

from __future__ import annotations

from sanic import Blueprint

from api.core import idempotency
from api.core.guards import admin_required
from api.core.http import doc, json_object, parse, respond
from api.core.pagination import page_request
from api.policies import attributes, corrections, service
from api.policies.schemas import (
    AttributePage,
    CampaignCreated,
    CampaignPage,
    CampaignRead,
    CorrectionPage,
    PolicyCreate,
    PolicyPage,
    PolicyRead,
    PreviewRead,
)

bp = Blueprint("policies_admin", url_prefix="/api/v1/admin")
POLICY_ROLES = ("policy_admin", "super_admin")


def _policy(p) -> dict:
    return {k: getattr(p, k) for k in PolicyRead.model_fields}


@bp.post("/policies")
@doc("新建政策草稿（规则按属性目录校验，错误为 422 并指明路径）", body=PolicyCreate, response=PolicyRead, status=201,
     errors=(401, 403, 422), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def create_policy(request):
    body = parse(request, PolicyCreate)
    return respond(_policy(await service.create(actor=request.ctx.actor, data=body.model_dump())), status=201)


@bp.get("/policies")
@doc("政策列表", response=PolicyPage, errors=(401, 403, 422), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def list_policies(request):
    page = await service.page(paging=page_request(request.args), status=request.args.get("status"))
    return respond(page.body(_policy))


@bp.get("/policies/<policy_id:id>")
@doc("政策详情", response=PolicyRead, errors=(401, 403, 404), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def read_policy(request, policy_id: str):
    return respond(_policy(await service.get(policy_id)))


@bp.post("/policies/<policy_id:id>/preview")
@doc("预览：当日符合人数、脱敏样例与耗时", response=PreviewRead, errors=(401, 403, 404), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def preview(request, policy_id: str):
    return respond(await service.preview(actor=request.ctx.actor, policy_id=policy_id))


@bp.post("/policies/<policy_id:id>/publish")
@doc("发布（或对已发布政策再次运行，只触达新符合的人）：后台匹配、记录享受、推送；带 Idempotency-Key",
     response=CampaignCreated, status=202, errors=(401, 403, 404, 409), tag="policies-admin", secured="admin",
     body_media={"application/json": {"schema": {"type": "object",
                                                  "description": "可省略；与 Idempotency-Key 一同比对"}}},
     body_required=False, idempotent=True)
@admin_required(*POLICY_ROLES)
async def publish(request, policy_id: str):
    key = idempotency.check_key(request.headers.get("idempotency-key"))
    raw = json_object(request)
    answer = await service.publish(actor=request.ctx.actor, policy_id=policy_id, idempotency_key=key, raw=raw,
                                   jobs=request.app.ctx.deps.jobs, queue_name=request.app.ctx.deps.settings.job_queue)
    return respond(answer, status=202)


@bp.post("/policies/<policy_id:id>/archive")
@doc("归档政策（已记录的享受不受影响）", response=PolicyRead, errors=(401, 403, 404, 409), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def archive(request, policy_id: str):
    return respond(_policy(await service.archive(actor=request.ctx.actor, policy_id=policy_id)))


@bp.get("/campaigns")
@doc("推送批次列表，最新在前；可按 policy_id、status（queued、running、paused、completed、cancelled、failed）筛选，"
     "status 取值不在其中为 422；每项与推送批次详情同形", response=CampaignPage, errors=(401, 403, 422),
     tag="policies-admin", secured="admin",
     query={"policy_id": "只列此政策的批次", "status": "queued、running、paused、completed、cancelled、failed 之一"})
@admin_required(*POLICY_ROLES)
async def list_campaigns(request):
    page = await service.campaigns_page(paging=page_request(request.args), policy_id=request.args.get("policy_id"),
                                        status=request.args.get("status"))
    return respond(page.body())


@bp.get("/campaigns/<campaign_id:id>")
@doc("推送批次进度与数据：匹配、享受、排队、各渠道已发送/送达/失败（按原因）、已读", response=CampaignRead,
     errors=(401, 403, 404), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def read_campaign(request, campaign_id: str):
    return respond(await service.campaign_figures(campaign_id))


@bp.post("/campaigns/<campaign_id:id>/<action:pause|resume|cancel>")
@doc("暂停、继续或取消推送批次", response=CampaignRead, errors=(401, 403, 404, 409), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def control(request, campaign_id: str, action: str):
    settings = request.app.ctx.deps.settings
    await service.control(actor=request.ctx.actor, campaign_id=campaign_id, action=action,
                          jobs=request.app.ctx.deps.jobs,
                          senders=settings.push_senders, lease_seconds=settings.delivery_lease_seconds)
    return respond(await service.campaign_figures(campaign_id))


@bp.get("/attributes")
@doc("属性目录：规则可用的字段、类型、来源数据集与推导方式", response=AttributePage, errors=(401, 403),
     tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def attribute_registry(request):
    return respond({"items": attributes.catalogue()})


@bp.get("/registry-corrections")
@doc("市民提交的登记数据补正申请", response=CorrectionPage, errors=(401, 403, 422), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def list_corrections(request):
    return respond((await corrections.page(actor=request.ctx.actor, paging=page_request(request.args))).body())

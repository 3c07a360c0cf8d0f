"""Admin routes: policies (draft, preview, publish, archive), campaigns and their figures, the attribute
registry, and citizens' correction requests."""

from __future__ import annotations

from sanic import Blueprint
from sanic_ext import openapi

from api.core import idempotency
from api.core.guards import admin_required
from api.core.http import doc, json_object, parse, respond
from api.core.openapi import ModelSchema
from api.core.pagination import page_request
from api.policies import attributes, audience, corrections, service
from api.policies.schemas import (
    AttributePage,
    CampaignCreated,
    CampaignPage,
    CampaignRead,
    CorrectionPage,
    ExplainRead,
    PolicyCreate,
    PolicyPage,
    PolicyRead,
    PolicyUpdate,
    PreviewRead,
    RuleExplainRequest,
    RulePreviewRequest,
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
@doc("政策列表，最新在前；可按 status（draft、published、archived）筛选，取值不在其中为 422；"
     "可按 family_id 列出同一政策的各版本", response=PolicyPage, errors=(401, 403, 422), tag="policies-admin",
     secured="admin",
     query={"status": "draft、published、archived 之一", "family_id": "只列此政策（第一版的 id）的各版本"})
@admin_required(*POLICY_ROLES)
async def list_policies(request):
    page = await service.page(paging=page_request(request.args), status=request.args.get("status"),
                              family_id=request.args.get("family_id"))
    return respond(page.body(_policy))


@bp.patch("/policies/<policy_id:id>")
@openapi.response(201, {"application/json": ModelSchema(PolicyRead, "serialization")},
                  "已发布的政策不被改写：生成下一版本的草稿（version 加 1，previous_id 为原政策）")
@doc("修改政策：请求体为新建字段的任意子集（未知字段、规则不合属性目录为 422 并指明路径）。草稿就地修改（200）；"
     "已发布的政策生成下一版本的草稿（201），原版本继续有效，新版本发布时原版本归档（已记录的享受不受影响），已被早先版本"
     "触达的人不会被后续版本再次记录享受或推送。同一政策只能有一个待发布的新版本：已有时修改已发布版本为 409 "
     "draft_exists（消息中给出该草稿的 id，请改为修改该草稿）；已归档为 409 policy_archived；草稿的发布正等待审批时为 "
     "409 campaign_active", body=PolicyUpdate, response=PolicyRead, errors=(401, 403, 404, 409), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def update_policy(request, policy_id: str):
    body = parse(request, PolicyUpdate)
    policy, new_version = await service.update(actor=request.ctx.actor, policy_id=policy_id,
                                               changes=body.model_dump(exclude_unset=True))
    return respond(_policy(policy), status=201 if new_version else 200)


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
@doc("发布（或对已发布政策再次运行，只触达新符合的人）：后台匹配、记录享受、推送；带 Idempotency-Key。发布新版本即归档"
     "上一版本。按当日数据统计的受众超过双人复核阈值（MAKER_CHECKER_THRESHOLD）时，批次为 awaiting_approval：不匹配、"
     "不记录、不推送，政策保持原状态，须另一名管理员批准（POST /api/v1/admin/campaigns/{id}/approve）；应答的 status "
     "与 matched 说明之。同一政策（含各版本）已有进行中或待审批的批次为 409 campaign_active",
     response=CampaignCreated, status=202, errors=(401, 403, 404, 409), tag="policies-admin", secured="admin",
     body_media={"application/json": {"schema": {"type": "object",
                                                  "description": "可省略；与 Idempotency-Key 一同比对"}}},
     body_required=False, idempotent=True)
@admin_required(*POLICY_ROLES)
async def publish(request, policy_id: str):
    key = idempotency.check_key(request.headers.get("idempotency-key"))
    raw = json_object(request)
    settings = request.app.ctx.deps.settings
    answer = await service.publish(actor=request.ctx.actor, policy_id=policy_id, idempotency_key=key, raw=raw,
                                   jobs=request.app.ctx.deps.jobs, queue_name=settings.job_queue,
                                   threshold=settings.maker_checker_threshold)
    return respond(answer, status=202)


@bp.post("/policies/<policy_id:id>/archive")
@doc("归档政策（已记录的享受不受影响）", response=PolicyRead, errors=(401, 403, 404, 409), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def archive(request, policy_id: str):
    return respond(_policy(await service.archive(actor=request.ctx.actor, policy_id=policy_id)))


@bp.get("/campaigns")
@doc("推送批次列表，最新在前；可按 policy_id、status（awaiting_approval、queued、running、paused、completed、"
     "cancelled、failed）筛选，status 取值不在其中为 422；每项与推送批次详情同形", response=CampaignPage,
     errors=(401, 403, 422), tag="policies-admin", secured="admin",
     query={"policy_id": "只列此政策的批次",
            "status": "awaiting_approval、queued、running、paused、completed、cancelled、failed 之一"})
@admin_required(*POLICY_ROLES)
async def list_campaigns(request):
    page = await service.campaigns_page(paging=page_request(request.args), policy_id=request.args.get("policy_id"),
                                        status=request.args.get("status"))
    return respond(page.body())


@bp.get("/campaigns/<campaign_id:id>")
@doc("推送批次进度与数据：匹配、享受、排队、各渠道已发送/送达/失败（按原因）、待发送、已读"
     "（匹配阶段 stage=match 进行中时，待发送随逐段写入增加）", response=CampaignRead,
     errors=(401, 403, 404), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def read_campaign(request, campaign_id: str):
    return respond(await service.campaign_figures(campaign_id))


@bp.post("/campaigns/<campaign_id:id>/approve")
@doc("双人复核：另一名管理员批准待审批（awaiting_approval）的批次，批次即排队开始（政策为草稿时随之发布）；记入审计"
     "（campaign.approve，含批准者）。发布者本人批准为 403 maker_checker（须由另一名管理员批准）；批次不在待审批状态为 "
     "409 invalid_transition", response=CampaignRead, errors=(401, 403, 404, 409), tag="policies-admin",
     secured="admin")
@admin_required(*POLICY_ROLES)
async def approve(request, campaign_id: str):
    await service.approve(actor=request.ctx.actor, campaign_id=campaign_id, jobs=request.app.ctx.deps.jobs)
    return respond(await service.campaign_figures(campaign_id))


@bp.post("/campaigns/<campaign_id:id>/<action:pause|resume|cancel>")
@doc("暂停、继续或取消推送批次（待审批的批次可取消）", response=CampaignRead, errors=(401, 403, 404, 409),
     tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def control(request, campaign_id: str, action: str):
    settings = request.app.ctx.deps.settings
    await service.control(actor=request.ctx.actor, campaign_id=campaign_id, action=action,
                          jobs=request.app.ctx.deps.jobs,
                          senders=settings.push_senders, lease_seconds=settings.delivery_lease_seconds)
    return respond(await service.campaign_figures(campaign_id))


@bp.post("/rules/preview")
@doc("未保存规则的实时受众：当日符合人数、脱敏样例与耗时（与政策预览同形）；规则不合属性目录为 422 并指明路径；"
     "读取登记数据，记入审计（rule.preview）", body=RulePreviewRequest, response=PreviewRead,
     errors=(401, 403), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def preview_rule(request):
    body = parse(request, RulePreviewRequest)
    return respond(await audience.preview_rule(actor=request.ctx.actor, rule=body.rule))


@bp.post("/rules/explain")
@doc("核对一人：人口登记中的某人是否符合规则，逐条件给出所用数据（reasons 与政策计算器同形）及脱敏的姓名、证件号；"
     "证件号格式或校验位有误为 422；登记中没有此人为 404 person_not_found；读取个人数据，记入审计"
     "（registry.person.explain，对象为脱敏证件号）", body=RuleExplainRequest, response=ExplainRead,
     errors=(401, 403, 404), tag="policies-admin", secured="admin")
@admin_required(*POLICY_ROLES)
async def explain_rule(request):
    body = parse(request, RuleExplainRequest)
    return respond(await audience.explain_person(actor=request.ctx.actor, rule=body.rule, id_number=body.id_number))


@bp.get("/attributes")
@doc("属性目录（规则构建器所需）：每个字段的类型、中文名、来源数据集与推导方式，可用运算（中文名与值的形态）、枚举取值"
     "（含中文名）、整数上下限、数字代码位数与日期格式", response=AttributePage, errors=(401, 403),
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

"""Citizen routes: the policy calculator, my grants, registry correction requests."""

from __future__ import annotations

from sanic import Blueprint

from api.core.db import reads_replica
from api.core.guards import citizen_required
from api.core.http import doc, parse, respond
from api.core.pagination import page_request
from api.policies import calculator, corrections, service
from api.policies.schemas import (
    CorrectionCreate,
    CorrectionRead,
    EligiblePage,
    GrantPage,
    GrantRead,
    PublicPolicyRead,
)

bp = Blueprint("policies", url_prefix="/api/v1")


@bp.get("/policies/eligible")
@doc("政策计算器：每项已发布政策是否符合、逐条件说明及所用数据；数据缺失时说明缺哪个数据集、如何补正",
     response=EligiblePage, errors=(401, 403), tag="policies", secured="citizen")
@citizen_required(scope="benefits")
async def eligible(request):
    return respond(await calculator.eligible(citizen_id=request.ctx.actor.citizen_id))


# Public and the same for everyone: proxies and the mini-program may keep it briefly (an edit shows within a minute).
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


@bp.get("/policies/<policy_id:id>")
@doc("公开的政策页（推送打开的页面，无需登录）：标题、摘要、正文、待遇、申请入口、有效期。草稿或不存在为 404；"
     "已归档的政策仍可查看（status 为 archived），以便打开旧推送的市民看到原文及其已停止",
     response=PublicPolicyRead, errors=(404,), tag="policies")
@reads_replica
async def public_policy(request, policy_id: str):
    policy = await service.public(policy_id=policy_id)
    return respond({k: getattr(policy, k) for k in PublicPolicyRead.model_fields}, headers=PUBLIC_CACHE)


@bp.get("/grants")
@doc("免申即享：无需申请、已直接为我办理的待遇", response=GrantPage, errors=(401, 422), tag="policies",
     secured="citizen")
@citizen_required(scope="benefits")
async def grants(request):
    page = await calculator.grants_page(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body())


@bp.get("/grants/<grant_id:id>")
@doc("免申即享：我的一项待遇（待遇消息的 ref 打开的页面）；他人的为 404", response=GrantRead, errors=(401, 404),
     tag="policies", secured="citizen")
@citizen_required(scope="benefits")
async def grant(request, grant_id: str):
    return respond(await calculator.own_grant(citizen_id=request.ctx.actor.citizen_id, grant_id=grant_id))


@bp.post("/registry-corrections")
@doc("登记数据补正申请：送达该数据集的主管部门", body=CorrectionCreate, response=CorrectionRead, status=201,
     errors=(401, 422), tag="policies", secured="citizen")
@citizen_required(scope="benefits")
async def create_correction(request):
    body = parse(request, CorrectionCreate)
    correction = await corrections.create(actor=request.ctx.actor, data=body.model_dump())
    return respond({k: getattr(correction, k) for k in ("id", "dataset", "field", "policy_id", "status",
                                                        "created_at")}, status=201)

"""The citizen's own routes: profile, real name, delegations (亲友代办)."""

from __future__ import annotations

from sanic import Blueprint

from api.citizens import profile_cache, service
from api.citizens.schemas import (
    CitizenRead,
    DelegationCreate,
    DelegationPage,
    DelegationRead,
    RealNameCreate,
    RealNameRead,
)
from api.core.guards import citizen_required
from api.core.http import doc, parse, respond
from api.core.pagination import page_request

bp = Blueprint("citizens", url_prefix="/api/v1")


@bp.get("/me")
@doc("当前市民（个人信息默认脱敏；本人可用 ?reveal=true 查看明文，此次读取会记入审计）", response=CitizenRead,
     errors=(401, 403), tag="citizens", secured="citizen")
@citizen_required(scope="profile", also_read=profile_cache.key)
async def me(request):
    actor = request.ctx.actor
    reveal = request.args.get("reveal", "").lower() in ("1", "true") and not actor.is_agent
    return respond(await service.read_profile(actor=actor, redis=request.app.ctx.deps.redis, reveal=reveal,
                                              cached=request.ctx.also_read))


@bp.post("/me/real-name")
@doc("实名认证：姓名与身份证号经户籍库核验后 assurance_level 升为 2；每人每天 5 次", body=RealNameCreate,
     response=RealNameRead, errors=(401, 409, 422, 429), tag="citizens", secured="citizen")
@citizen_required()
async def real_name(request):
    body = parse(request, RealNameCreate)
    actor, s = request.ctx.actor, request.app.ctx.deps.settings
    citizen = await service.verify_real_name(actor=actor, name=body.name, id_number=body.id_number,
                                             redis=request.app.ctx.deps.redis, tries_per_day=s.real_name_tries_per_day)
    answer = await service.profile(citizen_id=citizen.id, redis=request.app.ctx.deps.redis)
    return respond({"assurance_level": citizen.assurance_level, "citizen": answer})


@bp.post("/me/delegations")
@doc("邀请亲友代办：按手机号邀请，指定授权范围和到期时间", body=DelegationCreate, response=DelegationRead, status=201,
     errors=(401, 403, 409, 422), tag="citizens", secured="citizen")
@citizen_required()
async def create_delegation(request):
    body = parse(request, DelegationCreate)
    delegation = await service.create_delegation(actor=request.ctx.actor, agent_phone=body.agent_phone,
                                                 scopes=body.scopes, expires_at=body.expires_at)
    return respond(delegation, status=201)


@bp.get("/me/delegations")
@doc("我给出的和我接受的代办授权", response=DelegationPage, errors=(401,), tag="citizens", secured="citizen")
@citizen_required()
async def list_delegations(request):
    page = await service.list_delegations(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body())


@bp.get("/me/delegations/received")
@doc("我收到的代办邀请与授权（我为代办人）：发往我已验证手机号的待接受邀请，以及生效、已终止、已过期、已拒绝的授权；"
     "委托人姓名脱敏", response=DelegationPage, errors=(401,), tag="citizens", secured="citizen")
@citizen_required()
async def received_delegations(request):
    page = await service.received_delegations(citizen_id=request.ctx.actor.citizen_id,
                                              paging=page_request(request.args))
    return respond(page.body())


@bp.get("/delegations/<delegation_id:id>")
@doc("一份代办授权或邀请：委托人本人，或受邀手机号的本人（接受后为代办人本人）可读，其他人为 404；"
     "代办消息的 ref 打开此处", response=DelegationRead, errors=(401, 404), tag="citizens", secured="citizen")
@citizen_required()
async def read_delegation(request, delegation_id: str):
    return respond(await service.read_delegation(citizen_id=request.ctx.actor.citizen_id, delegation_id=delegation_id))


@bp.post("/delegations/<delegation_id:id>/accept")
@doc("代办人接受授权（须为受邀手机号的本人）；之后以 X-On-Behalf-Of: <市民 id> 代办", response=DelegationRead,
     errors=(401, 404, 409), tag="citizens", secured="citizen")
@citizen_required()
async def accept_delegation(request, delegation_id: str):
    return respond(await service.accept_delegation(actor=request.ctx.actor, delegation_id=delegation_id))


@bp.post("/delegations/<delegation_id:id>/decline")
@doc("受邀人拒绝代办邀请（须为受邀手机号的本人，其他人为 404）；已接受、已终止或已过期的邀请为 409 "
     "delegation_not_pending", response=DelegationRead, errors=(401, 404, 409), tag="citizens", secured="citizen")
@citizen_required()
async def decline_delegation(request, delegation_id: str):
    return respond(await service.decline_delegation(actor=request.ctx.actor, delegation_id=delegation_id))


@bp.post("/delegations/<delegation_id:id>/revoke")
@doc("委托人或代办人终止授权", response=DelegationRead, errors=(401, 404), tag="citizens", secured="citizen")
@citizen_required()
async def revoke_delegation(request, delegation_id: str):
    return respond(await service.revoke_delegation(actor=request.ctx.actor, delegation_id=delegation_id))

"""One person, one code: my code and its status, the published keys and revocations, scanning terminals."""

from __future__ import annotations

from sanic import Blueprint

from api.codes import scans, service, state_cache, terminals
from api.codes.guards import terminal_required
from api.codes.schemas import (
    CodeHolderRead,
    CodeRead,
    CodeRevoke,
    CodeStatusRead,
    HolderStatusRead,
    Jwks,
    MyScanPage,
    RevocationPage,
    ScanBatch,
    ScanBatchRead,
    ScanRead,
    ScanRequest,
    TerminalCreate,
    TerminalPage,
    TerminalRead,
)
from api.core.errors import ValidationFailed
from api.core.guards import admin_required, citizen_required
from api.core.http import doc, parse, respond
from api.core.pagination import page_request

bp = Blueprint("codes", url_prefix="/api/v1")
admin_bp = Blueprint("codes_admin", url_prefix="/api/v1/admin")
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/codes/me")
@doc("一人一码：短时有效的签名码（政务服务、电子健康卡、乘车码、社保卡合一），约每分钟刷新", response=CodeRead,
     errors=(401, 403), tag="codes", secured="citizen")
@citizen_required(scope="codes", also_read=state_cache.key)
async def my_code(request):
    actor = request.ctx.actor
    code = await service.issue(deps=request.app.ctx.deps, citizen_id=actor.citizen_id, cached=request.ctx.also_read)
    return respond(code, headers=NO_STORE)


@bp.get("/codes/me/status")
@doc("我的码状态：正常、已冻结（本人）或已停用（管理部门）", response=CodeStatusRead, errors=(401,), tag="codes",
     secured="citizen")
@citizen_required()
async def my_code_status(request):
    return respond(await service.status(citizen_id=request.ctx.actor.citizen_id))


@bp.get("/codes/holders/<holder_id:id>")
@doc("我的码状态及冻结、停用原因（一人一码消息的 ref 打开的页面）：id 为本人的市民 id，他人的为 404",
     response=CodeHolderRead, errors=(401, 404), tag="codes", secured="citizen")
@citizen_required()
async def my_holder(request, holder_id: str):
    return respond(await service.holder_of(citizen_id=request.ctx.actor.citizen_id, holder_id=holder_id))


@bp.post("/codes/me/freeze")
@doc("冻结我的码（手机丢失）：已出示的码立即失效，其他设备上的登录全部退出；向本人发送一条安全提醒"
     "（如非本人操作请联系 12345），已冻结时再次冻结不再发送", response=CodeStatusRead,
     errors=(401, 403), tag="codes", secured="citizen")
@citizen_required()
async def freeze(request):
    return respond(await service.freeze(deps=request.app.ctx.deps, actor=request.ctx.actor))


@bp.post("/codes/me/unfreeze")
@doc("解冻我的码（冻结前签发的码仍然无效）", response=CodeStatusRead, errors=(401, 403, 409), tag="codes",
     secured="citizen")
@citizen_required()
async def unfreeze(request):
    return respond(await service.unfreeze(deps=request.app.ctx.deps, actor=request.ctx.actor))


@bp.get("/codes/me/scans")
@doc("谁扫过我的码：终端、场景、部门、结果", response=MyScanPage, errors=(401,), tag="codes", secured="citizen")
@citizen_required()
async def my_scans(request):
    page = await service.my_scans(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body())


@bp.get("/codes/keys")
@doc("验码公钥（JWKS）：当前、下一把及尚有未过期码的已退役密钥，附各自签发时段", response=Jwks, tag="codes")
async def keys(request):
    deps = request.app.ctx.deps
    return respond(await service.runtime(deps).keyring.jwks(deps.clock()),
                   headers={"Cache-Control": "public, max-age=300"})


@bp.get("/codes/revocations")
@doc("终端须拒绝的码（since 为上次返回的 next_since）", response=RevocationPage, errors=(401, 422), tag="codes",
     secured="terminal")
@terminal_required
async def revocations(request):
    since = request.args.get("since", "0")
    if not since.isdigit() or len(since) > 18:
        raise ValidationFailed(fields={"since": "须为上次返回的 next_since"})
    return respond(await service.revocations(since=int(since), now=request.app.ctx.deps.clock()))


@bp.post("/scan")
@doc("终端在线验码：只返回本场景所需信息", body=ScanRequest, response=ScanRead, errors=(401, 403, 409, 422),
     tag="codes", secured="terminal")
@terminal_required
async def scan(request):
    body = parse(request, ScanRequest)
    answer = await scans.scan(deps=request.app.ctx.deps, terminal=request.ctx.terminal, payload=body.payload,
                              scene=body.scene)
    return respond(answer, headers=NO_STORE)


@bp.post("/scans/batch")
@doc("离线终端上传已核验的扫码记录：可重复上传，同一码两次使用会被标记", body=ScanBatch, response=ScanBatchRead,
     errors=(401, 422), tag="codes", secured="terminal")
@terminal_required
async def scan_batch(request):
    body = parse(request, ScanBatch)
    return respond(await scans.upload_batch(deps=request.app.ctx.deps, terminal=request.ctx.terminal,
                                            items=[s.model_dump() for s in body.scans]))


@admin_bp.post("/terminals")
@doc("登记扫码终端（一个场景、一个部门）；密钥只返回这一次", body=TerminalCreate, response=TerminalRead, status=201,
     errors=(401, 403, 422), tag="codes", secured="admin")
@admin_required("super_admin")
async def register_terminal(request):
    body = parse(request, TerminalCreate)
    created = await terminals.register(hasher=service.runtime(request.app.ctx.deps).hasher, actor=request.ctx.actor,
                                       **body.model_dump())
    return respond(created, status=201, headers=NO_STORE)


@admin_bp.get("/terminals")
@doc("扫码终端列表", response=TerminalPage, errors=(401, 403), tag="codes", secured="admin")
@admin_required("super_admin", "auditor")
async def list_terminals(request):
    page = await terminals.page(scene=request.args.get("scene"), paging=page_request(request.args))
    return respond(page.body())


@admin_bp.post("/terminals/<terminal_id:id>/disable")
@doc("停用扫码终端", response=TerminalRead, errors=(401, 403, 404), tag="codes", secured="admin")
@admin_required("super_admin")
async def disable_terminal(request, terminal_id: str):
    return respond(await terminals.disable(actor=request.ctx.actor, redis=request.app.ctx.deps.redis,
                                               terminal_id=terminal_id))


@admin_bp.post("/codes/holders/<citizen_id:id>/revoke")
@doc("停用某市民的码（已出示的码立即失效）；向该市民发送一条消息，含停用原因", body=CodeRevoke,
     response=HolderStatusRead, errors=(401, 403, 404, 422), tag="codes", secured="admin")
@admin_required("super_admin")
async def revoke_holder(request, citizen_id: str):
    body = parse(request, CodeRevoke)
    return respond(await service.admin_revoke(deps=request.app.ctx.deps, actor=request.ctx.actor,
                                              citizen_id=citizen_id, reason=body.reason))


@admin_bp.post("/codes/holders/<citizen_id:id>/reinstate")
@doc("恢复被停用的码", response=HolderStatusRead, errors=(401, 403, 404), tag="codes", secured="admin")
@admin_required("super_admin")
async def reinstate_holder(request, citizen_id: str):
    return respond(await service.admin_reinstate(deps=request.app.ctx.deps, actor=request.ctx.actor,
                                                 citizen_id=citizen_id))

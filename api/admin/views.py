"""Staff sign-in and the admin routes that belong to no single domain (audit log)."""

from __future__ import annotations

from sanic import Blueprint, empty

from api.admin import service
from api.admin.schemas import AdminLogin, AdminRead, AdminRefresh, AdminTokens, AuditPage
from api.core import audit, ratelimit
from api.core.http import doc, parse, respond
from api.core.pagination import page_request
from auth import sessions, tokens
from auth.guards import admin_required
from auth.views import client_ip

bp = Blueprint("admin", url_prefix="/api/v1/admin")


def _admin_read(account) -> dict:
    return {"username": account.username, "roles": account.roles, "depts": account.depts}


@bp.post("/auth/login")
@doc("工作人员登录（连续失败 5 次锁定 15 分钟）", body=AdminLogin, response=AdminTokens, errors=(401, 422, 423, 429),
     tag="admin")
async def login(request):
    body = parse(request, AdminLogin)
    s, ctx = request.app.ctx.deps.settings, request.app.ctx.deps
    await ratelimit.hit(ctx.redis, bucket=f"admin-login:ip:{client_ip(request)}", limit=s.login_rate_per_ip,
                        window_seconds=s.login_rate_window_seconds)
    try:
        account = await service.authenticate(username=body.username, password=body.password,
                                             max_failures=s.admin_max_failed_logins, lock_minutes=s.admin_lock_minutes)
    except (service.InvalidCredentials, service.AccountLocked) as exc:
        await audit.record(actor_type="admin", actor_id=f"username:{body.username[:40]}", action="admin.login.failed",
                           request_id=request.ctx.request_id, ip=client_ip(request), detail={"code": exc.code})
        raise
    pair = await sessions.admin_pair(deps=ctx, admin=account)
    await audit.record(actor_type="admin", actor_id=account.id, action="admin.login", target_type="admin",
                       target_id=account.id, request_id=request.ctx.request_id, ip=client_ip(request))
    return respond({**pair, "admin": _admin_read(account)})


@bp.post("/auth/refresh")
@doc("刷新工作人员令牌（轮换，重复使用将注销会话）", body=AdminRefresh, response=AdminTokens,
     errors=(401, 422), tag="admin")
async def refresh(request):
    body = parse(request, AdminRefresh)
    s, ctx = request.app.ctx.deps.settings, request.app.ctx.deps
    row = await tokens.rotate_refresh(token=body.refresh_token, subject_type="admin",
                                      ttl_seconds=s.admin_refresh_token_ttl_seconds, redis=ctx.redis,
                                      access_ttl=s.access_token_ttl_seconds)
    account = await service.get(admin_id=row.subject_id)
    pair = await sessions.admin_pair(deps=ctx, admin=account, family_id=row.family_id)
    return respond({**pair, "admin": _admin_read(account)})


@bp.post("/auth/logout")
@doc("工作人员退出登录", status=204, errors=(401,), tag="admin", secured="admin")
@admin_required()
async def logout(request):
    await tokens.revoke_family(family_id=request.ctx.actor.session_id, redis=request.app.ctx.deps.redis,
                               access_ttl=request.app.ctx.deps.settings.access_token_ttl_seconds)
    return empty()


@bp.get("/me")
@doc("当前工作人员", response=AdminRead, errors=(401,), tag="admin", secured="admin")
@admin_required()
async def me(request):
    return respond(_admin_read(await service.get(admin_id=request.ctx.actor.actor_id)))


@bp.get("/audit-logs")
@doc("审计日志（管理操作与个人信息读取），最新在前；可按 actor_id、target_id、action 过滤", response=AuditPage,
     errors=(401, 403, 422), tag="admin", secured="admin")
@admin_required("auditor", "super_admin")
async def audit_logs(request):
    page = await audit.page(paging=page_request(request.args), actor_id=request.args.get("actor_id"),
                            target_id=request.args.get("target_id"), action=request.args.get("action"))
    await audit.record_for(request.ctx.actor, action="admin.audit.read", detail={"count": len(page.items)})
    return respond(page.body(_entry))


def _entry(row) -> dict:
    return {k: getattr(row, k) for k in ("id", "created_at", "actor_type", "actor_id", "on_behalf_of", "action",
                                         "target_type", "target_id", "request_id", "ip", "detail")}

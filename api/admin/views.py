"""The admin routes that belong to no single domain: the signed-in staff member, the audit log (staff sign-in is
in auth.views)."""

from __future__ import annotations

from sanic import Blueprint

from api.admin import service
from api.admin.schemas import AdminRead, AuditPage
from api.core.guards import admin_required
from api.core.http import doc, respond
from api.core.pagination import page_request

bp = Blueprint("admin", url_prefix="/api/v1/admin")


def _admin_read(account) -> dict:
    return {"username": account.username, "roles": account.roles, "depts": account.depts}


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
    page = await service.audit_log(actor=request.ctx.actor, paging=page_request(request.args),
                                   actor_id=request.args.get("actor_id"), target_id=request.args.get("target_id"),
                                   action=request.args.get("action"))
    return respond(page.body(_entry))


def _entry(row) -> dict:
    return {k: getattr(row, k) for k in ("id", "created_at", "actor_type", "actor_id", "on_behalf_of", "action",
                                         "target_type", "target_id", "request_id", "ip", "detail")}

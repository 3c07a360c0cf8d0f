"""The staff console's dashboard of case messages, for super admins, auditors and policy admins."""

from __future__ import annotations

from sanic import Blueprint

from api.core import charts
from api.core.db import reads_replica
from api.core.guards import admin_required
from api.core.http import doc, respond
from notifications import dashboard
from notifications.schemas import MessagesDashboard

bp = Blueprint("notifications_dashboards", url_prefix="/api/v1/admin/dashboards")


@bp.get("/messages")
@doc("消息看板：时间段内办件、证明、代办邀请等事件消息在各渠道的发送结果，与短信“是否送达未知”的核实情况",
     response=MessagesDashboard, errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="按消息写入时间（北京时间）筛选，不含推送批次的消息（见推送看板）。sent 含已送达，"
                 "pending 为排队或发送中，uncertain 为发送中途中断或应答丢失、平台是否收到未知的。"
                 "uncertain_settled 为经短信回执查询核实的，told_in_inbox_only 为仍未知、改由站内信告知的，"
                 "told_nowhere 为仍未知且对方没有账号（无站内信可告知）的，应为 0。"
                 "超级管理员、审计员与政策管理员可查看。")
@admin_required("super_admin", "auditor", "policy_admin")
@reads_replica
async def messages(request):
    return respond(await dashboard.event_messages(span=charts.day_range(request.args)))

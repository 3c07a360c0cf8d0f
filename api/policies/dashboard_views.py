"""The staff console's dashboard of campaign delivery funnels, for policy admins, super admins and auditors."""

from __future__ import annotations

from sanic import Blueprint

from api.core import charts
from api.core.db import reads_replica
from api.core.guards import admin_required
from api.core.http import doc, respond
from api.policies import dashboards
from api.policies.schemas import CampaignsDashboard

bp = Blueprint("policies_dashboards", url_prefix="/api/v1/admin/dashboards")


@bp.get("/campaigns")
@doc("推送看板：时间段内最近的推送批次（默认 10 个，最多 50 个）各自的送达漏斗", response=CampaignsDashboard,
     errors=(401, 403, 422), tag="admin", secured="admin",
     query={**charts.RANGE_QUERY, "limit": f"批次数，1 到 {dashboards.MAX_CAMPAIGNS}，默认 "
                                           f"{dashboards.DEFAULT_CAMPAIGNS}"},
     description="按批次创建时间（北京时间）筛选，最新在前。queued 为匹配后排队的消息数，sent 为已发出的（含已送达），"
                 "delivered 为已送达的，read 为已读的站内信，failed 为发送失败的。"
                 "政策管理员、超级管理员与审计员可查看。")
@admin_required("policy_admin", "super_admin", "auditor")
@reads_replica
async def campaigns(request):
    span = charts.day_range(request.args)
    return respond(await dashboards.funnels(span=span, limit=dashboards.campaign_count(request.args)))

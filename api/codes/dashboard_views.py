"""The staff console's dashboard of code scans, for super admins and auditors."""

from __future__ import annotations

from sanic import Blueprint

from api.codes import dashboards
from api.codes.schemas import ScansDashboard
from api.core import charts
from api.core.db import reads_replica
from api.core.guards import admin_required
from api.core.http import doc, respond

bp = Blueprint("codes_dashboards", url_prefix="/api/v1/admin/dashboards")


@bp.get("/scans")
@doc("扫码看板：各场景按一天中的小时（0 到 23 时，北京时间）统计的扫码次数，时间段内各天相加",
     response=ScansDashboard, errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="每个场景 24 个数：时间段内每天同一小时的扫码次数之和（看一天中的高峰；最长 366 天的逐时数据"
                 "过多，故不逐日列出）。按扫码时间计（离线终端补传的扫码按其扫码时间），通过与拒绝都计入，另给出"
                 "两者的合计。仅超级管理员与审计员可查看。")
@admin_required("super_admin", "auditor")
@reads_replica
async def scans(request):
    return respond(await dashboards.scans_per_hour(span=charts.day_range(request.args)))

"""The staff console's dashboard of certificates issued, for reviewers (their departments' types) and for super
admins and auditors (every type)."""

from __future__ import annotations

from sanic import Blueprint

from api.certificates import dashboards
from api.certificates.schemas import CertificatesDashboard
from api.core import charts
from api.core.db import reads_replica
from api.core.guards import admin_required
from api.core.http import doc, respond

bp = Blueprint("certificates_dashboards", url_prefix="/api/v1/admin/dashboards")


@bp.get("/certificates")
@doc("证明看板：时间段内每天出具的证明数，按证明类型分序列", response=CertificatesDashboard,
     errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="按出具时间（北京时间）归入各天，出具后被撤销的仍计入。审核人员只看到本人所在部门出具的证明类型，"
                 "超级管理员与审计员看到全部类型。")
@admin_required("reviewer", "super_admin", "auditor")
@reads_replica
async def certificates(request):
    return respond(await dashboards.issued_per_day(depts=charts.scope(request.ctx.actor),
                                                   span=charts.day_range(request.args)))

"""The staff console's dashboards of cases and ratings, for reviewers (their departments) and for super admins
and auditors (every department)."""

from __future__ import annotations

from sanic import Blueprint

from api.applications import dashboards
from api.applications.schemas import ApplicationsDashboard, RatingsDashboard, SlaDashboard
from api.core import charts
from api.core.db import reads_replica
from api.core.guards import admin_required
from api.core.http import doc, respond

bp = Blueprint("applications_dashboards", url_prefix="/api/v1/admin/dashboards")
ROLES = ("reviewer", "super_admin", "auditor")
_SCOPE = "审核人员只看到本人所在部门的办件，超级管理员与审计员看到全部部门。"


@bp.get("/applications")
@doc("办件看板：时间段内每天提交的办件数，按办件当前状态分序列", response=ApplicationsDashboard,
     errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="按办件（一件事的每个部门子件各计一件，其总件不计）的提交时间（北京时间）归入各天。" + _SCOPE)
@admin_required(*ROLES)
@reads_replica
async def applications(request):
    return respond(await dashboards.submitted_per_day(depts=charts.scope(request.ctx.actor),
                                                      span=charts.day_range(request.args)))


@bp.get("/sla")
@doc("办理时限看板：各部门未办结办件中正常、临期（warning）、超期、暂停计时的件数与占比", response=SlaDashboard,
     errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="统计时间段内提交、此刻仍未办结（submitted、supplement_requested、supplemented、accepted）的办件，"
                 "按其此刻的 sla_state；占比为 0 到 1 的小数。" + _SCOPE)
@admin_required(*ROLES)
@reads_replica
async def sla(request):
    return respond(await dashboards.sla_by_dept(depts=charts.scope(request.ctx.actor),
                                                span=charts.day_range(request.args), redis=request.app.ctx.deps.redis))


@bp.get("/ratings")
@doc("好差评看板：时间段内每天各评分（1 到 5）的评价数、平均分、差评数，以及此刻未关闭的整改单",
     response=RatingsDashboard, errors=(401, 403, 422), tag="admin", secured="admin", query=charts.RANGE_QUERY,
     description="评价按给出时间（北京时间）归入各天；一件事的评价计入其各子件所在的部门。整改单数为此刻的，"
                 "不受时间段限制。" + _SCOPE)
@admin_required(*ROLES)
@reads_replica
async def ratings(request):
    return respond(await dashboards.ratings_summary(depts=charts.scope(request.ctx.actor),
                                                    span=charts.day_range(request.args)))

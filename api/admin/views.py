"""The admin routes that belong to no single domain: the signed-in staff member, staff accounts (listing and
creating; changes that end sessions are in auth.views), the audit log and the working-day calendar."""

from __future__ import annotations

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError
from sanic import Blueprint

from api.admin import calendar, service
from api.admin.schemas import (
    AuditPage,
    CalendarLoad,
    CalendarYearRead,
    CalendarYears,
    ConsoleSettings,
    MeRead,
    StaffCreate,
    StaffPage,
    StaffRead,
)
from api.core import audit
from api.core.errors import ValidationFailed
from api.core.field_messages import pydantic_problem
from api.core.guards import admin_required
from api.core.http import binary, doc, parse, query_flag, respond
from api.core.pagination import page_request
from api.core.times import Timestamp
from api.core.workdays import BUILTIN_SOURCE

bp = Blueprint("admin", url_prefix="/api/v1/admin")


def _admin_read(account) -> dict:
    return {"username": account.username, "roles": account.roles, "depts": account.depts}


@bp.get("/me")
@doc("当前工作人员（含其 id）", response=MeRead, errors=(401,), tag="admin", secured="admin")
@admin_required()
async def me(request):
    account = await service.get(admin_id=request.ctx.actor.actor_id)
    return respond({**_admin_read(account), "id": account.id})


@bp.get("/settings")
@doc("管理后台需要知道的设置：双人复核阈值（发布确认时告知是否须另一名管理员批准）", response=ConsoleSettings,
     errors=(401,), tag="admin", secured="admin")
@admin_required()
async def console_settings(request):
    return respond({"maker_checker_threshold": request.app.ctx.deps.settings.maker_checker_threshold})


@bp.get("/staff")
@doc("工作人员账号列表，按用户名排序；可按角色、部门、是否停用筛选", response=StaffPage, errors=(401, 403, 422),
     tag="admin", secured="admin", description="超级管理员与审计员可查看。role 取值不在角色表中为 422。",
     query={"role": f"只列含此角色的账号：{'、'.join(service.ROLES)}", "dept": "只列含此部门的账号",
            "disabled": "true 只列已停用的，false 只列在用的"})
@admin_required("super_admin", "auditor")
async def list_staff(request):
    page = await service.list_staff(paging=page_request(request.args), role=request.args.get("role"),
                                    dept=request.args.get("dept"), disabled=query_flag(request, "disabled"))
    return respond(page.body(service.staff_read))


@bp.post("/staff")
@doc("新建工作人员账号", body=StaffCreate, response=StaffRead, status=201, errors=(401, 403, 409, 422), tag="admin",
     secured="admin",
     description="仅超级管理员可操作，记入审计日志（admin.staff.create，不含密码）。密码至少 12 位且不能与用户名相同；"
                 "用户名 3 到 64 位字母、数字或 _.-，与已有用户名相同（不区分大小写）为 409 username_taken；"
                 "审核人员（reviewer）须指定所属部门。新账号首次登录即用此密码。")
@admin_required("super_admin")
async def create_staff(request):
    body = parse(request, StaffCreate)
    account = await service.create_staff(actor=request.ctx.actor, username=body.username, password=body.password,
                                         roles=body.roles, depts=body.depts)
    return respond(service.staff_read(account), status=201)


_AUDIT_QUERY = {"actor_id": "操作者（工作人员账号 ID、市民 ID 或 username:登录名）", "target_id": "操作对象的 ID",
                "target_type": "操作对象的类型（application、citizen、import_job ……）",
                "action": "操作，如 application.read",
                "since": "起始时间（含；ISO 8601，带时区）", "until": "截止时间（不含；ISO 8601，带时区）"}
_TIME = TypeAdapter(Timestamp)


def _audit_filter(request) -> audit.AuditFilter:
    times = {}
    for name in ("since", "until"):
        value = request.args.get(name)
        if value is None:
            continue
        try:
            times[name] = _TIME.validate_python(value)
        except PydanticError as exc:
            raise ValidationFailed(fields={name: pydantic_problem(exc.errors()[0])}) from None
        if times[name].tzinfo is None:
            raise ValidationFailed(fields={name: "时间需带时区"})
    return audit.AuditFilter(**{k: request.args.get(k) for k in ("actor_id", "target_id", "target_type", "action")},
                             **times)


@bp.get("/audit-logs")
@doc("审计日志（管理操作与个人信息读取），最新在前；可按操作者、对象、操作与时间段过滤", response=AuditPage,
     errors=(401, 403, 422), tag="admin", secured="admin", query=_AUDIT_QUERY)
@admin_required("auditor", "super_admin")
async def audit_logs(request):
    page = await service.audit_log(actor=request.ctx.actor, paging=page_request(request.args),
                                   where=_audit_filter(request))
    return respond(page.body(_entry))


@bp.get("/audit-logs.csv")
@doc("导出审计日志（CSV，UTF-8 带 BOM，可直接用 Excel 打开），过滤条件同列表，最新在前",
     description=f"一次最多 {service.AUDIT_EXPORT_LIMIT} 行，更多请按时间段分次导出；导出本身记入审计日志"
                 "（admin.audit.export，含过滤条件）。以 =、+、-、@ 开头的单元格前加 ' 防止表格软件当作公式。",
     errors=(401, 403, 422), tag="admin", secured="admin", query=_AUDIT_QUERY, response_media=binary("text/csv"))
@admin_required("auditor", "super_admin")
async def export_audit_logs(request):
    pieces = await service.audit_export(actor=request.ctx.actor, where=_audit_filter(request))
    response = await request.respond(content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit-log.csv"', "Cache-Control": "no-store"})
    async for piece in pieces:
        await response.send(piece)
    await response.eof()


def _entry(row) -> dict:
    return {k: getattr(row, k) for k in ("id", "created_at", "actor_type", "actor_id", "on_behalf_of", "action",
                                         "target_type", "target_id", "request_id", "ip", "detail")}


_CALENDAR = (f"办理时限按工作日计算：内置 {BUILTIN_SOURCE} 所含年份的法定节假日与调休上班日；"
             "其后年份须在国务院办公厅发布当年节假日安排通知后导入（本接口或 python server.py load-calendar FILE），"
             "导入的年份覆盖同年的内置数据。没有日历的年份不做推算：办件提交、受理等需要计算时限时答 "
             "503 calendar_missing（Retry-After）；今天起按目录最长法定时限推算所需的年份缺失时 /readyz 的 "
             "checks.calendar 写明缺失的年份（仅今年本身缺失时 /readyz 答 503）。")


@bp.get("/calendar")
@doc("工作日历已覆盖的年份（内置与导入），以及就绪检查所需而缺失的年份", response=CalendarYears, errors=(401,),
     tag="admin", secured="admin", description=_CALENDAR)
@admin_required()
async def calendar_years(request):
    return respond(await calendar.known_years())


@bp.get("/calendar/<year:int>")
@doc("某一年的法定节假日与调休上班日（与导入的格式相同，可作为导入的样例）", response=CalendarYearRead,
     errors=(401, 404), tag="admin", secured="admin", description=_CALENDAR)
@admin_required()
async def calendar_year(request, year: int):
    return respond(await calendar.year_days(year=year))


@bp.put("/calendar/<year:int>")
@doc("导入某一年的法定节假日与调休上班日（整年替换）", body=CalendarLoad, response=CalendarYearRead,
     errors=(401, 403, 409, 422), tag="admin", secured="admin",
     description=_CALENDAR + "仅超级管理员可操作，记入审计日志（admin.calendar.load）。days 列出通知中的每个放假日"
                 "（kind holiday，含周末）与调休上班日（kind workday，须为周六或周日），name 为节日名称；"
                 "未列出的周一至周五上班、周六周日休息。各进程数秒内生效。")
@admin_required("super_admin")
async def load_calendar_year(request, year: int):
    body = parse(request, CalendarLoad)
    _, answer = await calendar.load_year(year=year, body=body, actor=request.ctx.actor)
    return respond(answer)

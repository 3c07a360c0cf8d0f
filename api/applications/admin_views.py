"""Staff routes: the department queue, a case, the workflow actions, rectifications and notices."""

from __future__ import annotations

from sanic import Blueprint, raw

from api.applications import ratings, staff
from api.applications.schemas import ApplicantRevealRead, QueuePage, RectificationPage, StaffActionIn, StaffCaseRead
from api.core.guards import admin_required
from api.core.http import binary, doc, parse, query_flag, respond
from api.core.pagination import page_request
from notifications import service as notifications
from notifications.schemas import StaffNoticePage

bp = Blueprint("applications_admin", url_prefix="/api/v1/admin")
STAFF = ("reviewer", "super_admin")


_QUEUE_QUERY = {"dept": "只列此部门的办件（须为本人所在部门，否则为空列表）", "status": "只列此状态的办件",
                "sla_state": "只列此时限状态的办件：on_track、warning、overdue、paused",
                "cross_province": "true 只列跨省通办的办件，false 只列非跨省的；其他取值为 422"}
@bp.get("/applications")
@doc("办件队列（仅本人所在部门）：已超期的未办结办件在前，其余在后，各按到期日；可按 dept、status、sla_state、"
     "cross_province 筛选", response=QueuePage, errors=(401, 403, 422), tag="admin", secured="admin",
     query=_QUEUE_QUERY,
     description="排序：先列已超期（sla_state 为 overdue）且未办结（submitted、supplement_requested、supplemented、"
                 "accepted）的办件，再列其余办件（含已办结的）；两部分内各按到期日从早到晚，同一到期日按 id。")
@admin_required(*STAFF)
async def queue(request):
    args = request.args
    page = await staff.queue(actor=request.ctx.actor, dept=args.get("dept"), status=args.get("status"),
                             sla_state=args.get("sla_state"), cross_province=query_flag(request, "cross_province"),
                             paging=page_request(args))
    return respond(page.body())


@bp.get("/applications/<case_id:id>")
@doc("办件详情（含明文表单，读取记入审计）与此刻允许的操作（allowed_actions）", response=StaffCaseRead,
     errors=(401, 403, 404), tag="admin",
     secured="admin",
     description="applicant 为申请人（脱敏：姓名、身份证号、手机号、实名等级），agent 为亲友代办时代为提交的代办人"
                 "（脱敏），本人提交时为 null。表单中的申请人身份字段由实名信息填写，与 applicant 为同一人（为他人"
                 "申请的事项除外）。")
@admin_required(*STAFF)
async def read_case(request, case_id: str):
    return respond(await staff.read_case(actor=request.ctx.actor, case_id=case_id, redis=request.app.ctx.deps.redis))


@bp.get("/applications/<case_id:id>/applicant")
@doc("查看办件申请人（及代办人）的明文姓名、身份证号、手机号（每次查看记入审计）", response=ApplicantRevealRead,
     errors=(401, 403, 404), tag="admin", secured="admin",
     description="办件详情中的申请人默认脱敏；窗口人员核对身份时以此明确查看，审计操作为 "
                 "application.applicant.reveal。本人所在部门以外的办件为 404。Cache-Control: no-store。")
@admin_required(*STAFF)
async def reveal_applicant(request, case_id: str):
    answer = await staff.reveal_applicant(actor=request.ctx.actor, case_id=case_id, redis=request.app.ctx.deps.redis)
    return respond(answer, headers={"Cache-Control": "no-store"})


@bp.post("/applications/<case_id:id>/actions")
@doc("办件操作：accept、reject、request_supplement、approve、deny、complete、ship（须 carrier 与 tracking_no）、"
     "deliver；工作流不允许的操作为 409 invalid_transition", body=StaffActionIn, response=StaffCaseRead,
     errors=(401, 403, 404, 409, 422, 503), tag="admin", secured="admin",
     description="受理等需计算办理时限的操作在时限落入尚未导入节假日安排的年份时为 503 calendar_missing。"
                 "deliver 为本平台补充的操作：领取或签收后由窗口确认送达。不予受理、不予批准、要求补正须填写 note"
                 "（作为理由或补正说明告知申请人）。ship 缺 tracking_no 为 422 tracking_no_required，缺 carrier 为 "
                 "422 carrier_required。request_supplement 可带 materials（本办件事项的材料编码，其他编码为 422 "
                 "materials_invalid）与 supplement_due（默认 10 个工作日后；须晚于今天且在 60 天内）。carrier、"
                 "materials、supplement_due 用于其他操作时为 422。每个告知申请人的操作发送一条消息（站内信，以及"
                 "微信、支付宝、短信中第一个可用的渠道）；截止日前 2 个工作日内再提醒一次。")
@admin_required(*STAFF)
async def act(request, case_id: str):
    body = parse(request, StaffActionIn)
    return respond(await staff.act(actor=request.ctx.actor, case_id=case_id, body=body,
                                   redis=request.app.ctx.deps.redis))


@bp.get("/applications/<case_id:id>/materials/<material_code:code>/file")
@doc("办件材料的上传文件（解密后原样返回，Content-Type 为上传时按内容识别的类型；每次读取记入审计）",
     errors=(401, 403, 404), tag="admin", secured="admin",
     response_media={**binary("application/pdf"), **binary("image/jpeg"), **binary("image/png")},
     description="本人所在部门以外的办件、办件没有的材料编码、以告知承诺、容缺或电子证照提交（没有文件）的材料均为 "
                 "404。以 Content-Disposition: inline 返回，便于浏览器直接显示；Cache-Control: no-store。")
@admin_required(*STAFF)
async def material_file(request, case_id: str, material_code: str):
    data, content_type = await staff.material_file(actor=request.ctx.actor, case_id=case_id,
                                                   material_code=material_code, storage=request.app.ctx.deps.storage)
    return raw(data, content_type=content_type,
               headers={"Content-Disposition": "inline", "Cache-Control": "no-store"})


@bp.get("/rectifications")
@doc("差评整改单（本部门；超级管理员看全部）", response=RectificationPage, errors=(401, 403), tag="admin",
     secured="admin")
@admin_required(*STAFF)
async def rectifications(request):
    page = await ratings.rectifications(depts=staff.visible_depts(request.ctx.actor), status=request.args.get("status"),
                                        paging=page_request(request.args))
    return respond(page.body())


@bp.get("/notices")
@doc("部门通知（办件即将到期、已超期等），最新在前", response=StaffNoticePage, errors=(401, 403, 422), tag="admin",
     secured="admin")
@admin_required(*STAFF)
async def notices(request):
    page = await notifications.staff_notices(depts=staff.visible_depts(request.ctx.actor),
                                             paging=page_request(request.args))
    return respond(page.body(lambda r: {"id": r.id, "dept": r.dept, "title": r.title, "body": r.body,
                                        "ref": {"kind": r.ref_kind, "id": r.ref_id}, "created_at": r.created_at}))

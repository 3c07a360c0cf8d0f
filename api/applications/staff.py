"""Staff side: department-scoped queues and the workflow actions."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import ValidationError as OrmValidationError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from api.applications import files, moves, reads, supplements, workflow
from api.applications import materials as materials_mod
from api.applications.errors import CarrierRequired, MaterialsOwed, TrackingRequired
from api.applications.models import Application, StoredFile
from api.applications.schemas import StaffActionIn
from api.core import audit, workdays
from api.core.errors import NotFound, ValidationFailed
from api.core.pagination import Key, Order, Page, PageRequest, nothing
from notifications import service as notifications

# The queue: lane 0, the undecided cases already overdue, then lane 1, every other case; each lane earliest due
# first (every case with a department has a due date from submission on), then by id. Each lane is read on its own
# in (dept, due_date, id) order, so a page is two short index walks and never a sort of the department's cases.
QUEUE_ORDER = Order((Key("lane", int), Key("due_date", dt.date), Key("id", str)))
BY_DUE = Order((Key("due_date", dt.date), Key("id", str)))
OVERDUE = Q(sla_state="overdue", status__in=workflow.UNDECIDED)


def visible_depts(actor) -> list[str] | None:
    """The departments a staff member sees: all for a super admin, their own for a reviewer."""
    return None if "super_admin" in actor.roles else list(actor.depts)


async def case_for_staff(*, actor, case_id: str) -> Application:
    """A case in one of the staff member's departments; 404 for any other (they cannot see it at all)."""
    row = await Application.get_or_none(id=case_id, dept__not_isnull=True)
    depts = visible_depts(actor)
    if row is None or (depts is not None and row.dept not in depts):
        raise NotFound("办件不存在")
    return row


async def queue(*, actor, dept: str | None, status: str | None, sla_state: str | None,
                cross_province: bool | None, paging: PageRequest) -> Page:
    """Cases of the staff member's departments: the overdue undecided ones first, then the rest, each earliest due
    first."""
    depts = visible_depts(actor)
    query = Application.filter(dept__not_isnull=True)
    if depts is not None:
        if dept and dept not in depts:
            return nothing(page=paging, order=QUEUE_ORDER)
        query = query.filter(dept__in=[dept] if dept else depts)
    elif dept:
        query = query.filter(dept=dept)
    if status:
        query = query.filter(status=status)
    if sla_state:
        query = query.filter(sla_state=sla_state)
    if cross_province is not None:
        query = query.filter(cross_province=cross_province)
    page = await _overdue_first(query, paging)
    return page.map(lambda r: {
        "id": r.id, "title": r.title, "dept": r.dept, "status": r.status, "due_date": r.due_date,
        "sla_state": r.sla_state, "cross_province": r.cross_province, "applicant_region": r.applicant_region,
        "handling_region": r.handling_region, "receiving_region": r.receiving_region, "created_at": r.created_at,
        "version": r.version})


def _lane(row: Application) -> int:
    return 0 if row.sla_state == "overdue" and row.status in workflow.UNDECIDED else 1


async def _overdue_first(query, paging: PageRequest) -> Page:
    """One page of the queue in QUEUE_ORDER: the rest of lane 0 after the cursor, then lane 1 to fill the page."""
    lane, due, case_id = QUEUE_ORDER.decode(paging.after) if paging.after is not None else (0, None, None)
    if lane not in (0, 1):
        raise ValidationFailed(fields={"cursor": "无效的分页游标"})
    after = BY_DUE.after((due, case_id)) if due is not None else None
    wanted = paging.limit + 1
    rows: list[Application] = []
    try:
        if lane == 0:
            overdue = query.filter(OVERDUE)
            rows = await (overdue.filter(after) if after is not None else overdue).order_by(*BY_DUE.terms).limit(
                wanted)
            after = None  # lane 1 is read from its start
        if len(rows) < wanted:
            rest = query.filter(~OVERDUE)
            rows += await (rest.filter(after) if after is not None else rest).order_by(*BY_DUE.terms).limit(
                wanted - len(rows))
    except OrmValidationError:
        return Page([], None)  # a filter value no column could hold: nothing matches it (as paginate says)
    more = len(rows) > paging.limit
    rows = rows[:paging.limit]
    last = rows[-1] if rows else None
    cursor = QUEUE_ORDER.encode((_lane(last), last.due_date, last.id)) if more and last is not None else None
    return Page(rows, cursor)


async def read_case(*, actor, case_id: str, redis) -> dict:
    """A case with its form in clear (staff review it), its applicant and agent masked; the read is audited."""
    row = await case_for_staff(actor=actor, case_id=case_id)
    answer = await staff_view(row, redis=redis)
    await audit.record_for(actor, action="application.read", target_type="application", target_id=case_id)
    return answer


async def staff_view(row: Application, *, redis) -> dict:
    """What staff see of a case: all of it, and the moves they may make now."""
    return {**await reads.full(row, children=[], reveal=True, redis=redis), "allowed_actions": allowed_actions(row)}


def precondition(row: Application, action: str) -> Exception | None:
    """Why the case itself (not the request body) refuses `action` although the workflow allows it from its status:
    an approval while a deferred material is owed, shipping what is not sent by express. None when nothing does."""
    if action == "approve" and materials_mod.owed(row.materials):
        return MaterialsOwed(f"容缺材料尚未补齐：{', '.join(materials_mod.owed(row.materials))}")
    if action == "ship" and row.delivery_method != "express":
        return ValidationFailed("该办件不是邮寄送达", fields={"action": "仅邮寄送达的办件可以寄出"})
    return None


def allowed_actions(row: Application) -> list[str]:
    """The staff actions `act` would take for this case now (given the fields an action needs): the workflow's moves
    from its status, less those its preconditions refuse. Every staff member who may see the case may make them
    all (the routes admit reviewers and super admins alike; other departments' cases are 404)."""
    return [action for action, moves_from in workflow.STAFF_MOVES.items()
            if row.status in moves_from and precondition(row, action) is None]


# The fields of the action body that belong to one action only: given with another, they would be ignored unseen.
ACTION_ONLY_FIELDS = {"carrier": "ship", "materials": "request_supplement", "supplement_due": "request_supplement"}


async def act(*, actor, case_id: str, body: StaffActionIn, redis) -> dict:
    """Apply a staff action; 409 `invalid_transition` when the workflow (or a colleague, first) forbids it, 422
    (changing nothing) when the body does not fit the action."""
    row = await case_for_staff(actor=actor, case_id=case_id)
    action = body.action
    to_status = workflow.next_status(workflow.STAFF_MOVES, action, row.status)
    misplaced = {name: f"仅 {only} 操作可填写" for name, only in ACTION_ONLY_FIELDS.items()
                 if only != action and getattr(body, name) is not None}
    if misplaced:
        raise ValidationFailed(fields=misplaced)
    extra: dict = {}
    refused = precondition(row, action)
    if refused is not None:
        raise refused
    if action == "ship":
        missing = {name: "寄出时须填写" for name in ("carrier", "tracking_no") if not getattr(body, name)}
        if "tracking_no" in missing:
            raise TrackingRequired(fields=missing)
        if missing:
            raise CarrierRequired(fields=missing)
        extra.update(carrier=body.carrier, tracking_no=body.tracking_no)
    if action in ("reject", "deny", "request_supplement") and not body.note:
        raise ValidationFailed(fields={"note": "不予受理、不予批准或要求补正时须写明理由"})
    if action == "request_supplement":
        extra["supplement"] = await supplements.request(row, codes=body.materials or [],
                                                        asked_due=body.supplement_due, note=body.note, redis=redis)
    async with in_transaction():
        await moves.move(row, to_status=to_status, action=action, actor_type="staff", actor_id=actor.actor_id,
                         note=body.note, extra=extra)
        await audit.record_for(actor, action=f"application.{action}", target_type="application", target_id=case_id)
    return await staff_view(row, redis=redis)


async def material_file(*, actor, case_id: str, material_code: str, storage) -> tuple[bytes, str]:
    """The decrypted upload given for one of a case's materials, and its content type; the read is audited (the
    material code, never the content). 404 for a case outside the staff member's departments, a material the case
    does not have, and one given without a file (a pledge, a deferral, a licence)."""
    row = await case_for_staff(actor=actor, case_id=case_id)
    entry = next((e for e in row.materials if e["material_code"] == material_code), None)
    stored = None
    if entry is not None and entry.get("way") == "file" and entry.get("file_id"):
        stored = await StoredFile.get_or_none(id=entry["file_id"])
    if stored is None:
        raise NotFound("材料文件不存在")
    data = await files.read_upload(storage=storage, row=stored)
    await audit.record_for(actor, action="application.material.read", target_type="application", target_id=case_id,
                           detail={"material_code": material_code})
    return data, stored.content_type


async def scan_deadlines() -> dict:
    """Recompute SLA states of open cases; tell the department when one turns `warning` or `overdue`."""
    today = workdays.today()
    changed = notified = 0
    open_cases = Application.filter(dept__not_isnull=True, status__in=workflow.UNDECIDED, paused_on=None)
    # Only cases whose state is about to change: those already marked are not read again every run.
    rows = [*await open_cases.filter(due_date=today).exclude(sla_state="warning"),
            *await open_cases.filter(due_date__lt=today).exclude(sla_state="overdue")]
    for row in rows:
        state = workdays.sla_state(due_date=row.due_date, on=today, paused=False)
        if state == row.sla_state:
            continue
        async with in_transaction():
            await Application.filter(id=row.id, version=row.version).update(sla_state=state)
            if row.parent_id:
                await moves.sync_parent(row.parent_id)
            text = "今天是最后一个工作日" if state == "warning" else "已超过承诺办结时限"
            notified += await notifications.notify_staff(
                dept=row.dept, title=f"办件{'即将到期' if state == 'warning' else '已超期'}：{row.title}",
                body=f"办件 {row.id}（{row.title}）{text}，到期日 {row.due_date.isoformat()}。",
                ref_kind="application", ref_id=row.id, event_key=f"sla:{row.id}:{state}:{row.due_date.isoformat()}")
        changed += 1
    return {"changed": changed, "notified": notified}

"""Moving a case: the conditional update that makes concurrent moves safe, the timeline, the clock,
the bundle parent's status, and telling the citizen."""

from __future__ import annotations

import datetime as dt

from api.applications import workflow
from api.applications.models import Application, TimelineEntry
from api.core import workdays
from api.core.errors import Conflict
from notifications import service as notifications

STATUS_TEXT = {
    "submitted": "已提交", "accepted": "已受理", "rejected": "不予受理", "supplement_requested": "需要补正材料",
    "supplemented": "已补正", "approved": "审批通过", "denied": "审批未通过", "completed": "已办结",
    "shipped": "证照已寄出", "delivered": "已送达", "withdrawn": "已撤回",
}


# The message the applicant gets when a case reaches a status (notifications/templates/messages.json). Moves the
# applicant made themselves (supplemented, withdrawn) tell them nothing they do not know.
MESSAGE_OF = {
    "accepted": "application_accepted", "supplement_requested": "supplement_requested",
    "approved": "application_approved", "denied": "application_denied", "rejected": "application_rejected",
    "completed": "application_completed", "shipped": "application_shipped",
}


SUPPLEMENT_WORKING_DAYS = 10  # how long an applicant has to answer a supplement request, unless the clerk says


class ConcurrentChange(Conflict):
    code, message = "invalid_transition", "办件状态已被他人更新，请刷新后重试"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def clock_updates(row: Application, to_status: str, today: dt.date) -> dict:
    """The deadline fields after a move: start at acceptance, pause for a supplement, stop at a decision."""
    updates: dict = {}
    if to_status == "accepted" and row.accepted_at is None:
        updates.update(accepted_at=_now(), due_date=workdays.add_working_days(today, row.promised_days))
    if to_status == "supplement_requested":
        updates.update(paused_on=today, sla_state="paused")
    elif row.status == "supplement_requested":
        updates["supplement"] = None  # answered, withdrawn or refused: nothing is asked of the applicant any more
    if to_status != "supplement_requested" and row.paused_on is not None:
        # The applicant has answered: the days they took do not count against the department.
        due = updates.get("due_date", row.due_date)
        if due is not None:
            updates["due_date"] = workdays.add_working_days(
                due, workdays.working_days_between(row.paused_on, today))
        updates["paused_on"] = None
    if to_status in ("approved", "denied", "rejected", "withdrawn"):
        updates["decided_at"] = _now()
    if to_status not in workflow.CLOCK_STOPPED and to_status != "supplement_requested":
        updates["sla_state"] = workdays.sla_state(due_date=updates.get("due_date", row.due_date), on=today,
                                                  paused=False)
    return updates


async def move(row: Application, *, to_status: str, action: str, actor_type: str, actor_id: str,
               note: str | None = None, extra: dict | None = None) -> Application:
    """Apply one move; 409 if someone else moved the case first. Call inside a transaction."""
    updates = {**clock_updates(row, to_status, workdays.today()), **(extra or {}), "status": to_status,
               "version": row.version + 1}
    changed = await Application.filter(id=row.id, version=row.version, status=row.status).update(**updates)
    if not changed:
        raise ConcurrentChange()
    from_status = row.status
    for k, v in updates.items():
        setattr(row, k, v)
    entry = await TimelineEntry.create(application_id=row.id, actor_type=actor_type, actor_id=actor_id,
                                       action=action, from_status=from_status, to_status=to_status, note=note)
    top = row
    if row.parent_id:
        top = await sync_parent(row.parent_id)
    await tell_applicant(row, top=top, to_status=to_status, note=note, at=entry.at, event_key=f"timeline:{entry.id}")
    return row


def detail_page(application_id: str) -> str:
    """The mini-program page of an application, which a platform message opens."""
    return f"pages/applications/detail?id={application_id}"


async def tell_applicant(row: Application, *, top: Application, to_status: str, note: str | None, at: dt.datetime,
                         event_key: str) -> bool:
    """Queue the applicant's message for a move (once per `event_key`), naming and opening the application they
    made (a bundle's top case); False when the move tells nothing or was already told."""
    kind = MESSAGE_OF.get(to_status)
    if kind is None:
        return False
    return await notifications.notify_citizen(citizen_id=row.citizen_id, kind=kind,
                                              params=message_params(row, top=top, note=note, at=at),
                                              ref={"kind": "application", "id": top.id}, event_key=event_key,
                                              page=detail_page(top.id))


def message_params(row: Application, *, top: Application, note: str | None, at: dt.datetime) -> dict:
    """What the messages of a case's move are made of: the clerk's note is the reason (or, with the materials, what
    to hand in), the bundle's top case the application number."""
    local = at.astimezone(workdays.SHANGHAI)
    supplement = row.supplement or {}
    due = supplement.get("due") or workdays.add_working_days(local.date(), SUPPLEMENT_WORKING_DAYS).isoformat()
    return {"item_name": row.title, "application_no": top.id, "at": local.strftime("%Y-%m-%d %H:%M"),
            "reason": note or "", "what": supplement.get("what") or note or "", "due": due,
            "carrier": row.carrier or "", "tracking_no": row.tracking_no or ""}


async def sync_parent(parent_id: str) -> Application:
    """Set a bundle parent's status, due date and SLA state from its sub-cases."""
    parent = await Application.get(id=parent_id)
    children = await Application.filter(parent_id=parent_id).order_by("id")
    status = workflow.parent_status([c.status for c in children])
    dues = [c.due_date for c in children if c.due_date and c.status not in workflow.NEGATIVE]
    states = [c.sla_state for c in children if c.status in workflow.UNDECIDED]
    order = ("overdue", "warning", "paused", "on_track")
    sla = min(states, key=order.index) if states else parent.sla_state
    await Application.filter(id=parent_id).update(status=status, due_date=max(dues) if dues else parent.due_date,
                                                  sla_state=sla, version=parent.version + 1)
    parent.status, parent.sla_state = status, sla
    return parent

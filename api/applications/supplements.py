"""Supplement requests (补正): what a clerk may ask of a case and by when, and the reminder before that day."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from api.applications import moves
from api.applications.errors import MaterialsInvalid
from api.applications.models import Application
from api.catalog import service as catalog
from api.core import workdays
from api.core.errors import ValidationFailed
from notifications import service as notifications

DEFAULT_WORKING_DAYS = moves.SUPPLEMENT_WORKING_DAYS
LATEST_CALENDAR_DAYS = 60  # a clerk cannot leave a case paused on the applicant longer than this
WARN_WITHIN_WORKING_DAYS = 2


async def own_materials(row: Application, *, redis) -> dict[str, str]:
    """Material code → name, for every material of the case's items (and any it was given), in catalogue order."""
    cat = await catalog.current(redis=redis)
    names: dict[str, str] = {}
    for code in row.item_codes:
        item = cat.items.get(code)
        for m in item.materials if item else []:
            names.setdefault(m["code"], m["name"])
    for entry in row.materials:  # a material the catalogue has since dropped is still the case's own
        names.setdefault(entry["material_code"], entry.get("name") or entry["material_code"])
    return names


def due_date(asked: dt.date | None, *, today: dt.date) -> dt.date:
    """The day a supplement is due: the clerk's, after today and within 60 days (422 otherwise), or 10 working
    days from today."""
    if asked is None:
        return workdays.add_working_days(today, DEFAULT_WORKING_DAYS)
    latest = today + dt.timedelta(days=LATEST_CALENDAR_DAYS)
    if not today < asked <= latest:
        raise ValidationFailed(fields={"supplement_due": f"补正截止日须晚于今天（{today.isoformat()}），"
                                                         f"且不晚于 {latest.isoformat()}"})
    return asked


def what(names: list[str], note: str | None) -> str:
    """What the applicant must hand in, as the message says it: the materials by name, then the clerk's note."""
    listed = "、".join(names)
    if listed and note:
        return f"{listed}：{note}"
    return listed or note or ""


async def request(row: Application, *, codes: list[str], asked_due: dt.date | None, note: str | None,
                  redis) -> dict:
    """The supplement asked of a case, as stored on it (`materials`, `due`, `what`); 422 naming each material code
    the case does not have, or a due date out of range."""
    names = await own_materials(row, redis=redis)
    unknown = {f"materials.{n}": f"本办件没有材料 {code}" for n, code in enumerate(codes) if code not in names}
    if unknown:
        raise MaterialsInvalid(f"本办件没有这些材料：{'、'.join(c for c in codes if c not in names)}", fields=unknown)
    due = due_date(asked_due, today=workdays.today())
    return {"materials": codes, "due": due.isoformat(), "what": what([names[c] for c in codes], note)}


def due_of(row: Application) -> dt.date:
    """The day the case's supplement is due (a request stored before due dates were: 10 working days from the
    pause, as its message said)."""
    due = (row.supplement or {}).get("due")
    if due:
        return dt.date.fromisoformat(due)
    return workdays.add_working_days(row.paused_on or workdays.today(), DEFAULT_WORKING_DAYS)


async def warn_due_soon(*, today: dt.date | None = None) -> dict:
    """Remind each applicant whose supplement is due today or within the next 2 working days, once per case and
    due date; cases no longer waiting for a supplement are left alone."""
    today = today or workdays.today()
    horizon = workdays.add_working_days(today, WARN_WITHIN_WORKING_DAYS)
    # No request is due more than 60 days after its pause began: older pauses are past their due date already.
    waiting = await Application.filter(status="supplement_requested", dept__not_isnull=True,
                                       paused_on__gte=today - dt.timedelta(days=LATEST_CALENDAR_DAYS)).order_by("id")
    due_soon = [(row, due) for row in waiting if today <= (due := due_of(row)) <= horizon]
    warned = 0
    for row, due in due_soon:
        top_id = row.parent_id or row.id
        async with in_transaction():
            warned += await notifications.notify_citizen(
                citizen_id=row.citizen_id, kind="supplement_due_soon", ref={"kind": "application", "id": top_id},
                params={"item_name": row.title, "application_no": top_id, "due": due.isoformat(),
                        "what": (row.supplement or {}).get("what") or "补正材料"},
                event_key=f"supplement_due:{row.id}:{due.isoformat()}", page=moves.detail_page(top_id))
    return {"due_soon": len(due_soon), "warned": warned}

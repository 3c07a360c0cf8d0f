"""好差评: one rating per application after completion; a bad one opens a rectification for each department."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.applications import workflow
from api.applications.errors import AlreadyRated, NotRatable
from api.applications.models import Application, Rating, Rectification
from api.applications.service import own_case
from api.core import workdays
from api.core.errors import NotFound
from api.core.pagination import Page, PageRequest, paginate

RECTIFY_WORKING_DAYS = 5


async def rate(*, actor, application_id: str, score: int, comment: str | None) -> dict:
    """Record the rating; 409 before completion or the second time."""
    row = await own_case(citizen_id=actor.citizen_id, application_id=application_id)
    if row.parent_id is not None:
        raise NotFound("请对整件申请评价")
    if row.status not in workflow.DONE:
        raise NotRatable()
    depts = [row.dept] if row.dept else list(
        dict.fromkeys(await Application.filter(parent_id=row.id).values_list("dept", flat=True)))
    try:
        async with in_transaction():
            rating = await Rating.create(application_id=row.id, citizen_id=actor.citizen_id, score=score,
                                         comment=comment)
            if score <= 2:
                due = workdays.add_working_days(workdays.today(), RECTIFY_WORKING_DAYS)
                for dept in depts:
                    await Rectification.create(rating_id=rating.id, application_id=row.id, dept=dept, due_date=due)
    except IntegrityError:
        raise AlreadyRated() from None
    return {"score": rating.score, "comment": rating.comment, "created_at": rating.created_at}


async def rectifications(*, depts: list[str] | None, status: str | None, paging: PageRequest) -> Page:
    """Rectification records for these departments (all when None), newest first."""
    query = Rectification.all() if depts is None else Rectification.filter(dept__in=depts)
    if status:
        query = query.filter(status=status)
    found = await paginate(query, page=paging)
    ratings = {r.id: r for r in await Rating.filter(id__in=[x.rating_id for x in found.items])}
    return found.map(lambda r: {
        "id": r.id, "application_id": r.application_id, "dept": r.dept, "status": r.status, "due_date": r.due_date,
        "score": ratings[r.rating_id].score, "comment": ratings[r.rating_id].comment, "created_at": r.created_at})

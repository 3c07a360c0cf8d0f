"""Citizens' side of applications: submit (idempotent), read, list, supplement (补正), withdraw."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from api.applications import drafts, forms, identity, moves, reads, workflow
from api.applications import materials as materials_mod
from api.applications.errors import NotCrossProvince
from api.applications.forms import Target
from api.applications.models import Application, Draft, TimelineEntry
from api.applications.schemas import ApplicationCreate, ApplicationRead, SupplementIn
from api.citizens.errors import AssuranceTooLow
from api.core import audit, idempotency, pii, workdays
from api.core.errors import NotFound, ValidationFailed
from api.core.pagination import Page, PageRequest, paginate
from notifications import service as notifications


async def submit(*, actor, body: ApplicationCreate, idempotency_key: str | None, raw: dict, redis,
                 home_region: str) -> tuple[int, dict]:
    """Check and store an application (and a bundle's sub-cases) once per Idempotency-Key; cases are handled
    in `home_region` (this province) unless the body names another handling region. The form's applicant fields
    take the applicant's verified identity (the principal's, when an agent submits)."""
    target = await forms.target_of(body, redis=redis)
    applicant = await identity.verified(citizen_id=actor.citizen_id)
    if applicant.assurance_level < target.min_assurance_level:
        raise AssuranceTooLow(f"该事项需要实名等级 {target.min_assurance_level}，请先完成实名认证")
    scope = f"{actor.citizen_id}:applications"
    draft = None
    if body.draft_id:
        draft = await Draft.get_or_none(id=body.draft_id, citizen_id=actor.citizen_id)
        if draft is None:
            # The first submission of this draft deleted it: a replay answers what that one did, anything else 404.
            return await idempotency.run_once(scope=scope, key=idempotency_key, body=raw, create=_no_draft,
                                              look_first=True)
    form, address = body.form, body.delivery.address
    if draft is not None:  # what the draft's answers showed masked stands for what the draft holds
        saved = drafts.content(draft)
        form = forms.keep_unchanged(form, saved.get("form") or {})
        address = forms.keep_unchanged({"address": address}, saved.get("delivery") or {})["address"]
    form = identity.bind(schema=target.schema, form=form, identity=applicant)
    forms.check_form(target.validator, form)
    handling = body.handling_region or home_region
    cross = body.applicant_region[:2] != handling[:2]
    if cross and not target.cross_province:
        raise NotCrossProvince()
    if body.delivery.method not in target.delivery_methods:
        methods = ", ".join(target.delivery_methods)
        raise ValidationFailed(fields={"delivery.method": f"该事项支持的送达方式：{methods}"})
    entries = await materials_mod.resolve(wanted=target.materials, given=body.materials, citizen_id=actor.citizen_id)

    async def create() -> tuple[int, dict]:
        # First, so that of two submissions of one draft under two keys (a double tap) the second waits on the row and
        # finds it gone: one application, and the other answer is the spent draft's 404.
        if draft is not None and not await Draft.filter(id=draft.id).delete():
            raise NotFound("草稿不存在")
        today = workdays.today()
        common = dict(citizen_id=actor.citizen_id, submitted_by=actor.actor_id, form_enc=reads.seal_form(form),
                      delivery_method=body.delivery.method, status="submitted",
                      delivery_address_enc=pii.cipher().encrypt(address, context="application.address"),
                      applicant_region=body.applicant_region, handling_region=handling,
                      receiving_region=body.receiving_region or body.applicant_region, cross_province=cross)
        promised = max(i.promised_days for _, group in target.groups for i in group)
        top = await Application.create(
            **common, item_code=None if target.is_bundle else target.code,
            bundle_code=target.code if target.is_bundle else None, title=target.title,
            item_codes=[i.code for _, g in target.groups for i in g],
            dept=None if target.is_bundle else target.groups[0][0], materials=entries, promised_days=promised,
            due_date=workdays.add_working_days(today, promised))
        cases = [top]
        if target.is_bundle:
            for dept, group in target.groups:
                codes = {m["code"] for i in group for m in i.materials}
                days = max(i.promised_days for i in group)
                cases.append(await Application.create(
                    **common, parent_id=top.id, bundle_code=target.code, item_codes=[i.code for i in group],
                    title="、".join(i.name for i in group)[:128], dept=dept, promised_days=days,
                    materials=[e for e in entries if e["material_code"] in codes],
                    due_date=workdays.add_working_days(today, days)))
        submitted = [TimelineEntry(application_id=case.id, actor_type="agent" if actor.is_agent else "citizen",
                                 actor_id=actor.actor_id, action="submit", from_status=None, to_status="submitted",
                                 at=dt.datetime.now(dt.timezone.utc)) for case in cases]
        await TimelineEntry.bulk_create(submitted)
        await notifications.notify_citizen(
            citizen_id=actor.citizen_id, kind="application_submitted",
            params={"item_name": target.title, "application_no": top.id, "promised_days": promised},
            ref={"kind": "application", "id": top.id}, event_key=f"submitted:{top.id}",
            page=f"pages/applications/detail?id={top.id}")
        answer = await reads.full(top, children=cases[1:], reveal=False, redis=redis, timeline=submitted, new=True)
        return 201, ApplicationRead.model_validate(answer).model_dump(mode="json")  # stored for replays

    return await idempotency.run_once(scope=scope, key=idempotency_key, body=raw, create=create)


async def _no_draft() -> tuple[int, dict]:
    raise NotFound("草稿不存在")


async def own_case(*, citizen_id: str, application_id: str) -> Application:
    """The citizen's application or sub-case; 404 for anyone else's."""
    row = await Application.get_or_none(id=application_id, citizen_id=citizen_id)
    if row is None:
        raise NotFound("办件不存在")
    return row


async def _read(*, citizen_id: str, application_id: str, reveal: bool, redis) -> dict:
    row = await own_case(citizen_id=citizen_id, application_id=application_id)
    children = await Application.filter(parent_id=row.id).order_by("id")
    return await reads.full(row, children=children, reveal=reveal, redis=redis)


async def read(*, actor, application_id: str, reveal: bool, redis) -> dict:
    """One application with its timeline, sub-cases and SLA state; a revealed read or an agent's is audited."""
    answer = await _read(citizen_id=actor.citizen_id, application_id=application_id, reveal=reveal, redis=redis)
    if reveal or actor.is_agent:
        await audit.record_for(actor, action="application.read", target_type="application",
                               target_id=application_id, detail={"revealed": reveal})
    return answer


async def list_mine(*, citizen_id: str, paging: PageRequest, status: str | None) -> Page:
    """The citizen's applications (bundles as one entry), newest first."""
    query = Application.filter(citizen_id=citizen_id, parent_id=None)
    if status:
        query = query.filter(status=status)
    return (await paginate(query, page=paging)).map(reads.summary)


def _actor_type(actor) -> str:
    return "agent" if actor.is_agent else "citizen"


async def _open_cases(*, actor, application_id: str, action: str) -> tuple[Application, list[Application]]:
    """The application (its top row) and its cases not yet decided; 409 when there are none."""
    row = await own_case(citizen_id=actor.citizen_id, application_id=application_id)
    top = row if row.parent_id is None else await Application.get(id=row.parent_id)
    cases = await Application.filter(parent_id=top.id).order_by("id") if top.bundle_code else [top]
    open_cases = [c for c in cases if c.status in workflow.UNDECIDED]
    if not open_cases:
        raise workflow.InvalidTransition(action, top.status)
    return top, open_cases


async def supplement(*, actor, application_id: str, body: SupplementIn, redis) -> dict:
    """补正: hand in what was asked (or what was deferred); cases waiting for it move on, their clock resumes."""
    top, open_cases = await _open_cases(actor=actor, application_id=application_id, action="supplement")
    target = await forms.target_of(top, redis=redis)
    updates = await materials_mod.resolve(wanted=target.materials, given=body.materials,
                                          citizen_id=actor.citizen_id, partial=True)
    stored = reads.form_of(top)
    form = {**stored, **forms.keep_unchanged(body.form, stored)}
    form = identity.bind(schema=target.schema, form=form, identity=await identity.verified(citizen_id=actor.citizen_id))
    forms.check_form(target.validator, form)
    async with in_transaction():
        for case in [top, *(c for c in open_cases if c is not top)]:
            codes = {m["code"] for code in case.item_codes for m in _item_materials(target, code)}
            mine = updates if case is top else [u for u in updates if u["material_code"] in codes]
            await Application.filter(id=case.id).update(
                form_enc=reads.seal_form(form), materials=materials_mod.merge(case.materials, mine))
            case.materials = materials_mod.merge(case.materials, mine)
            if case.status == "supplement_requested":
                await moves.move(case, to_status="supplemented", action="supplement", actor_type=_actor_type(actor),
                                 actor_id=actor.actor_id, note=body.note)
            elif case is not top or not top.bundle_code:
                await TimelineEntry.create(application_id=case.id, actor_type=_actor_type(actor),
                                           actor_id=actor.actor_id, action="supplement", from_status=case.status,
                                           to_status=case.status, note=body.note)
    return await _read(citizen_id=actor.citizen_id, application_id=top.id, reveal=False, redis=redis)


def _item_materials(target: Target, item_code: str) -> list[dict]:
    return next((i.materials for _, group in target.groups for i in group if i.code == item_code), [])


async def withdraw(*, actor, application_id: str, redis, note: str | None = None) -> dict:
    """Withdraw every case not yet decided; 409 when there is none."""
    top, open_cases = await _open_cases(actor=actor, application_id=application_id, action="withdraw")
    async with in_transaction():
        for case in open_cases:
            await moves.move(case, to_status="withdrawn", action="withdraw", actor_type=_actor_type(actor),
                             actor_id=actor.actor_id, note=note or "申请人撤回")
    return await _read(citizen_id=actor.citizen_id, application_id=top.id, reveal=False, redis=redis)

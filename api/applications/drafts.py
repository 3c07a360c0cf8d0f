"""Drafts: a half-filled application kept for the citizen, whichever platform (or agent) finishes it.

What a draft holds is checked as far as it goes (the item exists, filled fields fit its form, the applicant's
identity fields are theirs), is at most 64 KiB, is encrypted as a whole and answers masked like an application.
"""

from __future__ import annotations

import datetime as dt
import json

from api.applications import forms, identity
from api.applications.errors import DraftTooLarge, MaterialsInvalid
from api.applications.models import Draft
from api.applications.reads import mask_form, mask_value
from api.applications.schemas import DraftIn
from api.core import audit, pii
from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.pagination import Key, Order, Page, PageRequest, paginate

MAX_DRAFTS = 50
MAX_DRAFT_BYTES = 64 * 1024  # the draft's content as stored (UTF-8 JSON, before encryption)
RECENTLY_SAVED = Order((Key("updated_at", dt.datetime, descending=True), Key("id", str, descending=True)))
_CONTEXT = "application.draft"


def content(row: Draft) -> dict:
    """What the draft holds (form, materials, delivery, region), decrypted."""
    return json.loads(pii.cipher().decrypt(row.content_enc, context=_CONTEXT))


def _masked(held: dict) -> dict:
    delivery = held.get("delivery")
    if delivery and delivery.get("address"):
        delivery = {**delivery, "address": mask_value("address", delivery["address"])}
    return {**held, "form": mask_form(held.get("form") or {}), "delivery": delivery}


def _read(row: Draft, *, reveal: bool = False, held: dict | None = None) -> dict:
    held = content(row) if held is None else held
    return {**(held if reveal else _masked(held)), "id": row.id, "item_code": row.item_code,
            "bundle_code": row.bundle_code, "masked": not reveal, "created_at": row.created_at,
            "updated_at": row.updated_at}


def _materials(target: forms.Target, body: DraftIn) -> None:
    wanted = {m["code"] for m in target.materials}
    wrong = {f"materials.{n}.material_code": f"该事项不需要材料 {m.material_code}"
             for n, m in enumerate(body.materials) if m.material_code not in wanted}
    if wrong:
        raise MaterialsInvalid(fields=wrong)


async def _checked(*, actor, body: DraftIn, redis, before: dict) -> dict:
    """The content to store: 422 (naming the field) for what does not fit the item, 413 past 64 KiB."""
    target = await forms.target_of(body, redis=redis)
    held = body.model_dump(mode="json", exclude={"item_code", "bundle_code"})
    held["form"] = forms.keep_unchanged(body.form, before.get("form") or {})
    if held["delivery"] and held["delivery"].get("address"):
        held["delivery"]["address"] = forms.keep_unchanged(held["delivery"], before.get("delivery") or {})["address"]
    held["form"] = identity.bind(schema=target.schema, form=held["form"],
                                 identity=await identity.verified(citizen_id=actor.citizen_id))
    # Measured before the schema is applied: a huge form would otherwise answer with as huge a list of errors.
    if len(json.dumps(held, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
        raise DraftTooLarge()
    forms.check_form(target.validator, held["form"], partial=True)
    _materials(target, body)
    method = body.delivery.method if body.delivery else None
    if method is not None and method not in target.delivery_methods:
        methods = ", ".join(target.delivery_methods)
        raise ValidationFailed(fields={"delivery.method": f"该事项支持的送达方式：{methods}"})
    return held


def _seal(held: dict) -> str:
    return pii.cipher().encrypt(json.dumps(held, ensure_ascii=False), context=_CONTEXT)


async def save(*, actor, body: DraftIn, redis, draft_id: str | None = None) -> dict:
    """Create a draft, or replace one of the citizen's drafts (404 for anyone else's); the answer is masked. The
    applicant's identity fields are prefilled from their verified identity; a masked value sent back means the
    value the draft already holds."""
    if draft_id is None:
        if await Draft.filter(citizen_id=actor.citizen_id).count() >= MAX_DRAFTS:
            raise Conflict(f"草稿最多保存 {MAX_DRAFTS} 份", code="too_many_drafts")
        held = await _checked(actor=actor, body=body, redis=redis, before={})
        row = await Draft.create(citizen_id=actor.citizen_id, item_code=body.item_code, bundle_code=body.bundle_code,
                                 content_enc=_seal(held))
        return _read(row, held=held)
    row = await own(citizen_id=actor.citizen_id, draft_id=draft_id)
    held = await _checked(actor=actor, body=body, redis=redis, before=content(row))
    row.item_code, row.bundle_code, row.content_enc = body.item_code, body.bundle_code, _seal(held)
    await row.save()
    return _read(row, held=held)


async def own(*, citizen_id: str, draft_id: str) -> Draft:
    """The citizen's draft, or 404."""
    row = await Draft.get_or_none(id=draft_id, citizen_id=citizen_id)
    if row is None:
        raise NotFound("草稿不存在")
    return row


async def read(*, actor, draft_id: str, reveal: bool) -> dict:
    """One draft, masked unless `reveal` (the owner's own ask); a revealed read or an agent's is audited."""
    answer = _read(await own(citizen_id=actor.citizen_id, draft_id=draft_id), reveal=reveal)
    if reveal or actor.is_agent:
        await audit.record_for(actor, action="application.draft.read", target_type="application_draft",
                               target_id=draft_id, detail={"revealed": reveal})
    return answer


async def list_mine(*, actor, paging: PageRequest) -> Page:
    """The citizen's drafts, most recently saved first, masked; an agent's look is audited."""
    page = (await paginate(Draft.filter(citizen_id=actor.citizen_id), page=paging, order=RECENTLY_SAVED)).map(_read)
    if actor.is_agent:
        await audit.record_for(actor, action="application.draft.list", target_type="citizen",
                               target_id=actor.citizen_id, detail={"count": len(page.items)})
    return page


async def delete(*, citizen_id: str, draft_id: str) -> None:
    """Discard a draft."""
    row = await own(citizen_id=citizen_id, draft_id=draft_id)
    await row.delete()

"""Drafts: a half-filled application kept for the citizen, whichever platform (or agent) finishes it."""

from __future__ import annotations

import datetime as dt
import json

from api.applications.models import Draft
from api.applications.schemas import DraftIn
from api.core import pii
from api.core.errors import Conflict, NotFound
from api.core.pagination import Key, Order, Page, PageRequest, paginate

MAX_DRAFTS = 50
RECENTLY_SAVED = Order((Key("updated_at", dt.datetime, descending=True), Key("id", str, descending=True)))


def _read(row: Draft) -> dict:
    content = json.loads(pii.cipher().decrypt(row.content_enc, context="application.draft"))
    return {**content, "id": row.id, "item_code": row.item_code, "bundle_code": row.bundle_code,
            "created_at": row.created_at, "updated_at": row.updated_at}


def _seal(body: DraftIn) -> str:
    content = body.model_dump(exclude={"item_code", "bundle_code"})
    return pii.cipher().encrypt(json.dumps(content, ensure_ascii=False), context="application.draft")


async def save(*, citizen_id: str, body: DraftIn, draft_id: str | None = None) -> dict:
    """Create a draft, or replace one of the citizen's drafts (404 for anyone else's)."""
    if draft_id is None:
        if await Draft.filter(citizen_id=citizen_id).count() >= MAX_DRAFTS:
            raise Conflict(f"草稿最多保存 {MAX_DRAFTS} 份", code="too_many_drafts")
        row = await Draft.create(citizen_id=citizen_id, item_code=body.item_code, bundle_code=body.bundle_code,
                                 content_enc=_seal(body))
        return _read(row)
    row = await own(citizen_id=citizen_id, draft_id=draft_id)
    row.item_code, row.bundle_code, row.content_enc = body.item_code, body.bundle_code, _seal(body)
    await row.save()
    return _read(row)


async def own(*, citizen_id: str, draft_id: str) -> Draft:
    """The citizen's draft, or 404."""
    row = await Draft.get_or_none(id=draft_id, citizen_id=citizen_id)
    if row is None:
        raise NotFound("草稿不存在")
    return row


async def read(*, citizen_id: str, draft_id: str) -> dict:
    """One draft."""
    return _read(await own(citizen_id=citizen_id, draft_id=draft_id))


async def list_mine(*, citizen_id: str, paging: PageRequest) -> Page:
    """The citizen's drafts, most recently saved first."""
    return (await paginate(Draft.filter(citizen_id=citizen_id), page=paging, order=RECENTLY_SAVED)).map(_read)


async def delete(*, citizen_id: str, draft_id: str) -> None:
    """Discard a draft."""
    row = await own(citizen_id=citizen_id, draft_id=draft_id)
    await row.delete()

"""How applications look to their owner (masked unless revealed) and to staff."""

from __future__ import annotations

import datetime as dt
import json

from api.applications import identity
from api.applications.models import Application, Rating, TimelineEntry
from api.core import pii


def mask_value(key: str, value):
    """A form value as answers show it: names, id numbers, phones, addresses and accounts masked."""
    if not isinstance(value, str):
        return value
    k = key.lower()
    if "id_number" in k:
        return pii.mask_id_number(value)
    if "phone" in k:
        return pii.mask_phone(value)
    if k.endswith("name") and not k.startswith(("company", "school", "shop", "employer")):
        return pii.mask_name(value)
    if "address" in k or "bank_account" in k:
        return value[:6] + "****" if len(value) > 6 else "****"
    return value


def mask_form(form: dict) -> dict:
    """A form with names, id numbers, phones, addresses and accounts masked."""
    return {k: mask_value(k, v) for k, v in form.items()}


def form_of(row: Application) -> dict:
    """The decrypted form of a case."""
    return json.loads(pii.cipher().decrypt(row.form_enc, context="application.form"))


def seal_form(form: dict) -> str:
    """The form, encrypted for storage."""
    return pii.cipher().encrypt(json.dumps(form, ensure_ascii=False), context="application.form")


def summary(row: Application) -> dict:
    """The list entry of an application."""
    return {"id": row.id, "title": row.title, "item_code": row.item_code, "bundle_code": row.bundle_code,
            "status": row.status, "due_date": row.due_date, "sla_state": row.sla_state, "created_at": row.created_at}


def _material(entry: dict) -> dict:
    answer = {k: entry.get(k) for k in ("material_code", "name", "way", "file_id", "license_id", "commitment_text",
                                        "committed_at", "owed")}
    if answer["committed_at"]:  # stored as text: a datetime again, so the answer writes it as every timestamp
        answer["committed_at"] = dt.datetime.fromisoformat(answer["committed_at"])
    return answer


def supplement(row: Application) -> dict | None:
    """What the case waits for from the applicant (materials, due, what), while it waits."""
    asked = row.supplement if row.status == "supplement_requested" else None
    if not asked or not asked.get("due"):
        return None
    return {"materials": asked.get("materials") or [], "due": asked["due"], "what": asked.get("what") or ""}


def sub_case(row: Application) -> dict:
    """A bundle's per-department case."""
    return {"id": row.id, "dept": row.dept, "title": row.title, "item_codes": row.item_codes, "status": row.status,
            "due_date": row.due_date, "sla_state": row.sla_state, "carrier": row.carrier,
            "tracking_no": row.tracking_no, "supplement": supplement(row)}


async def full(row: Application, *, children: list[Application], reveal: bool, redis,
               timeline: list[TimelineEntry] | None = None, new: bool = False) -> dict:
    """An application with its form, materials, sub-cases, timeline and rating, and its applicant and agent
    (masked whatever `reveal` says of the form; `new`: just made, so the given timeline is all of it and there is
    no rating yet)."""
    if timeline is None:
        ids = [row.id, *(c.id for c in children)]
        timeline = await TimelineEntry.filter(application_id__in=ids).order_by("at", "id")
    rating = None if new else await Rating.get_or_none(application_id=row.id)
    form = form_of(row)
    address = pii.cipher().decrypt(row.delivery_address_enc, context="application.address")
    # A bundle's result goes out with the sub-case that shipped it.
    shipped = row if row.tracking_no else next((c for c in children if c.tracking_no), row)
    return {
        **summary(row), "dept": row.dept, "form": form if reveal else mask_form(form), "masked": not reveal,
        "materials": [_material(e) for e in row.materials],
        "delivery": {"method": row.delivery_method,
                     "address": address if reveal else mask_value("address", address) if address else None,
                     "carrier": shipped.carrier, "tracking_no": shipped.tracking_no},
        "supplement": supplement(row),
        "applicant_region": row.applicant_region, "handling_region": row.handling_region,
        "receiving_region": row.receiving_region, "cross_province": row.cross_province,
        "sub_cases": [sub_case(c) for c in children],
        "timeline": [{"at": t.at, "actor_type": t.actor_type, "action": t.action, "from_status": t.from_status,
                      "to_status": t.to_status, "note": t.note, "case_id": t.application_id} for t in timeline],
        "rating": ({"score": rating.score, "comment": rating.comment, "created_at": rating.created_at}
                   if rating else None),
        "parent_id": row.parent_id, "version": row.version,
        **await identity.people(citizen_id=row.citizen_id, submitted_by=row.submitted_by, redis=redis),
    }

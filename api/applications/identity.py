"""Whose application it is: the applicant's verified identity fills the form's identity fields, and the applicant
(and the agent who acted for them) as answers show them, masked."""

from __future__ import annotations

from dataclasses import dataclass

from api.applications.errors import IdentityMismatch
from api.catalog import forms as form_vocabulary
from api.citizens import service as citizens
from api.core import pii
from api.core.errors import NotFound

_MASKS = {"name": pii.mask_name, "id_number": pii.mask_id_number, "phone": pii.mask_phone}
MISMATCH = "须与实名认证信息一致（可不填写，由系统按实名信息填写）"


@dataclass(frozen=True)
class Identity:
    """What the platform has verified of a citizen: name and id number from the real-name check, the phone from
    the login; None where nothing was verified."""

    citizen_id: str
    name: str | None
    id_number: str | None
    phone: str | None
    assurance_level: int

    def value(self, kind: str) -> str | None:
        """The verified value of one identity kind."""
        return getattr(self, kind)


async def verified(*, citizen_id: str) -> Identity:
    """The citizen's verified identity, read from their row (a token's copy may predate a real-name check)."""
    citizen = await citizens.get(citizen_id=citizen_id)
    c = pii.cipher()
    return Identity(citizen_id=citizen.id, name=c.decrypt(citizen.name_enc, context="citizen.name"),
                    id_number=c.decrypt(citizen.id_number_enc, context="citizen.id_number"),
                    phone=c.decrypt(citizen.phone_enc, context="citizen.phone"),
                    assurance_level=citizen.assurance_level)


def _same(kind: str, given, verified_value: str) -> bool:
    if not isinstance(given, str):
        return False
    # The masked value /me shows (or an earlier answer did) stands for the verified one: a front end prefills it.
    return pii.normalize(given, kind=kind) == verified_value or given == _MASKS[kind](verified_value)


def bind(*, schema: dict, form: dict, identity: Identity) -> dict:
    """The form with its applicant identity fields set to the verified values; 422 `identity_mismatch` naming
    each field given another value. A field whose kind the identity has not verified (a level-1 citizen's name)
    keeps what was typed."""
    bound = dict(form)
    wrong = {}
    for field, kind in form_vocabulary.bound_fields(schema).items():
        verified_value = identity.value(kind)
        if verified_value is None:
            continue
        if field in form and not _same(kind, form[field], verified_value):
            wrong[f"form.{field}"] = MISMATCH
        bound[field] = verified_value
    if wrong:
        raise IdentityMismatch(fields=wrong)
    return bound


async def person(*, citizen_id: str, redis) -> dict:
    """A citizen as an application shows them: id, masked name, id number and phone, assurance level."""
    try:
        shown = await citizens.profile(citizen_id=citizen_id, redis=redis)
    except NotFound:  # merged away by a clerk's database procedure: the case still reads
        return {"id": citizen_id, "name": None, "id_number": None, "phone": None, "assurance_level": 0,
                "real_name_verified": False}
    return {"id": shown.id, "name": shown.name, "id_number": shown.id_number, "phone": shown.phone,
            "assurance_level": shown.assurance_level, "real_name_verified": shown.real_name_verified}


async def revealed(*, citizen_id: str, redis) -> dict | None:
    """A citizen in clear (for a staff member's audited reveal); None when the citizen is gone."""
    try:
        shown = await citizens.profile(citizen_id=citizen_id, redis=redis, reveal=True)
    except NotFound:
        return None
    return {"id": shown.id, "name": shown.name, "id_number": shown.id_number, "phone": shown.phone,
            "assurance_level": shown.assurance_level, "real_name_verified": shown.real_name_verified}


async def people(*, citizen_id: str, submitted_by: str, redis) -> dict:
    """`applicant` and `agent` (the relative or helper who submitted for them, else None), masked."""
    applicant = await person(citizen_id=citizen_id, redis=redis)
    agent = await person(citizen_id=submitted_by, redis=redis) if submitted_by != citizen_id else None
    return {"applicant": applicant, "agent": agent}

"""The licence wallet: issued certificates and licences held in registries; 亮证 presentations; 免提交 checks."""

from __future__ import annotations

import datetime as dt

from api.certificates import service, types
from api.certificates.models import Certificate
from api.certificates.presentation import PresentationKey
from api.citizens.models import Citizen, DisabilityRecord, PopulationRecord
from api.core import audit, db, pii
from api.core.deps import Deps
from api.core.errors import NotFound, ValidationFailed

REGISTRY_LICENSES = {
    "resident_id_card": ("居民身份证", "公安部门人口信息库", ("name", "id_number", "gender", "birth_date", "address")),
    "household_register": ("居民户口簿", "公安部门人口信息库", ("name", "id_number", "hukou_region", "address")),
}


def _registry_id(citizen_id: str, license_type: str) -> str:
    # Stable for the holder, unguessable for anyone else, no table needed.
    return "lic_" + pii.cipher().blind_index(f"{citizen_id}:{license_type}", kind="license")[:24]


async def _registry_licenses(citizen: Citizen) -> list[dict]:
    if not citizen.id_number_bidx:
        return []
    record = await PopulationRecord.get_or_none(id_number_bidx=citizen.id_number_bidx)
    if record is None:
        return []
    c = pii.cipher()
    values = {"name": c.decrypt(record.name_enc, context="population.name"),
              "id_number": c.decrypt(record.id_number_enc, context="population.id_number"),
              "gender": record.gender, "birth_date": record.birth_date.isoformat() if record.birth_date else None,
              "hukou_region": record.hukou_region,
              "address": c.decrypt(record.address_enc, context="population.address")}
    return [{"id": _registry_id(citizen.id, kind), "type": kind, "name": name, "source": source, "status": "valid",
             "issuer": source, "issued_at": None, "expires_at": None,
             "fields": {k: values[k] for k in keys if values.get(k)}}
            for kind, (name, source, keys) in REGISTRY_LICENSES.items()]


async def _disability_license(citizen: Citizen) -> list[dict]:
    record = await DisabilityRecord.get_or_none(id_number_bidx=citizen.id_number_bidx)
    if record is None:
        return []
    c = pii.cipher()
    fields = {"name": c.decrypt(citizen.name_enc, context="citizen.name"),
              "certificate_no": c.decrypt(record.certificate_no_enc, context="disability.certificate_no"),
              "disability_type": record.disability_type, "disability_level": record.disability_level}
    return [{"id": _registry_id(citizen.id, "disability_certificate"), "type": "disability_certificate",
             "name": "中华人民共和国残疾人证", "source": "disability", "status": "valid", "issuer": "残疾人联合会",
             "issued_at": record.issued_at, "expires_at": None, "fields": fields}]


async def _certificate_licenses(citizen_id: str, now: dt.datetime) -> list[dict]:
    rows = await Certificate.filter(citizen_id=citizen_id, status__in=("issued", "revoked")).order_by("-issued_at")
    entries = []
    for cert in rows:
        kind = types.all_types()[cert.type_code]
        entries.append({"id": cert.id, "type": kind.license_type, "name": kind.name, "source": "certificate",
                        "status": {"issued": "valid"}.get(service.state(cert, now), service.state(cert, now)),
                        "issuer": kind.issuer, "issued_at": cert.issued_at,
                        "expires_at": cert.expires_at, "fields": {**service.facts_of(cert), "serial": cert.serial}})
    return entries


async def licenses(*, citizen_id: str, now: dt.datetime) -> list[dict]:
    """Every licence the citizen holds, with its fields in clear (callers mask them for display)."""
    citizen = await Citizen.get(id=citizen_id)
    registry = [*await _registry_licenses(citizen), *await _disability_license(citizen)] if citizen.id_number_bidx \
        else []
    return [*await _certificate_licenses(citizen_id, now), *registry]


def masked(entry: dict) -> dict:
    """A licence with its personal fields masked."""
    return {**entry, "fields": {k: service.mask_fact(k, v) for k, v in entry["fields"].items()}}


async def find(*, citizen_id: str, license_id: str, now: dt.datetime) -> dict:
    """One of the citizen's licences, or 404."""
    found = next((e for e in await licenses(citizen_id=citizen_id, now=now) if e["id"] == license_id), None)
    if found is None:
        raise NotFound("证照不存在")
    return found


def presentation_key(deps: Deps) -> PresentationKey:
    """The key that signs presentations in this process (loaded once)."""
    return deps.derived("certificates.presentation_key",
                        lambda d: PresentationKey(d.settings.presentation_private_key))


async def present(*, actor, license_id: str, fields: list[str], ttl_seconds: int, deps: Deps) -> dict:
    """A signed payload showing only `fields` of the actor's valid licence, for `ttl_seconds` (audited)."""
    now = deps.clock()
    entry = await find(citizen_id=actor.citizen_id, license_id=license_id, now=now)
    if entry["status"] != "valid":
        raise ValidationFailed(f"证照状态为 {entry['status']}，不能亮证", fields={"license_id": entry["status"]})
    unknown = [f for f in fields if f not in entry["fields"]]
    if unknown:
        raise ValidationFailed(fields={"fields": f"该证照没有这些字段：{', '.join(unknown)}"})
    expires = now + dt.timedelta(seconds=ttl_seconds)
    claims = {"lid": entry["id"], "src": entry["source"], "typ": entry["type"], "name": entry["name"],
              "iss": entry["issuer"], "hm": service.mask_fact("name", entry["fields"].get("name")),
              "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
              "f": {k: entry["fields"][k] for k in fields}}
    payload = presentation_key(deps).seal(claims)
    await audit.record_for(actor, action="license.present", target_type="license", target_id=license_id,
                           detail={"fields": fields})
    return {"qr_payload": payload, "expires_at": expires}


async def verify_presentation(*, payload: str, key: PresentationKey, now: dt.datetime) -> dict:
    """What a presentation proves now: only the chosen fields, if it is authentic, unexpired and not revoked."""
    claims = key.open(payload)
    if claims is None:
        return {"status": "invalid", "checked_at": now}
    answer = {"type": claims["name"], "issuer": claims["iss"], "holder_masked": claims.get("hm"),
              "issued_at": dt.datetime.fromtimestamp(claims["iat"], dt.timezone.utc), "fields": claims["f"],
              "checked_at": now}
    if claims["exp"] <= now.timestamp():
        return {"status": "expired", "checked_at": now}
    if claims["src"] == "certificate":
        cert = await Certificate.get_or_none(id=claims["lid"], using_db=db.reader())
        status = service.state(cert, now) if cert else "invalid"
        if status != "issued":
            return {"status": status if status in ("revoked", "expired") else "invalid", "checked_at": now}
    return {"status": "valid", **answer}


async def license_stands_in(citizen_id: str, license_id: str, license_type: str) -> bool:
    """免提交: the licence is the citizen's, of this type, valid and not revoked."""
    now = dt.datetime.now(dt.timezone.utc)
    try:
        entry = await find(citizen_id=citizen_id, license_id=license_id, now=now)
    except NotFound:
        return False
    return entry["type"] == license_type and entry["status"] == "valid"

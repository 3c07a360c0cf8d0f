"""Certificates: request (decided at once, by a reviewer, or refused), issue a signed PDF, revoke, verify."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from api.certificates import ca, pdf, types
from api.certificates.deciders import DECIDERS
from api.certificates.models import Certificate
from api.certificates.schemas import CertificateRead
from api.citizens import service as citizens_service
from api.citizens.errors import AssuranceTooLow
from api.citizens.models import Citizen
from api.core import audit, db, idempotency, pii
from api.core.deps import Deps
from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.pagination import OLDEST_FIRST, Page, PageRequest, paginate
from notifications import service as notifications

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD_TTL_SECONDS = 3600
# The message each decision sends its holder (notifications/templates/messages.json).
MESSAGE_OF = {"issued": "certificate_issued", "rejected": "certificate_rejected", "revoked": "certificate_revoked"}
LABELS = {"name": "姓名", "id_number": "公民身份号码", "hukou_region": "户籍地行政区划代码", "address": "居住地址",
          "gender": "性别", "birth_date": "出生日期"}


def mask_fact(key: str, value):
    """A certified fact as a verifier or a list may see it."""
    if not isinstance(value, str):
        return value
    if key == "name":
        return pii.mask_name(value)
    if key == "id_number":
        return pii.mask_id_number(value)
    if key == "address":
        return value[:6] + "****"
    if key == "certificate_no":
        return value[:4] + "*" * max(len(value) - 6, 2) + value[-2:]
    return value


def facts_of(cert: Certificate) -> dict:
    """The decrypted facts a certificate states."""
    if cert.facts_enc is None:
        return {}
    return json.loads(pii.cipher().decrypt(cert.facts_enc, context="certificate.facts"))


def state(cert: Certificate, now: dt.datetime) -> str:
    """issued certificates past their date read `expired`."""
    if cert.status == "issued" and cert.expires_at and cert.expires_at <= now:
        return "expired"
    return cert.status


def verify_url(base_url: str, cert: Certificate) -> str:
    """The URL printed in the QR code."""
    return f"{base_url}/api/v1/verify/{cert.serial}?code={cert.verify_code}"


def record(cert: Certificate, *, base_url: str, now: dt.datetime) -> dict:
    """The citizen's view of a certificate request."""
    kind = types.all_types()[cert.type_code]
    return {"id": cert.id, "type_code": cert.type_code, "type_name": kind.name, "purpose": cert.purpose,
            "status": state(cert, now), "reason": cert.reason, "serial": cert.serial,
            "verify_url": verify_url(base_url, cert) if cert.issued_at else None, "issued_at": cert.issued_at,
            "expires_at": cert.expires_at, "created_at": cert.created_at}


def _render_signed(cert: Certificate, kind: types.CertificateType, facts: dict, *, dept_name: str, base_url: str,
                   ca_dir) -> bytes:
    shown = {k: (mask_fact(k, v) if kind.mask_holder else v) for k, v in facts.items()}
    document = pdf.render(
        title=kind.name, statement=kind.statement, rows=[(LABELS.get(k, k), str(v)) for k, v in shown.items()],
        serial=cert.serial, issuer=dept_name, issued_on=cert.issued_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日"),
        valid_until=cert.expires_at.astimezone(SHANGHAI).strftime("%Y年%m月%d日"), purpose=cert.purpose,
        verify_url=verify_url(base_url, cert))
    return pdf.sign(document, ca.signer_for(ca_dir, cert.dept).signer)


async def _issue(cert: Certificate, kind, facts: dict, *, now: dt.datetime, deps: Deps) -> None:
    """Fill the issue fields, render, sign and store the PDF (encrypted: it names the holder)."""
    cert.issued_at, cert.expires_at = now, now + dt.timedelta(days=kind.validity_days)
    signed = await asyncio.to_thread(_render_signed, cert, kind, facts, dept_name=kind.issuer,
                                     base_url=deps.settings.public_base_url,
                                     ca_dir=deps.settings.certificate_ca_dir)
    key = f"crt-{secrets.token_hex(16)}"
    await deps.storage.put(key, pii.cipher().encrypt_bytes(signed, context="certificate.pdf"))
    cert.pdf_key, cert.status = key, "issued"


def _serial(kind) -> str:
    return f"{kind.serial_prefix}{dt.datetime.now(SHANGHAI):%Y%m%d}{secrets.token_hex(5).upper()}"


async def request(*, actor, type_code: str, purpose: str, idempotency_key: str | None, raw: dict, deps: Deps) -> dict:
    """A certificate request, decided at once where registry data answers it; idempotent per key."""
    kind = types.get(type_code)
    if purpose not in kind.purposes:
        raise ValidationFailed(fields={"purpose": f"可选用途：{'、'.join(kind.purposes)}"})
    citizen = await Citizen.get(id=actor.citizen_id)
    if citizen.assurance_level < 2 or not citizen.id_number_bidx:
        raise AssuranceTooLow("开具证明须先完成实名认证")
    decision = await DECIDERS[kind.decided_by](citizen, home_region=deps.settings.home_region)
    now = deps.clock()
    cert = Certificate(citizen_id=citizen.id, requested_by=actor.actor_id, type_code=kind.code, dept=kind.dept,
                       purpose=purpose, serial=_serial(kind), verify_code=secrets.token_urlsafe(9),
                       status={"issue": "issued", "review": "pending_review", "reject": "rejected"}[decision.outcome],
                       reason=decision.reason,
                       facts_enc=pii.cipher().encrypt(json.dumps(decision.facts, ensure_ascii=False),
                                                      context="certificate.facts") if decision.facts else None)

    async def create() -> tuple[int, dict]:
        # Rendered here, after the idempotency check: a replay renders and stores nothing.
        if decision.outcome == "issue":
            await _issue(cert, kind, decision.facts, now=now, deps=deps)
        await cert.save()
        await _tell_holder(cert, at=now)
        # Stored for replays, so in its JSON form (ISO 8601 times, as every answer).
        return 201, CertificateRead.model_validate(record(cert, base_url=deps.settings.public_base_url, now=now)
                                                   ).model_dump(mode="json")

    try:
        _, answer = await idempotency.run_once(scope=f"{citizen.id}:certificates", key=idempotency_key, body=raw,
                                               create=create, look_first=True)
    except BaseException:
        await _forget_pdf(cert, deps)
        raise
    if answer["id"] != cert.id:  # a concurrent request with the same key won: ours rolled back
        await _forget_pdf(cert, deps)
    return answer


async def _forget_pdf(cert: Certificate, deps: Deps) -> None:
    if cert.pdf_key is not None:
        await deps.storage.delete(cert.pdf_key)


async def list_mine(*, citizen_id: str, paging: PageRequest, base_url: str, now: dt.datetime) -> Page:
    """The citizen's certificate requests, newest first."""
    found = await paginate(Certificate.filter(citizen_id=citizen_id), page=paging)
    return found.map(lambda c: record(c, base_url=base_url, now=now))


async def staff_list(*, actor, status: str | None, paging: PageRequest, base_url: str, now: dt.datetime) -> Page:
    """Requests of the staff member's departments (all for a super admin), oldest first: the review queue."""
    query = Certificate.all() if "super_admin" in actor.roles else Certificate.filter(dept__in=actor.depts)
    if status:
        query = query.filter(status=status)
    found = await paginate(query, page=paging, order=OLDEST_FIRST)
    return found.map(lambda c: record(c, base_url=base_url, now=now))


ALLOWED = {"approve": "pending_review", "reject": "pending_review", "revoke": "issued"}


async def _staff_certificate(*, actor, certificate_id: str) -> Certificate:
    """A certificate of the staff member's departments (any for a super admin), else 404."""
    cert = await Certificate.get_or_none(id=certificate_id)
    if cert is None or ("super_admin" not in actor.roles and cert.dept not in actor.depts):
        raise NotFound("证明不存在")
    return cert


async def staff_read(*, actor, certificate_id: str, base_url: str, now: dt.datetime, redis) -> dict:
    """One request as its reviewer sees it: the record, the holder and the facts (masked), the moves open now;
    the read is audited (it shows whose certificate it is)."""
    cert = await _staff_certificate(actor=actor, certificate_id=certificate_id)
    try:
        shown = await citizens_service.profile(citizen_id=cert.citizen_id, redis=redis)
        holder = {"id": shown.id, "name": shown.name, "id_number": shown.id_number,
                  "assurance_level": shown.assurance_level}
    except NotFound:
        holder = None
    facts = [{"key": k, "label": LABELS.get(k, k), "value": mask_fact(k, v)} for k, v in facts_of(cert).items()]
    current = state(cert, now)
    await audit.record_for(actor, action="certificate.read", target_type="certificate", target_id=cert.id)
    return {**record(cert, base_url=base_url, now=now), "dept": cert.dept, "holder": holder, "facts": facts,
            "allowed_actions": [a for a, s in ALLOWED.items() if s == current]}


async def own(*, citizen_id: str, certificate_id: str) -> Certificate:
    """The citizen's certificate, or 404."""
    cert = await Certificate.get_or_none(id=certificate_id, citizen_id=citizen_id)
    if cert is None:
        raise NotFound("证明不存在")
    return cert


async def pdf_of(*, actor, certificate_id: str, deps: Deps) -> tuple[Certificate, bytes]:
    """The citizen's certificate and its signed PDF, once issued (or since revoked); the read is audited."""
    cert = await own(citizen_id=actor.citizen_id, certificate_id=certificate_id)
    if cert.pdf_key is None:
        raise Conflict("该证明尚未出具", code="not_issued")
    data = pii.cipher().decrypt_bytes(await deps.storage.get(cert.pdf_key), context="certificate.pdf")
    await audit.record_for(actor, action="certificate.pdf.read", target_type="certificate", target_id=cert.id)
    return cert, data


async def staff_action(*, actor, certificate_id: str, action: str, note: str | None, deps: Deps) -> dict:
    """approve or reject a pending request, or revoke an issued certificate (effective at once)."""
    cert = await _staff_certificate(actor=actor, certificate_id=certificate_id)
    if cert.status != ALLOWED[action]:
        raise Conflict(f"当前状态（{cert.status}）不允许 {action}", code="invalid_transition")
    if action in ("reject", "revoke") and not note:
        raise ValidationFailed(fields={"note": "须写明理由"})
    now = deps.clock()
    before = cert.status
    if action == "approve":
        kind = types.all_types()[cert.type_code]
        await _issue(cert, kind, facts_of(cert), now=now, deps=deps)
        cert.reason = note
        updates = {"status": "issued", "pdf_key": cert.pdf_key, "issued_at": cert.issued_at,
                   "expires_at": cert.expires_at, "reason": note}
    elif action == "reject":
        updates = {"status": "rejected", "reason": note}
    else:
        updates = {"status": "revoked", "revoked_at": now, "reason": note}
    try:
        async with in_transaction():
            changed = await Certificate.filter(id=cert.id, status=before).update(**updates, status_changed_at=now)
            if not changed:
                raise Conflict("证明状态已被他人更新", code="invalid_transition")
            await audit.record_for(actor, action=f"certificate.{action}", target_type="certificate",
                                   target_id=cert.id)
            for k, v in updates.items():
                setattr(cert, k, v)
            await _tell_holder(cert, at=now)
    except BaseException:
        if action == "approve":
            await _forget_pdf(cert, deps)
        raise
    if cert.issued_at is not None:
        await publish_card(cert=cert, redis=deps.redis)
    return record(cert, base_url=deps.settings.public_base_url, now=now)


async def _tell_holder(cert: Certificate, *, at: dt.datetime) -> None:
    """Tell the holder the decision the certificate now records, once; inside the transaction that records it."""
    kind = MESSAGE_OF.get(cert.status)
    if kind is None:  # pending_review: nothing is decided yet
        return
    certificate_type = types.all_types()[cert.type_code]
    await notifications.notify_citizen(
        citizen_id=cert.citizen_id, kind=kind, ref={"kind": "certificate", "id": cert.id},
        params={"certificate_name": certificate_type.name, "issuer": certificate_type.issuer,
                "at": at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"), "reason": cert.reason or ""},
        event_key=f"{kind}:{cert.id}", page=f"pages/certificates/detail?id={cert.id}")


def _invalid(now: dt.datetime) -> dict:
    return {"status": "invalid", "checked_at": now}


def verify_key(serial: str) -> str:
    """The Redis key of a certificate's verification card."""
    return f"cert:verify:{serial}"


def _card(cert: Certificate) -> dict:
    """What verification needs of a certificate, without personal data beyond the masked holder."""
    kind = types.all_types()[cert.type_code]
    return {"status": cert.status, "code_hash": _code_hash(cert.verify_code), "type": kind.name,
            "issuer": kind.issuer, "issued_at": cert.issued_at.isoformat(), "expires_at": cert.expires_at.isoformat(),
            "holder_masked": mask_fact("name", facts_of(cert).get("name")), "serial": cert.serial,
            "purpose": cert.purpose, "status_since": (cert.revoked_at or cert.issued_at).isoformat()}


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def publish_card(*, cert: Certificate, redis) -> None:
    """Write a certificate's current card after its status changed (revocation is seen at once, everywhere)."""
    await redis.set(verify_key(cert.serial), json.dumps(_card(cert), ensure_ascii=False), ex=CARD_TTL_SECONDS)


async def verify_serial(*, serial: str, code: str, now: dt.datetime, redis, cached: str | None = None) -> dict:
    """What the QR code's URL proves: the fewest fields a verifier needs, and when we knew them."""
    card = json.loads(cached) if cached else None
    if card is None:
        cert = await Certificate.get_or_none(serial=serial, using_db=db.reader())
        if cert is None or not cert.issued_at:
            return _invalid(now)
        card = _card(cert)
        # NX: a status change writes the card itself, and a reader that raced it must not put back the old one.
        await redis.set(verify_key(serial), json.dumps(card, ensure_ascii=False), ex=CARD_TTL_SECONDS, nx=True)
    if not secrets.compare_digest(card["code_hash"], _code_hash(code or "")):
        return _invalid(now)
    status = card["status"]
    if status == "issued":
        status = "expired" if dt.datetime.fromisoformat(card["expires_at"]) <= now else "valid"
    return {"status": status, "type": card["type"], "issuer": card["issuer"], "issued_at": card["issued_at"],
            "expires_at": card["expires_at"], "holder_masked": card["holder_masked"],
            "fields": {"serial": card["serial"], "purpose": card["purpose"]}, "status_since": card["status_since"],
            "checked_at": now}

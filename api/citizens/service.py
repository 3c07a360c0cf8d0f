"""Citizens: profile, real-name verification against the population registry, delegations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from api.citizens import delegation_messages, profile_cache
from api.citizens.errors import AssuranceTooLow, IdentityConflict, RealNameMismatch
from api.citizens.models import Citizen, Delegation, PopulationRecord
from api.citizens.schemas import CitizenRead, DelegationRead, PlatformLink
from api.core import audit, db, ids, pii, ratelimit
from api.core.errors import AppError, Conflict, NotFound
from api.core.pagination import Page, PageRequest, paginate
from notifications import service as notifications

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def get(*, citizen_id: str) -> Citizen:
    """The citizen, or 404."""
    citizen = await Citizen.get_or_none(id=citizen_id)
    if citizen is None:
        raise NotFound("市民不存在")
    return citizen


async def profile(*, citizen_id: str, redis, reveal: bool = False, cached: str | None = None) -> CitizenRead:
    """The citizen as they see themselves; personal data masked unless `reveal`; 404 if gone."""
    snapshot = await profile_cache.load(redis=redis, citizen_id=citizen_id, cached=cached)
    if snapshot is None:
        raise NotFound("市民不存在")
    c = pii.cipher()
    name = c.decrypt(snapshot["name_enc"], context="citizen.name")
    phone = c.decrypt(snapshot["phone_enc"], context="citizen.phone")
    id_number = c.decrypt(snapshot["id_number_enc"], context="citizen.id_number")
    if not reveal:
        name, phone, id_number = pii.mask_name(name), pii.mask_phone(phone), pii.mask_id_number(id_number)
    return CitizenRead(
        id=snapshot["id"], name=name, phone=phone, id_number=id_number, assurance_level=snapshot["assurance_level"],
        real_name_verified=snapshot["real_name_verified"], masked=not reveal,
        platforms=[PlatformLink(**link) for link in snapshot["platforms"]],
    )


async def masked_names(*, citizen_ids: list[str]) -> dict[str, str | None]:
    """Citizen id → masked name (None where no name is known), in one query: for lists that name people."""
    rows = await Citizen.filter(id__in=list(set(citizen_ids))).only("id", "name_enc")
    c = pii.cipher()
    return {r.id: pii.mask_name(c.decrypt(r.name_enc, context="citizen.name")) if r.name_enc else None for r in rows}


async def read_profile(*, actor, redis, reveal: bool, cached: str | None = None) -> CitizenRead:
    """The profile for a request: a revealed one, or one an agent reads, is audited (personal-data read)."""
    answer = await profile(citizen_id=actor.citizen_id, redis=redis, reveal=reveal, cached=cached)
    if reveal or actor.is_agent:
        await audit.record_for(actor, action="citizen.profile.read", target_type="citizen", target_id=answer.id,
                               detail={"revealed": reveal})
    return answer


async def holds_data(*, citizen: Citizen) -> bool:
    """True when merging this citizen away would lose something: a phone, a real name, delegations."""
    if citizen.phone_bidx or citizen.id_number_bidx or citizen.assurance_level >= 2:
        return True
    return await Delegation.filter(Q(principal_id=citizen.id) | Q(agent_id=citizen.id)).exists()


async def verify_real_name(*, actor, name: str, id_number: str, redis, tries_per_day: int) -> Citizen:
    """Check name + id number against the population registry and raise the citizen to level 2.

    Every try reads the registry, so every try is audited: a refused one on its own, a successful one with the
    change it makes."""
    citizen_id = actor.citizen_id
    today = dt.datetime.now(SHANGHAI).strftime("%Y%m%d")
    await ratelimit.hit(redis, bucket=f"realname:{citizen_id}:{today}", limit=tries_per_day, window_seconds=86400)
    try:
        citizen = await _verify_real_name(actor, name=name, id_number=id_number)
    except AppError:
        await _audit_real_name(actor)
        raise
    await profile_cache.forget(redis=redis, citizen_ids=[citizen_id])
    return citizen


async def _audit_real_name(actor) -> None:
    await audit.record_for(actor, action="registry.population.verify", target_type="citizen",
                           target_id=actor.citizen_id)


async def _verify_real_name(actor, *, name: str, id_number: str) -> Citizen:
    citizen_id = actor.citizen_id
    c = pii.cipher()
    id_bidx = c.blind_index(id_number, kind="id_number")
    record = await PopulationRecord.get_or_none(id_number_bidx=id_bidx)
    if record is None or c.decrypt(record.name_enc, context="population.name") != name:
        raise RealNameMismatch()
    async with in_transaction():
        citizen = await Citizen.select_for_update().get(id=citizen_id)
        holder = await Citizen.get_or_none(id_number_bidx=id_bidx)
        if holder is not None and holder.id != citizen.id:
            raise IdentityConflict()
        if citizen.id_number_bidx and citizen.id_number_bidx != id_bidx:
            raise Conflict("该账号已实名认证为其他证件", code="already_verified")
        citizen.name_enc = c.encrypt(name, context="citizen.name")
        citizen.id_number_enc = c.encrypt(id_number, context="citizen.id_number")
        citizen.id_number_bidx = id_bidx
        citizen.assurance_level = max(citizen.assurance_level, 2)
        citizen.real_name_verified_at = citizen.real_name_verified_at or _now()
        await citizen.save()
        # What campaigns told this person before they had an account (their grants) reaches their inbox now.
        await notifications.deliver_held_messages(citizen_id=citizen.id, person_bidx=id_bidx)
        await _audit_real_name(actor)
    return citizen


def delegation_status(delegation: Delegation) -> str:
    """`expired` once past its end, else the stored status."""
    if delegation.status in ("pending", "active") and delegation.expires_at <= _now():
        return "expired"
    return delegation.status


async def _delegation_read(delegation: Delegation, *, role: str, principal: Citizen | None = None) -> DelegationRead:
    c = pii.cipher()
    principal_name = None
    if role == "agent":
        # The agent needs to know whom they act for, masked as everywhere else.
        principal = principal or await Citizen.get(id=delegation.principal_id)
        principal_name = pii.mask_name(c.decrypt(principal.name_enc, context="citizen.name"))
    return DelegationRead(
        id=delegation.id, role=role, principal_id=delegation.principal_id, principal_name=principal_name,
        agent_phone=pii.mask_phone(c.decrypt(delegation.agent_phone_enc, context="delegation.agent_phone")),
        scopes=delegation.scopes, status=delegation_status(delegation), expires_at=delegation.expires_at,
        created_at=delegation.created_at, accepted_at=delegation.accepted_at, declined_at=delegation.declined_at,
    )


async def create_delegation(*, actor, agent_phone: str, scopes: list[str], expires_at: dt.datetime) -> DelegationRead:
    """Invite the holder of `agent_phone` to act for the principal (the actor) within `scopes`."""
    principal_id = actor.citizen_id
    principal = await get(citizen_id=principal_id)
    if principal.assurance_level < 2:
        raise AssuranceTooLow("委托他人代办前请先完成实名认证")
    c = pii.cipher()
    phone_bidx = c.blind_index(agent_phone, kind="phone")
    if phone_bidx == principal.phone_bidx:
        raise Conflict("不能委托自己代办", code="self_delegation")
    phone = pii.normalize(agent_phone, kind="phone")
    async with in_transaction():
        delegation = await Delegation.create(
            principal_id=principal_id, agent_phone_bidx=phone_bidx,
            agent_phone_enc=c.encrypt(phone, context="delegation.agent_phone"), scopes=scopes, expires_at=expires_at,
        )
        await audit.record_for(actor, action="delegation.create", target_type="delegation", target_id=delegation.id,
                               detail={"scopes": scopes})
        await delegation_messages.tell_invited(delegation=delegation, principal=principal, phone=phone)
    return await _delegation_read(delegation, role="principal")


async def _invitation_for_update(*, agent: Citizen, delegation_id: str) -> Delegation:
    """The delegation, locked, when it invites `agent` (by verified phone); 404 for anyone else."""
    delegation = (await Delegation.select_for_update().get_or_none(id=delegation_id)
                  if ids.could_be_id(delegation_id) else None)
    if delegation is None or agent.phone_bidx is None or delegation.agent_phone_bidx != agent.phone_bidx:
        raise NotFound("授权邀请不存在")
    if delegation.principal_id == agent.id:
        raise NotFound("授权邀请不存在")
    return delegation


async def accept_delegation(*, actor, delegation_id: str) -> DelegationRead:
    """The invited agent (the actor, by verified phone) accepts; anyone else gets 404."""
    agent_id = actor.citizen_id
    agent = await get(citizen_id=agent_id)
    async with in_transaction():
        delegation = await _invitation_for_update(agent=agent, delegation_id=delegation_id)
        status = delegation_status(delegation)
        if status == "active" and delegation.agent_id == agent_id:
            return await _delegation_read(delegation, role="agent")
        if status != "pending":
            raise Conflict("该授权邀请已失效", code="delegation_not_pending")
        delegation.status, delegation.agent_id, delegation.accepted_at = "active", agent_id, _now()
        await delegation.save()
        await audit.record_for(actor, action="delegation.accept", target_type="delegation", target_id=delegation.id)
        await delegation_messages.tell_principal(delegation=delegation, agent=agent, answer="accepted",
                                                 at=delegation.accepted_at)
    return await _delegation_read(delegation, role="agent")


async def decline_delegation(*, actor, delegation_id: str) -> DelegationRead:
    """The invited person (the actor, by verified phone) declines a pending invitation; anyone else gets 404, and
    an invitation no longer pending is 409 `delegation_not_pending`."""
    agent = await get(citizen_id=actor.citizen_id)
    async with in_transaction():
        delegation = await _invitation_for_update(agent=agent, delegation_id=delegation_id)
        if delegation_status(delegation) != "pending":
            raise Conflict("该授权邀请已失效", code="delegation_not_pending")
        delegation.status, delegation.declined_at = "declined", _now()
        await delegation.save(update_fields=["status", "declined_at"])
        await audit.record_for(actor, action="delegation.decline", target_type="delegation", target_id=delegation.id)
        await delegation_messages.tell_principal(delegation=delegation, agent=agent, answer="declined",
                                                 at=delegation.declined_at)
    return await _delegation_read(delegation, role="agent")


async def revoke_delegation(*, actor, delegation_id: str) -> DelegationRead:
    """Either side (the actor) ends a delegation: the principal a mandate or a pending invitation, the agent a
    mandate they accepted. The other side is told when it was still pending or active; revoking again changes
    nothing and tells no one."""
    citizen_id = actor.citizen_id
    async with in_transaction():
        delegation = (await Delegation.select_for_update().get_or_none(id=delegation_id)
                      if ids.could_be_id(delegation_id) else None)
        if delegation is None or citizen_id not in (delegation.principal_id, delegation.agent_id):
            raise NotFound("授权不存在")
        if delegation.status != "revoked":
            was = delegation_status(delegation)
            delegation.status, delegation.revoked_at = "revoked", _now()
            await delegation.save()
            await audit.record_for(actor, action="delegation.revoke", target_type="delegation",
                                   target_id=delegation.id)
            if was in ("pending", "active"):  # a declined or expired one no longer concerns the other side
                await delegation_messages.tell_revoked(delegation=delegation, by=await get(citizen_id=citizen_id),
                                                       at=delegation.revoked_at)
    role = "principal" if delegation.principal_id == citizen_id else "agent"
    return await _delegation_read(delegation, role=role)


async def list_delegations(*, citizen_id: str, paging: PageRequest) -> Page:
    """Delegations I gave and those I accepted, newest first."""
    found = await paginate(Delegation.filter(Q(principal_id=citizen_id) | Q(agent_id=citizen_id)), page=paging)
    return Page([await _delegation_read(d, role="principal" if d.principal_id == citizen_id else "agent")
                 for d in found.items], found.next_cursor)


def _naming(me: Citizen) -> Q:
    """Delegations whose agent I am: accepted by me, or not accepted by anyone and sent to my verified phone (matched
    by its blind index, so an invitation made before I had an account is mine once I log in with that phone)."""
    naming_me = Q(agent_id=me.id)
    if me.phone_bidx is not None:
        # Once someone accepted, the mandate is theirs: a later holder of that number does not see it.
        naming_me |= Q(agent_id__isnull=True, agent_phone_bidx=me.phone_bidx)
    return naming_me


async def read_delegation(*, citizen_id: str, delegation_id: str) -> DelegationRead:
    """One delegation, for its principal or the relative it names (as in received_delegations); 404 for anyone
    else."""
    me = await get(citizen_id=citizen_id)
    if not ids.could_be_id(delegation_id):
        raise NotFound("授权不存在")
    delegation = await Delegation.get_or_none(Q(id=delegation_id) & (Q(principal_id=me.id) | _naming(me)))
    if delegation is None:
        raise NotFound("授权不存在")
    return await _delegation_read(delegation, role="principal" if delegation.principal_id == me.id else "agent")


async def received_delegations(*, citizen_id: str, paging: PageRequest) -> Page:
    """Invitations and mandates naming me as the agent (pending ones to my verified phone, active, revoked, expired,
    declined), newest first, each with the principal masked."""
    me = await get(citizen_id=citizen_id)
    found = await paginate(Delegation.filter(_naming(me)).exclude(principal_id=citizen_id)
                           .prefetch_related("principal"), page=paging)
    return Page([await _delegation_read(d, role="agent", principal=d.principal) for d in found.items],
                found.next_cursor)


async def delegated_level(*, principal_id: str, agent_id: str, scope: str) -> int | None:
    """The principal's assurance level if `agent_id` holds an active delegation covering `scope`."""
    rows = await Delegation.filter(
        principal_id=principal_id, agent_id=agent_id, status="active", expires_at__gt=db.as_stored(_now())
    ).prefetch_related("principal")
    for delegation in rows:
        if scope in delegation.scopes:
            return delegation.principal.assurance_level
    return None

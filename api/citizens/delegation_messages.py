"""What the two sides of a delegation (亲友代办) are told: the invited relative of the invitation, the principal of an
acceptance or a refusal, the other side of a revoke. Each function is called inside the transaction of the change,
so the change and its message commit together, and each event is told once (its event key)."""

from __future__ import annotations

import datetime as dt

from api.citizens.models import Citizen, Delegation
from api.citizens.schemas import DELEGATION_SCOPES
from api.core import pii
from api.core.workdays import SHANGHAI
from notifications import service as notifications

# The scopes as a citizen reads them (messages only; the API keeps the codes). Every scope has its words.
SCOPE_WORDS = {
    "profile": "个人信息", "applications": "办件申请", "certificates": "证明开具", "licenses": "电子证照",
    "benefits": "惠民补贴", "inbox": "消息查看", "codes": "一人一码",
}
PAGE = "pages/delegations/detail?id={id}"


def scope_words(scopes: list[str]) -> str:
    """The scopes in Chinese words, in the order of DELEGATION_SCOPES: "个人信息、办件申请"."""
    return "、".join(SCOPE_WORDS[s] for s in DELEGATION_SCOPES if s in scopes)


def shown_as(citizen: Citizen) -> str:
    """How a side of a delegation is named to the other: the masked real name ("张*"), else the phone's last four
    digits ("尾号5678")."""
    c = pii.cipher()
    name = c.decrypt(citizen.name_enc, context="citizen.name")
    if name:
        return pii.mask_name(name)
    # A masked phone (138****5678) does not fit WeChat's `name` field (10 characters, no cut inside a number).
    phone = c.decrypt(citizen.phone_enc, context="citizen.phone") or ""
    return f"尾号{phone[-4:]}" if phone else "您的亲友"


def _date(at: dt.datetime) -> str:
    return at.astimezone(SHANGHAI).date().isoformat()


async def tell_invited(*, delegation: Delegation, principal: Citizen, phone: str) -> bool:
    """Tell the relative `phone` names of the invitation: in their inbox and on their platform when the phone is a
    citizen's (verified) number, else by SMS to the phone. False when it was already told."""
    params = {"inviter": shown_as(principal), "scope": scope_words(delegation.scopes),
              "expires": _date(delegation.expires_at)}
    common = dict(kind="delegation_invitation", params=params, ref={"kind": "delegation", "id": delegation.id},
                  event_key=f"delegation_invited:{delegation.id}", page=PAGE.format(id=delegation.id))
    invited = await Citizen.get_or_none(phone_bidx=delegation.agent_phone_bidx)
    if invited is not None:
        return await notifications.notify_citizen(citizen_id=invited.id, **common)
    return await notifications.notify_phone(phone=phone, **common)


async def tell_principal(*, delegation: Delegation, agent: Citizen, answer: str, at: dt.datetime) -> bool:
    """Tell the principal that the invited relative (`agent`) accepted or declined (`answer`); once per answer."""
    kind = {"accepted": "delegation_accepted", "declined": "delegation_declined"}[answer]
    params = {"relative": shown_as(agent), "scope": scope_words(delegation.scopes), "at": _date(at)}
    return await notifications.notify_citizen(
        citizen_id=delegation.principal_id, kind=kind, params=params, ref={"kind": "delegation", "id": delegation.id},
        event_key=f"{kind}:{delegation.id}", page=PAGE.format(id=delegation.id))


async def tell_revoked(*, delegation: Delegation, by: Citizen, at: dt.datetime) -> bool:
    """Tell the other side that `by` revoked: the agent when the principal revoked (for a pending invitation, the
    citizen holding the invited phone, if any), the principal when the agent stepped down. False when nobody is
    told (the invited phone has no account: the revoke template has no SMS) or it was already told."""
    told = delegation.principal_id
    if by.id == delegation.principal_id:
        told = delegation.agent_id
        if told is None:
            invited = await Citizen.get_or_none(phone_bidx=delegation.agent_phone_bidx)
            told = invited.id if invited is not None else None
    if not told:
        return False
    params = {"relative": shown_as(by), "scope": scope_words(delegation.scopes), "at": _date(at)}
    return await notifications.notify_citizen(
        citizen_id=told, kind="delegation_revoked", params=params, ref={"kind": "delegation", "id": delegation.id},
        event_key=f"delegation_revoked:{delegation.id}", page=PAGE.format(id=delegation.id))

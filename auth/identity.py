"""Unified identity: one citizen per person across WeChat and Alipay."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.citizens import profile_cache
from api.citizens import service as citizens_service
from api.citizens.errors import IdentityConflict
from api.citizens.models import Citizen, PlatformAccount
from api.core import pii
from miniapp_handlers.base import PlatformIdentity


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def _find_account(identity: PlatformIdentity) -> PlatformAccount | None:
    account = await PlatformAccount.get_or_none(
        platform=identity.platform, appid=identity.appid, platform_uid=identity.platform_uid
    )
    if account is None and identity.unionid:
        # Another mini-program of the same WeChat Open Platform account: same person.
        sibling = await PlatformAccount.filter(platform=identity.platform, unionid=identity.unionid).first()
        if sibling is not None:
            account = await PlatformAccount.create(
                citizen_id=sibling.citizen_id, platform=identity.platform, appid=identity.appid,
                platform_uid=identity.platform_uid, unionid=identity.unionid,
            )
    return account


async def holds_phone(*, identity: PlatformIdentity, phone: str) -> bool:
    """True when this platform account (or its unionid sibling) already belongs to the citizen whose verified phone
    is `phone`: a login that links nothing and writes no number."""
    account = await PlatformAccount.get_or_none(
        platform=identity.platform, appid=identity.appid, platform_uid=identity.platform_uid)
    if account is None and identity.unionid:
        account = await PlatformAccount.filter(platform=identity.platform, unionid=identity.unionid).first()
    if account is None:
        return False
    return await Citizen.filter(id=account.citizen_id,
                                phone_bidx=pii.cipher().blind_index(phone, kind="phone")).exists()


async def _attach_phone(citizen: Citizen, phone: str, phone_bidx: str) -> None:
    citizen.phone_enc = pii.cipher().encrypt(pii.normalize(phone, kind="phone"), context="citizen.phone")
    citizen.phone_bidx = phone_bidx
    citizen.assurance_level = max(citizen.assurance_level, 1)
    await citizen.save()


async def _resolve(identity: PlatformIdentity, phone: str | None, touched: list[str]) -> tuple[Citizen, bool]:
    phone_bidx = pii.cipher().blind_index(phone, kind="phone") if phone else None
    async with in_transaction():
        account = await _find_account(identity)
        by_phone = await Citizen.get_or_none(phone_bidx=phone_bidx) if phone_bidx else None
        created = False
        if account is None:
            citizen = by_phone
            if citizen is None:
                citizen, created = await Citizen.create(), True
                if phone:
                    await _attach_phone(citizen, phone, phone_bidx)
            account = await PlatformAccount.create(
                citizen_id=citizen.id, platform=identity.platform, appid=identity.appid,
                platform_uid=identity.platform_uid, unionid=identity.unionid,
            )
        else:
            citizen = await Citizen.get(id=account.citizen_id)
            if by_phone is not None and by_phone.id != citizen.id:
                if await citizens_service.holds_data(citizen=citizen):
                    raise IdentityConflict()
                # This platform account's citizen is an empty shell: move the account to the phone's owner.
                await PlatformAccount.filter(citizen_id=citizen.id).update(citizen_id=by_phone.id)
                await citizen.delete()
                touched.append(citizen.id)
                citizen = by_phone
            elif phone and citizen.phone_bidx != phone_bidx:
                # A new number for the same account (the old one may be gone): the verified one wins.
                await _attach_phone(citizen, phone, phone_bidx)
        await PlatformAccount.filter(id=account.id).update(
            last_login_at=_now(), unionid=identity.unionid or account.unionid)
    touched.append(citizen.id)
    return citizen, created


async def resolve_login(*, identity: PlatformIdentity, phone: str | None, redis) -> tuple[Citizen, bool]:
    """The one citizen behind a platform login (created on first sight) and whether it was created."""
    touched: list[str] = []
    try:
        try:
            return await _resolve(identity, phone, touched)
        except IntegrityError:
            # Two first logins of the same person raced; the other one created the rows, so read them.
            return await _resolve(identity, phone, touched)
    finally:
        await profile_cache.forget(redis=redis, citizen_ids=touched)

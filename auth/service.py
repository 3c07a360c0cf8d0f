"""Signing in and out, for citizens (WeChat, Alipay) and staff (password): rate limits, identity, token pairs,
refresh rotation, and the audit rows, each committed with the change it records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from api.admin import service as admin_service
from api.admin.schemas import AdminRead
from api.citizens import service as citizens_service
from api.core import audit, ratelimit
from api.core.deps import Deps
from api.core.guards import ADMIN_AUDIENCE, CITIZEN_AUDIENCE
from api.core.settings import Settings
from auth import identity, otp, tokens
from auth.errors import PhoneOtpRequired


@dataclass(frozen=True)
class Subject:
    """One kind of account that signs in, and what differs between the kinds; the flows are the same."""

    type: str  # the refresh tokens' subject_type, and the audit rows' actor and target type
    audience: str
    login_action: str
    refresh_ttl: Callable[[Settings], int]
    load: Callable[[str], Awaitable[Any]]  # the account by id; refused when it is gone
    claims: Callable[[Any], dict]  # what its access tokens carry besides the subject and session
    answer: Callable[[Any], dict]  # what its token answers carry besides the pair


CITIZEN = Subject(
    type="citizen", audience=CITIZEN_AUDIENCE, login_action="citizen.login",
    refresh_ttl=lambda s: s.refresh_token_ttl_seconds,
    load=lambda subject_id: citizens_service.get(citizen_id=subject_id),
    claims=lambda citizen: {"lvl": citizen.assurance_level},
    answer=lambda citizen: {},
)
STAFF = Subject(
    type="admin", audience=ADMIN_AUDIENCE, login_action="admin.login",
    refresh_ttl=lambda s: s.admin_refresh_token_ttl_seconds,
    load=lambda subject_id: admin_service.get(admin_id=subject_id),
    claims=lambda account: {"roles": account.roles, "depts": account.depts, "usr": account.username},
    answer=lambda account: {"admin": AdminRead.model_validate(account, from_attributes=True)},
)
SUBJECTS = {kind.type: kind for kind in (CITIZEN, STAFF)}


async def _limit(deps: Deps, bucket: str, limit: int) -> None:
    await ratelimit.hit(deps.redis, bucket=bucket, limit=limit, window_seconds=deps.settings.login_rate_window_seconds)


async def _pair(*, deps: Deps, kind: Subject, subject, family_id: str | None = None) -> dict:
    """A new access token and refresh token (a new session unless `family_id`)."""
    refresh_token, family_id = await tokens.issue_refresh(
        subject_type=kind.type, subject_id=subject.id, ttl_seconds=kind.refresh_ttl(deps.settings), family_id=family_id,
    )
    access = deps.tokens.issue_access(subject=subject.id, audience=kind.audience, session_id=family_id,
                                      claims=kind.claims(subject))
    return {"access_token": access, "refresh_token": refresh_token, "token_type": "Bearer",
            "expires_in": deps.settings.access_token_ttl_seconds}


async def _open_session(*, deps: Deps, kind: Subject, subject, ip: str, request_id: str | None,
                        detail: dict | None = None) -> dict:
    """A new session's token pair and its login audit row; the caller's transaction commits them together."""
    pair = await _pair(deps=deps, kind=kind, subject=subject)
    await audit.record(actor_type=kind.type, actor_id=subject.id, action=kind.login_action, target_type=kind.type,
                       target_id=subject.id, request_id=request_id, ip=ip, detail=detail)
    return pair


async def _proved_afresh(*, deps: Deps, who, phone: str, phone_otp: str | None) -> bool:
    """For a phone from a replayable proof: whether an SMS code proved it afresh. None is needed when the account
    already holds that number; otherwise PhoneOtpRequired without a code, InvalidPhoneOtp for a wrong one."""
    if await identity.holds_phone(identity=who, phone=phone):
        return False
    if not phone_otp:
        raise PhoneOtpRequired(phone)
    await otp.redeem_code(deps=deps, phone=phone, code=phone_otp)
    return True


async def citizen_login(*, deps: Deps, platform: str, code: str, phone_credential: Any, ip: str,
                        request_id: str | None, phone_otp: str | None = None) -> dict:
    """Sign a citizen in with a WeChat or Alipay login code (and phone proof): tokens, profile, `created`.

    A phone proof the platform declares replayable (Alipay's) links the account to the number's citizen, or sets
    the number, only with `phone_otp`, an SMS code sent to that number (otp.send_code)."""
    settings = deps.settings
    await _limit(deps, f"login:ip:{ip}", settings.login_rate_per_ip)
    client = deps.platforms[platform]
    if phone_credential:
        who, phone = await asyncio.gather(client.exchange_login_code(code), client.fetch_phone(phone_credential))
    else:
        who, phone = await client.exchange_login_code(code), None
    await _limit(deps, f"login:acct:{who.platform}:{who.platform_uid}", settings.login_rate_per_account)
    detail = {"platform": who.platform}
    if phone and client.phone_proof_replayable and await _proved_afresh(deps=deps, who=who, phone=phone,
                                                                         phone_otp=phone_otp):
        detail["phone_proof"] = "sms_otp"
    citizen, created = await identity.resolve_login(identity=who, phone=phone, redis=deps.redis)
    async with in_transaction():
        pair = await _open_session(deps=deps, kind=CITIZEN, subject=citizen, ip=ip, request_id=request_id,
                                   detail={**detail, "created": created})
    profile = await citizens_service.profile(citizen_id=citizen.id, redis=deps.redis)
    return {**pair, "citizen": profile, "created": created}


async def staff_login(*, deps: Deps, username: str, password: str, ip: str, request_id: str | None) -> dict:
    """Sign a staff member in with a password (locked after repeated failures): tokens and the account."""
    settings = deps.settings
    await _limit(deps, f"admin-login:ip:{ip}", settings.login_rate_per_ip)
    check = await admin_service.check_password(username=username, password=password)
    refused = None
    async with in_transaction():
        try:
            account = await admin_service.settle_login(check=check, max_failures=settings.admin_max_failed_logins,
                                                       lock_minutes=settings.admin_lock_minutes)
        except (admin_service.InvalidCredentials, admin_service.AccountLocked) as exc:
            # Caught inside the transaction so that the failure count and its audit row commit; raised after.
            refused = exc
            await audit.record(actor_type=STAFF.type, actor_id=f"username:{username}"[:40],
                               action="admin.login.failed", request_id=request_id, ip=ip, detail={"code": exc.code})
        else:
            pair = await _open_session(deps=deps, kind=STAFF, subject=account, ip=ip, request_id=request_id)
    if refused is not None:
        raise refused
    return {**pair, **STAFF.answer(account)}


async def refresh(*, deps: Deps, subject_type: str, token: str) -> dict:
    """Spend a refresh token of `subject_type` ("citizen" or "admin") for the next pair of its session; a token
    of the other kind is 401, and one used twice is 401 `refresh_token_reused` and ends the session."""
    kind = SUBJECTS[subject_type]
    row = await tokens.rotate_refresh(token=token, subject_type=kind.type, redis=deps.redis,
                                      access_ttl=deps.settings.access_token_ttl_seconds)
    subject = await kind.load(row.subject_id)
    pair = await _pair(deps=deps, kind=kind, subject=subject, family_id=row.family_id)
    return {**pair, **kind.answer(subject)}


async def logout(*, deps: Deps, session_id: str) -> None:
    """End a session: its refresh tokens are revoked and its live access tokens refused."""
    await tokens.revoke_family(family_id=session_id, redis=deps.redis,
                               access_ttl=deps.settings.access_token_ttl_seconds)


async def set_staff_disabled(*, deps: Deps, actor, admin_id: str, disabled: bool) -> dict:
    """Disable a staff account and end its sessions (refresh tokens revoked, live access tokens refused), or
    enable it again (it signs in afresh); audited."""
    async with in_transaction():
        account = await admin_service.set_disabled(actor=actor, admin_id=admin_id, disabled=disabled)
        sessions = await tokens.revoke_subject(subject_type=STAFF.type, subject_id=account.id) if disabled else []
    await tokens.refuse_sessions(family_ids=sessions, redis=deps.redis,
                                 access_ttl=deps.settings.access_token_ttl_seconds)
    return admin_service.staff_read(account)

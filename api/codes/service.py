"""The one-person code: issuing it, freezing and revoking it, and the revocation list terminals download."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.citizens.errors import AssuranceTooLow
from api.citizens.models import Citizen
from api.codes import cose, state_cache
from api.codes.code_ids import CodeIds
from api.codes.errors import CodeFrozen, CodeHolderRevoked, NotFrozen
from api.codes.keyring import Keyring
from api.codes.models import CodeHolder, CodeRevocation, CodeScan, Terminal
from api.codes.scenes import holder_and_scenes
from api.codes.terminals import SecretHasher
from api.core import audit, db
from api.core.deps import Deps
from api.core.errors import NotFound
from api.core.pagination import Key, Order, Page, PageRequest, nothing, paginate
from api.core.workdays import SHANGHAI
from auth import tokens
from auth.models import RefreshToken
from notifications import service as notifications

REVOCATION_PAGE = 1000
LATEST_SCANS = Order((Key("scanned_at", dt.datetime, descending=True), Key("id", str, descending=True)))
SELF_FREEZE_REASON = "本人在小程序内申请冻结"
STATE_TEXT = {"frozen": "已冻结", "revoked": "已停用"}  # the code_frozen message's `state`


@dataclass(eq=False)
class CodeRuntime:
    """The code services' per-process state, derived once from the process's Deps (see `runtime`)."""

    keyring: Keyring
    code_ids: CodeIds
    hasher: SecretHasher  # terminal secrets
    redis: object
    ttl: int
    skew: int
    issuer: str
    clock: object
    access_ttl: int  # how long a signed-out session's access tokens must stay refused
    batchers: dict = field(default_factory=dict)  # the scan path's group commits (see api.codes.scans)


def _build_runtime(deps: Deps) -> CodeRuntime:
    settings = deps.settings
    return CodeRuntime(
        keyring=Keyring(ttl_seconds=settings.code_ttl_seconds, skew_seconds=settings.code_clock_skew_seconds,
                        period_seconds=settings.code_key_period_hours * 3600),
        code_ids=CodeIds(settings.blind_index_key.encode()), hasher=SecretHasher(settings.blind_index_key.encode()),
        redis=deps.redis, ttl=settings.code_ttl_seconds, skew=settings.code_clock_skew_seconds,
        issuer=settings.home_region, clock=deps.clock, access_ttl=settings.access_token_ttl_seconds)


def runtime(deps: Deps) -> CodeRuntime:
    """The code services' state in this process (key ring, code-id cipher, batchers), made on first use."""
    return deps.derived("codes", _build_runtime)


async def _holder(citizen_id: str) -> CodeHolder:
    holder = await CodeHolder.get_or_none(citizen_id=citizen_id)
    if holder is None:
        try:
            holder = await CodeHolder.create(citizen_id=citizen_id)
        except IntegrityError:  # two first requests at once
            holder = await CodeHolder.get(citizen_id=citizen_id)
    return holder


def _refuse_status(status: str) -> None:
    if status == "frozen":
        raise CodeFrozen()
    if status == "revoked":
        raise CodeHolderRevoked()


async def _state(citizen_id: str) -> dict | None:
    """The code state from the database: holder, status, cutoff and scenes (None below level 2)."""
    # The level as it stands now, not as the access token recorded it at login.
    level, holder, scenes = await holder_and_scenes(citizen_id=citizen_id)
    if level < 2:
        return None
    if holder is None:
        created = await _holder(citizen_id)
        holder = {"id": created.id, "status": created.status, "revoked_before": None}
    return {**holder, "scenes": scenes}


async def _refresh_state(env: CodeRuntime, citizen_id: str) -> None:
    state = await _state(citizen_id)
    if state is not None:
        await state_cache.put(env.redis, citizen_id, state)


async def issue(*, deps: Deps, citizen_id: str, cached: str | None = None, now: dt.datetime | None = None) -> dict:
    """A fresh code for the citizen (real name verified), with the scenes their registry data gives them;
    `cached` is the citizen's cached code state if the caller already read it."""
    env = runtime(deps)
    now = now or env.clock()
    holder = state_cache.parse(cached)
    if holder is None:
        holder = await _state(citizen_id)
        if holder is None:
            raise AssuranceTooLow("出示一人一码须先完成实名认证（二级及以上）")
        await state_cache.fill(env.redis, citizen_id, holder)
    _refuse_status(holder["status"])
    scenes = holder["scenes"]
    kid, key = await env.keyring.signer(now)
    iat = int(now.timestamp())
    if holder["revoked_before"] is not None and iat <= holder["revoked_before"]:
        iat = holder["revoked_before"] + 1  # unfrozen within the second of the freeze: stay clear of its cutoff
    exp = iat + env.ttl
    code_id = env.code_ids.seal(holder_id=holder["id"], issued_at=iat)
    payload = cose.seal({cose.CLAIM_ISS: env.issuer, cose.CLAIM_IAT: iat, cose.CLAIM_EXP: exp,
                         cose.CLAIM_CTI: code_id, cose.CLAIM_SCENES: scenes}, kid=kid, private_key=key)
    return {"payload": payload, "expires_at": dt.datetime.fromtimestamp(exp, dt.timezone.utc),
            # The app refreshes well before expiry, so a code on screen always has time left at the gate.
            "refresh_after_seconds": max(1, env.ttl - 2 * env.skew), "scenes": scenes}


async def _revoke_outstanding(env: CodeRuntime, holder: CodeHolder, *, reason: str, now: dt.datetime) -> None:
    """Refuse every code of the holder issued up to now: online at once, offline through the revocation list."""
    at = int(now.timestamp())
    await CodeHolder.filter(id=holder.id).update(revoked_before=at)
    # Every id the holder's codes can have had in a code's lifetime (ids are per second; most were never
    # issued, and listing those costs terminals a few bytes).
    rows = [CodeRevocation(code_id=env.code_ids.seal(holder_id=holder.id, issued_at=iat).hex(), reason=reason,
                           revoked_at=now, expires_at=dt.datetime.fromtimestamp(iat + env.ttl + env.skew,
                                                                                dt.timezone.utc))
            for iat in range(at - env.ttl - env.skew + 1, at + 1)]
    await CodeRevocation.bulk_create(rows, ignore_conflicts=True)


async def _set_status(holder: CodeHolder, status: str, *, reason: str | None, now: dt.datetime) -> bool:
    """Set the holder's status; True when it was another before (a repeated freeze is not a new freeze)."""
    became = await CodeHolder.filter(id=holder.id).exclude(status=status).update(
        status=status, status_reason=reason, status_changed_at=now)
    if not became:
        await CodeHolder.filter(id=holder.id).update(status_reason=reason, status_changed_at=now)
    return bool(became)


async def _tell_holder(citizen_id: str, *, status: str, reason: str, at: dt.datetime) -> None:
    """Tell the citizen their code stopped working, once per freeze or revocation (a security notice)."""
    await notifications.notify_citizen(
        citizen_id=citizen_id, kind="code_frozen", ref={"kind": "code", "id": citizen_id},
        params={"state": STATE_TEXT[status], "reason": reason,
                "at": at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")},
        event_key=f"code_{status}:{citizen_id}:{int(at.timestamp() * 1_000_000)}", page="pages/code/status")


async def status(*, citizen_id: str) -> dict:
    """The citizen's code status: active, frozen or revoked."""
    holder = await CodeHolder.get_or_none(citizen_id=citizen_id)
    if holder is None:
        return {"status": "active", "changed_at": None, "sessions_ended": None}
    return {"status": holder.status, "changed_at": holder.status_changed_at, "sessions_ended": None}


async def holder_of(*, citizen_id: str, holder_id: str) -> dict:
    """The citizen's own code status under its id (their citizen id: what a code message opens); 404 for another's."""
    if holder_id != citizen_id:
        raise NotFound("码不存在")
    holder = await CodeHolder.get_or_none(citizen_id=citizen_id)
    if holder is None:
        return {"id": citizen_id, "status": "active", "changed_at": None, "reason": None}
    reason = {"frozen": SELF_FREEZE_REASON, "revoked": holder.status_reason}.get(holder.status)
    return {"id": citizen_id, "status": holder.status, "changed_at": holder.status_changed_at, "reason": reason}


async def freeze(*, deps: Deps, actor, now: dt.datetime | None = None) -> dict:
    """The citizen freezes their code (a lost phone): codes already shown are refused and other sessions end."""
    env = runtime(deps)
    now = now or env.clock()
    holder = await _holder(actor.citizen_id)
    if holder.status == "revoked":
        raise CodeHolderRevoked()
    # Whoever holds the lost phone is signed out, so they cannot unfreeze; this session stays.
    families = await RefreshToken.filter(subject_type="citizen", subject_id=actor.citizen_id, revoked_at=None) \
        .exclude(family_id=actor.session_id).distinct().values_list("family_id", flat=True)
    async with in_transaction():
        became = await _set_status(holder, "frozen", reason="citizen_frozen", now=now)
        await _revoke_outstanding(env, holder, reason="frozen", now=now)
        await audit.record_for(actor, action="code.freeze", target_type="citizen", target_id=actor.citizen_id,
                               detail={"sessions_ended": len(families)})
        if became:
            # Told even though they did it themselves: whoever holds the lost phone may have done it instead.
            await _tell_holder(actor.citizen_id, status="frozen", reason=SELF_FREEZE_REASON, at=now)
    await _refresh_state(env, actor.citizen_id)
    for family_id in families:
        await tokens.revoke_family(family_id=family_id, redis=env.redis, access_ttl=env.access_ttl)
    return {"status": "frozen", "changed_at": now, "sessions_ended": len(families)}


async def unfreeze(*, deps: Deps, actor, now: dt.datetime | None = None) -> dict:
    """The citizen lifts their own freeze (codes issued before it stay refused)."""
    env = runtime(deps)
    now = now or env.clock()
    holder = await _holder(actor.citizen_id)
    if holder.status == "revoked":
        raise CodeHolderRevoked()
    if holder.status != "frozen":
        raise NotFrozen()
    async with in_transaction():
        await _set_status(holder, "active", reason=None, now=now)
        await audit.record_for(actor, action="code.unfreeze", target_type="citizen", target_id=actor.citizen_id)
    await _refresh_state(env, actor.citizen_id)
    return {"status": "active", "changed_at": now, "sessions_ended": None}


async def admin_revoke(*, deps: Deps, actor, citizen_id: str, reason: str, now: dt.datetime | None = None) -> dict:
    """An admin stops a citizen's code (fraud, a court order); only an admin can reinstate it."""
    env = runtime(deps)
    now = now or env.clock()
    if not await _citizen_exists(citizen_id):
        raise NotFound("市民不存在")
    holder = await _holder(citizen_id)
    async with in_transaction():
        became = await _set_status(holder, "revoked", reason=reason, now=now)
        await _revoke_outstanding(env, holder, reason="revoked", now=now)
        await audit.record_for(actor, action="code.revoke", target_type="citizen", target_id=citizen_id,
                               detail={"reason": reason})
        if became:
            await _tell_holder(citizen_id, status="revoked", reason=reason, at=now)
    await _refresh_state(env, citizen_id)
    return {"citizen_id": citizen_id, "status": "revoked", "changed_at": now}


async def admin_reinstate(*, deps: Deps, actor, citizen_id: str, now: dt.datetime | None = None) -> dict:
    """An admin lifts a revocation."""
    env = runtime(deps)
    now = now or env.clock()
    holder = await CodeHolder.get_or_none(citizen_id=citizen_id)
    if holder is None or holder.status != "revoked":
        raise NotFound("该市民的码未被吊销")
    async with in_transaction():
        await _set_status(holder, "active", reason=None, now=now)
        await audit.record_for(actor, action="code.reinstate", target_type="citizen", target_id=citizen_id)
    await _refresh_state(env, citizen_id)
    return {"citizen_id": citizen_id, "status": "active", "changed_at": now}


async def _citizen_exists(citizen_id: str) -> bool:
    return await Citizen.exists(id=citizen_id)


async def revocations(*, since: int, now: dt.datetime) -> dict:
    """Code ids revoked after cursor `since` that have not expired yet; `next_since` for the next call."""
    live = CodeRevocation.filter(id__gt=since, expires_at__gt=db.as_stored(now))
    rows = await live.order_by("id").limit(REVOCATION_PAGE)
    items = [{"code_id": r.code_id, "reason": r.reason, "revoked_at": r.revoked_at, "expires_at": r.expires_at}
             for r in rows]
    return {"items": items, "next_since": rows[-1].id if rows else since, "more": len(rows) == REVOCATION_PAGE,
            "as_of": now}


async def my_scans(*, citizen_id: str, paging: PageRequest) -> Page:
    """Who scanned my code, newest first: the terminal, its scene and department, and the outcome."""
    holder = await CodeHolder.get_or_none(citizen_id=citizen_id)
    if holder is None:
        return nothing(page=paging, order=LATEST_SCANS)
    found = await paginate(CodeScan.filter(holder_id=holder.id), page=paging, order=LATEST_SCANS)
    terminals = {t.id: t for t in await Terminal.filter(id__in={s.terminal_id for s in found.items})}
    return found.map(lambda s: {
        "id": s.id, "scene": s.scene, "terminal": terminals[s.terminal_id].name if s.terminal_id in terminals else None,
        "dept": terminals[s.terminal_id].dept if s.terminal_id in terminals else None, "outcome": s.outcome,
        "reason": s.reason, "source": s.source, "scanned_at": s.scanned_at})

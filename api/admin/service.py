"""Staff accounts: creation, listing, password login with lock-out, and a super admin's changes."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from api.admin.models import ROLES, AdminAccount
from api.core import audit, rawsql
from api.core.errors import AppError, Conflict, NotFound, Unauthorized, ValidationFailed
from api.core.ids import MAX_LENGTH
from api.core.pagination import Key, Order, Page, PageRequest, nothing, paginate

# argon2id, memory-hard: 64 MiB and 3 passes per hash.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class InvalidCredentials(Unauthorized):
    code, message = "invalid_credentials", "用户名或密码错误"


class AccountLocked(AppError):
    status, code, message = 423, "account_locked", "连续登录失败次数过多，账号已临时锁定，请稍后再试"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def _verify(password_hash: str, password: str) -> bool:
    # Hashing costs ~50 ms of CPU: keep it off the event loop.
    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(None, check)


def validate_roles(roles: list[str], depts: list[str]) -> None:
    """Refuse unknown roles, and reviewers without a department."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValidationFailed(fields={"roles": f"角色须为 {', '.join(ROLES)} 之一"})
    if "reviewer" in roles and not depts:
        raise ValidationFailed(fields={"depts": "审核人员须指定所属部门"})


MIN_PASSWORD_LENGTH = 12


def check_password_policy(*, username: str, password: str) -> None:
    """Refuse a password shorter than MIN_PASSWORD_LENGTH, or one that is the username (in any case)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(fields={"password": f"密码至少 {MIN_PASSWORD_LENGTH} 位"})
    if password.strip().casefold() == username.strip().casefold():
        raise ValidationFailed(fields={"password": "密码不能与用户名相同"})


async def _hash(password: str) -> str:
    # Hashing costs ~50 ms of CPU: keep it off the event loop.
    return await asyncio.get_running_loop().run_in_executor(None, _hasher.hash, password)


async def create_or_update(*, username: str, password: str, roles: list[str], depts: list[str]) -> AdminAccount:
    """Create a staff account, or reset its password, roles and departments (the command line's create-admin)."""
    validate_roles(roles, depts)
    check_password_policy(username=username, password=password)
    password_hash = await _hash(password)
    account = await AdminAccount.get_or_none(username=username)
    if account is None:
        return await AdminAccount.create(username=username, password_hash=password_hash, roles=roles, depts=depts)
    account.password_hash, account.roles, account.depts = password_hash, roles, depts
    account.failed_logins, account.locked_until = 0, None
    await account.save()
    return account


@dataclass(frozen=True)
class PasswordCheck:
    """A password checked against an account, before anything is written."""

    account: AdminAccount | None  # None: no such enabled account
    locked: bool
    correct: bool


async def check_password(*, username: str, password: str) -> PasswordCheck:
    """Check a password against the account named `username`; writes nothing (the slow hash runs outside any
    transaction, and settle_login records the outcome)."""
    account = await AdminAccount.get_or_none(username=username)
    if account is None or account.disabled:
        await _verify(_DUMMY_HASH, password)  # same cost as a real check: no username probing by timing
        return PasswordCheck(account=None, locked=False, correct=False)
    if account.locked_until and account.locked_until > _now():
        return PasswordCheck(account=account, locked=True, correct=False)
    return PasswordCheck(account=account, locked=False, correct=await _verify(account.password_hash, password))


# One statement counts a failure and locks at the limit, so concurrent wrong passwords cannot all read the same
# count: the row lock (PostgreSQL) or the write lock (SQLite) orders them, and each sees the others' increments.
# A lock that has run out starts the count afresh.
_COUNT_FAILURE = (
    "UPDATE admin_account SET "
    "failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END, "
    "locked_until = CASE WHEN (CASE WHEN locked_until IS NULL THEN failed_logins + 1 ELSE 1 END) >= ? "
    "THEN {until} ELSE NULL END "
    "WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?) RETURNING failed_logins"
)


async def settle_login(*, check: PasswordCheck, max_failures: int, lock_minutes: int) -> AdminAccount:
    """The account a correct password opened; otherwise counts the failure atomically (the `max_failures`th locks
    the account) and raises 401 `invalid_credentials`, or 423 `account_locked` once it is locked."""
    account = check.account
    if account is None:
        raise InvalidCredentials()
    if check.locked:
        raise AccountLocked()
    now = _now()
    if not check.correct:
        # PostgreSQL types a bare parameter in a CASE as text.
        until = "CAST(? AS TIMESTAMPTZ)" if rawsql.dialect() == "postgres" else "?"
        until_at = now + dt.timedelta(minutes=lock_minutes)
        rows = await rawsql.fetch(_COUNT_FAILURE.format(until=until), [max_failures, until_at, account.id, now])
        if not rows:  # locked by a concurrent failure since the password was checked
            raise AccountLocked()
        raise InvalidCredentials()
    # Conditional too: a right password checked while concurrent failures locked the account does not unlock it.
    opened = await AdminAccount.filter(id=account.id).filter(Q(locked_until=None) | Q(locked_until__lte=now)).update(
        failed_logins=0, locked_until=None, last_login_at=now)
    if not opened:
        raise AccountLocked()
    return account


async def get(*, admin_id: str) -> AdminAccount:
    """The account, or 401 when it is gone or disabled."""
    account = await AdminAccount.get_or_none(id=admin_id)
    if account is None or account.disabled:
        raise Unauthorized()
    return account


async def current_grants(*, admin_id: str) -> tuple[list[str], list[str]] | None:
    """The account's roles and departments as they are now; None when it is gone or disabled."""
    row = await AdminAccount.filter(id=admin_id, disabled=False).first().values("roles", "depts")
    return (row["roles"], row["depts"]) if row else None


class OwnAccount(Conflict):
    code, message = "own_account", "不能停用或修改自己的账号角色，请由其他超级管理员操作"


async def _managed(*, actor, admin_id: str) -> AdminAccount:
    """The account a super admin acts on, locked for the change; 404 when there is none."""
    account = None
    if len(admin_id) <= MAX_LENGTH:  # a longer one names nothing (and would fail the column's length check)
        account = await AdminAccount.filter(id=admin_id).select_for_update().first()
    if account is None:
        raise NotFound("工作人员账号不存在")
    return account


def staff_read(account: AdminAccount) -> dict:
    """The account as the staff routes answer it."""
    return {"id": account.id, "username": account.username, "roles": account.roles, "depts": account.depts,
            "disabled": account.disabled, "locked_until": account.locked_until, "created_at": account.created_at,
            "last_login_at": account.last_login_at}


class UsernameTaken(Conflict):
    code, message = "username_taken", "该用户名已被使用"


async def create_staff(*, actor, username: str, password: str, roles: list[str], depts: list[str]) -> AdminAccount:
    """A new staff account (409 `username_taken` when the name is used, in any case); audited."""
    roles, depts = list(dict.fromkeys(roles)), list(dict.fromkeys(depts))
    validate_roles(roles, depts)
    check_password_policy(username=username, password=password)
    password_hash = await _hash(password)  # before the transaction: it holds no lock while the CPU works
    try:
        async with in_transaction():
            # Names differing only in case would read as one person in the console and the audit log.
            if await AdminAccount.filter(username__iexact=username).exists():
                raise UsernameTaken()
            account = await AdminAccount.create(username=username, password_hash=password_hash, roles=roles,
                                                depts=depts)
            await audit.record_for(actor, action="admin.staff.create", target_type="admin", target_id=account.id,
                                   detail={"username": username, "roles": roles, "depts": depts})
    except IntegrityError:  # a concurrent request took the same name first
        raise UsernameTaken() from None
    return account


BY_USERNAME = Order((Key("username", str),))
# Membership in a JSON list column, on each dialect (the ORM has no JSON "contains" on SQLite).
_HOLDS = {"postgres": "EXISTS (SELECT 1 FROM jsonb_array_elements_text({column}) AS e(v) WHERE e.v = ?)",
          "sqlite": "EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = ?)"}


async def _ids_holding(*, role: str | None, dept: str | None) -> list[str]:
    """The ids of the accounts whose roles hold `role` and whose departments hold `dept` (each when given)."""
    holds = _HOLDS[rawsql.dialect()]
    where, params = [], []
    for column, value in (("roles", role), ("depts", dept)):
        if value is not None:
            where.append(holds.format(column=column))
            params.append(value)
    rows = await rawsql.fetch(f"SELECT id FROM admin_account WHERE {' AND '.join(where)}", params)
    return [r["id"] for r in rows]


async def list_staff(*, paging: PageRequest, role: str | None, dept: str | None, disabled: bool | None) -> Page:
    """A page of staff accounts by username, filtered by a role, a department and the disabled flag."""
    if role is not None and role not in ROLES:
        raise ValidationFailed(fields={"role": f"角色须为 {', '.join(ROLES)} 之一"})
    if dept is not None and len(dept) > 64:  # no department code is that long: no account could match
        return nothing(page=paging, order=BY_USERNAME)
    query = AdminAccount.all()
    if role is not None or dept is not None:
        query = query.filter(id__in=await _ids_holding(role=role, dept=dept))
    if disabled is not None:
        query = query.filter(disabled=disabled)
    return await paginate(query, page=paging, order=BY_USERNAME)


async def update_grants(*, actor, admin_id: str, roles: list[str] | None, depts: list[str] | None) -> AdminAccount:
    """Change a staff account's roles and/or departments (live sessions see them on their next request); audited."""
    async with in_transaction():
        account = await _managed(actor=actor, admin_id=admin_id)
        new_roles = account.roles if roles is None else list(dict.fromkeys(roles))
        new_depts = account.depts if depts is None else list(dict.fromkeys(depts))
        validate_roles(new_roles, new_depts)
        if account.id == actor.actor_id and new_roles != account.roles:
            raise OwnAccount()
        before = {"roles": account.roles, "depts": account.depts}
        account.roles, account.depts = new_roles, new_depts
        await account.save(update_fields=["roles", "depts"])
        await audit.record_for(actor, action="admin.staff.update", target_type="admin", target_id=account.id,
                               detail={"before": before, "after": {"roles": new_roles, "depts": new_depts}})
    return account


async def set_disabled(*, actor, admin_id: str, disabled: bool) -> AdminAccount:
    """Disable or enable a staff account and audit it, in the caller's transaction (which also ends its sessions)."""
    account = await _managed(actor=actor, admin_id=admin_id)
    if account.id == actor.actor_id:
        raise OwnAccount()
    account.disabled = disabled
    await account.save(update_fields=["disabled"])
    await audit.record_for(actor, action="admin.staff.disable" if disabled else "admin.staff.enable",
                           target_type="admin", target_id=account.id)
    return account


async def unlock(*, actor, admin_id: str) -> AdminAccount:
    """End a staff account's lock-out and clear its failure count; audited."""
    async with in_transaction():
        account = await _managed(actor=actor, admin_id=admin_id)
        detail = {"locked_until": account.locked_until.isoformat() if account.locked_until else None,
                  "failed_logins": account.failed_logins}
        account.failed_logins, account.locked_until = 0, None
        await account.save(update_fields=["failed_logins", "locked_until"])
        await audit.record_for(actor, action="admin.staff.unlock", target_type="admin", target_id=account.id,
                               detail=detail)
    return account


async def audit_log(*, actor, paging, where: audit.AuditFilter):
    """A page of the audit log, newest first, filtered; reading it is itself audited."""
    page = await audit.page(paging=paging, where=where)
    await audit.record_for(actor, action="admin.audit.read", detail={"count": len(page.items)})
    return page


AUDIT_EXPORT_LIMIT = 100_000  # rows in one CSV: a wider export is narrowed by time


async def audit_export(*, actor, where: audit.AuditFilter) -> AsyncIterator[str]:
    """The filtered audit log as CSV pieces (newest first, at most AUDIT_EXPORT_LIMIT rows); the export is itself
    audited, with its filters."""
    await audit.record_for(actor, action="admin.audit.export", detail={"filters": where.given(),
                                                                        "limit": AUDIT_EXPORT_LIMIT})
    return audit.csv_pieces(where=where, limit=AUDIT_EXPORT_LIMIT)

"""Citizen and staff sessions go through one service: the same refresh rules for both, and every login's audit row
committed with what it records."""

import secrets
import types

import pytest

import auth.service
from api.admin import service as admin_service
from api.admin.models import AdminAccount
from api.citizens.models import PlatformAccount
from api.core.models import AuditLog
from auth.models import RefreshToken
from tests.factories import bearer, wechat_codes, wechat_login

PASSWORD = "correct-horse-battery"


async def _staff() -> str:
    name = f"staff_{secrets.token_hex(4)}"
    await admin_service.create_or_update(username=name, password=PASSWORD, roles=["reviewer"], depts=["gongan"])
    return name


async def _staff_login(client, name: str, password: str = PASSWORD):
    return await client.post("/api/v1/admin/auth/login", json={"username": name, "password": password})


async def _citizen_session(client) -> tuple[dict, str, str]:
    return await wechat_login(client), "/api/v1/auth/refresh", "/api/v1/me"


async def _staff_session(client) -> tuple[dict, str, str]:
    r = await _staff_login(client, await _staff())
    assert r.status_code == 200, r.text
    return r.json(), "/api/v1/admin/auth/refresh", "/api/v1/admin/me"


@pytest.mark.parametrize("session", [_citizen_session, _staff_session], ids=["citizen", "staff"])
async def test_a_refresh_token_used_twice_ends_the_session(client, session):
    tokens, refresh_path, me_path = await session(client)
    r = await client.post(refresh_path, json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert (await client.get(me_path, headers=bearer(second))).status_code == 200
    r = await client.post(refresh_path, json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "refresh_token_reused"
    # The whole family goes: the pair the first refresh gave opens nothing any more.
    r = await client.post(refresh_path, json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    assert (await client.get(me_path, headers=bearer(second))).status_code == 401


async def test_a_refresh_token_opens_only_its_own_kind_of_session(client):
    citizen, staff = (await _citizen_session(client))[0], (await _staff_session(client))[0]
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": staff["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": citizen["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"
    # Refused at the wrong route, neither token was spent there.
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": citizen["refresh_token"]})
    assert r.status_code == 200 and "admin" not in r.json()
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": staff["refresh_token"]})
    assert r.status_code == 200 and r.json()["admin"]["roles"] == ["reviewer"]


async def test_a_citizen_login_lands_with_exactly_one_audit_row(client):
    tokens = await wechat_login(client)
    citizen_id = tokens["citizen"]["id"]
    rows = await AuditLog.filter(action="citizen.login", actor_id=citizen_id)
    assert len(rows) == 1
    assert (rows[0].target_id, rows[0].detail) == (citizen_id, {"platform": "wechat", "created": True})
    assert await RefreshToken.filter(subject_type="citizen", subject_id=citizen_id).count() == 1


async def test_a_wrong_staff_password_lands_with_exactly_one_audit_row(client):
    name = await _staff()
    r = await _staff_login(client, name, "wrong-password-1")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    assert await AuditLog.filter(action="admin.login.failed", actor_id=f"username:{name}").count() == 1
    assert (await AdminAccount.get(username=name)).failed_logins == 1


@pytest.fixture
def audit_down(monkeypatch):
    """auth.service's audit writes fail (the database itself stays real)."""

    async def record(**kwargs):
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(auth.service, "audit", types.SimpleNamespace(record=record))


async def test_without_its_audit_row_a_login_leaves_nothing_behind(live, client, audit_down):
    deps, ip = live.app.ctx.deps, f"198.51.100.{secrets.randbelow(250) + 1}"
    name = await _staff()
    with pytest.raises(RuntimeError):
        await auth.service.staff_login(deps=deps, username=name, password="wrong-password-1", ip=ip, request_id=None)
    account = await AdminAccount.get(username=name)
    assert account.failed_logins == 0  # the failure count went with its audit row
    with pytest.raises(RuntimeError):
        await auth.service.staff_login(deps=deps, username=name, password=PASSWORD, ip=ip, request_id=None)
    account = await AdminAccount.get(username=name)
    assert account.last_login_at is None
    assert await RefreshToken.filter(subject_type="admin", subject_id=account.id).count() == 0

    openid = f"o{secrets.token_hex(12)}"
    codes = await wechat_codes(client, openid=openid)
    with pytest.raises(RuntimeError):
        await auth.service.citizen_login(deps=deps, platform="wechat", code=codes["code"], phone_credential=None,
                                         ip=ip, request_id=None)
    citizen_id = (await PlatformAccount.get(platform="wechat", platform_uid=openid)).citizen_id
    assert await RefreshToken.filter(subject_type="citizen", subject_id=citizen_id).count() == 0

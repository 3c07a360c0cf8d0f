"""Staff accounts: memory-hard hashes, lock-out, roles, and audiences kept apart."""

import secrets

from api.admin import service as admin_service
from api.admin.models import AdminAccount
from api.core.models import AuditLog
from tests.admin.helpers import PASSWORD, new_staff, staff_login
from tests.factories import bearer, wechat_login


async def test_login_returns_roles_and_an_admin_token(client):
    name = await new_staff()
    r = await staff_login(client, name)
    assert r.status_code == 200
    body = r.json()
    assert body["admin"] == {"username": name, "roles": ["reviewer"], "depts": ["gongan"]}
    me = await client.get("/api/v1/admin/me", headers=bearer(body))
    assert me.status_code == 200 and me.json()["username"] == name
    account = await AdminAccount.get(username=name)
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash


async def test_admin_token_never_opens_citizen_routes(client):
    body = (await staff_login(client, await new_staff())).json()
    assert (await client.get("/api/v1/me", headers=bearer(body))).status_code == 401


async def test_citizen_token_never_opens_admin_routes(client):
    tokens = await wechat_login(client)
    for path in ("/api/v1/admin/me", "/api/v1/admin/audit-logs"):
        assert (await client.get(path, headers=bearer(tokens))).status_code == 401


async def test_wrong_password_then_lock_out(client):
    name = await new_staff()
    for _ in range(5):  # five wrong passwords are answered 401; the fifth locks the account
        r = await staff_login(client, name, "wrong-password-1")
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = await staff_login(client, name, "wrong-password-1")
    assert r.status_code == 423 and r.json()["error"]["code"] == "account_locked"
    r = await staff_login(client, name)  # the right password does not open a locked account
    assert r.status_code == 423
    assert await AuditLog.filter(action="admin.login.failed", actor_id=f"username:{name}").count() == 7


async def test_unknown_user_is_the_same_401(client):
    r = await staff_login(client, "nobody_here_" + secrets.token_hex(3))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


async def test_a_long_unknown_username_is_a_401_and_audited(client):
    name = "x" * 64  # the longest a login accepts: longer than the audit log's actor column with its prefix
    r = await staff_login(client, name)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    assert await AuditLog.filter(action="admin.login.failed", actor_id=f"username:{name}"[:40]).count() == 1


async def test_roles_gate_the_audit_log(client):
    name = await new_staff()
    await staff_login(client, name, "wrong-password-1")  # with the two logins, three audit rows: more than a page of 2
    reviewer = (await staff_login(client, name)).json()
    r = await client.get("/api/v1/admin/audit-logs", headers=bearer(reviewer))
    assert r.status_code == 403
    auditor = (await staff_login(client, await new_staff(roles=("auditor",), depts=()))).json()
    r = await client.get("/api/v1/admin/audit-logs?limit=2", headers=bearer(auditor))
    assert r.status_code == 200
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    r2 = await client.get(f"/api/v1/admin/audit-logs?limit=2&cursor={page['next_cursor']}", headers=bearer(auditor))
    assert {e["id"] for e in r2.json()["items"]}.isdisjoint({e["id"] for e in page["items"]})
    assert (await client.get("/api/v1/admin/audit-logs?limit=1000", headers=bearer(auditor))).status_code == 422


async def test_admin_refresh_rotates_and_detects_reuse(client):
    body = (await staff_login(client, await new_staff())).json()
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 200
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "refresh_token_reused"
    # A citizen refresh token is not an admin one.
    tokens = await wechat_login(client)
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401


async def test_reviewer_needs_a_department(client):
    import pytest

    from api.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        await admin_service.create_or_update(username="no_dept_reviewer", password=PASSWORD, roles=["reviewer"],
                                             depts=[])
    with pytest.raises(ValidationFailed):
        await admin_service.create_or_update(username="bad_role", password=PASSWORD, roles=["root"], depts=[])
    assert not await AdminAccount.exists(username__in=["no_dept_reviewer", "bad_role"])

"""Staff identity: the lock-out holds under parallel guesses; roles, departments and the disabled flag take
effect on live sessions at once."""

import asyncio
from datetime import datetime, timedelta, timezone

from api.admin.models import AdminAccount
from api.core.models import AuditLog
from tests.admin.helpers import new_staff, staff_login
from tests.applications.conftest import upload
from tests.applications.helpers import ITEM_C, body_a, submit
from tests.factories import bearer, verified_citizen


async def test_parallel_wrong_passwords_lock_at_the_sixth(client):
    name = await new_staff()
    # Ten at once (each a password hash in the thread pool): enough to race the counter, few enough for a loaded CI.
    answers = await asyncio.gather(*(staff_login(client, name, f"wrong-password-{i}") for i in range(10)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 5 + [423] * 5, statuses
    assert all(r.json()["error"]["code"] == "account_locked" for r in answers if r.status_code == 423)
    r = await staff_login(client, name)  # the right password does not open a locked account
    assert r.status_code == 423
    account = await AdminAccount.get(username=name)
    assert account.locked_until is not None


async def test_a_lock_that_ran_out_counts_afresh(client):
    name = await new_staff()
    for _ in range(6):
        await staff_login(client, name, "wrong-password-1")
    assert (await staff_login(client, name)).status_code == 423
    await AdminAccount.filter(username=name).update(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1))
    r = await staff_login(client, name, "wrong-password-1")  # the first failure after the lock: 401, not locked again
    assert r.status_code == 401
    assert (await staff_login(client, name)).status_code == 200
    account = await AdminAccount.get(username=name)
    assert account.failed_logins == 0 and account.locked_until is None


async def _session(client, roles=("reviewer",), depts=("gongan",)) -> tuple[str, dict]:
    """A fresh staff account, logged in: its id and its token answer."""
    name = await new_staff(roles=roles, depts=depts)
    r = await staff_login(client, name)
    assert r.status_code == 200, r.text
    return (await AdminAccount.get(username=name)).id, r.json()


async def _case_in_yibao(client, tokens) -> dict:
    f = await upload(client, tokens)
    body = {"item_code": ITEM_C, "form": {"applicant_name": "王五", "child_name": "王小宝"},
            "materials": [{"material_code": "M_ID_CARD", "file_id": f["file_id"]},
                          {"material_code": "M_HOUSEHOLD_REGISTER", "deferred": True}],
            "delivery": {"method": "electronic"}, "applicant_region": "430104"}
    return await submit(client, tokens, body)


async def test_a_clerk_moved_to_another_department_sees_it_on_the_next_request(client):
    tokens, _ = await verified_citizen(client)
    case_a = await submit(client, tokens, await body_a(client, tokens))  # gongan
    case_b = await _case_in_yibao(client, tokens)
    clerk_id, clerk = await _session(client, depts=("gongan",))
    _, boss = await _session(client, roles=("super_admin",), depts=())
    assert (await client.get(f"/api/v1/admin/applications/{case_a['id']}", headers=bearer(clerk))).status_code == 200
    assert (await client.get(f"/api/v1/admin/applications/{case_b['id']}", headers=bearer(clerk))).status_code == 404

    r = await client.patch(f"/api/v1/admin/staff/{clerk_id}", json={"depts": ["yibao"]}, headers=bearer(boss))
    assert r.status_code == 200, r.text
    assert r.json()["depts"] == ["yibao"] and r.json()["roles"] == ["reviewer"]
    # The same access token, issued before the move.
    assert (await client.get(f"/api/v1/admin/applications/{case_a['id']}", headers=bearer(clerk))).status_code == 404
    assert (await client.get(f"/api/v1/admin/applications/{case_b['id']}", headers=bearer(clerk))).status_code == 200
    entry = await AuditLog.get(action="admin.staff.update", target_id=clerk_id)
    assert entry.detail["before"]["depts"] == ["gongan"] and entry.detail["after"]["depts"] == ["yibao"]

    # Roles too: made an auditor, the same token reads the audit log.
    assert (await client.get("/api/v1/admin/audit-logs", headers=bearer(clerk))).status_code == 403
    r = await client.patch(f"/api/v1/admin/staff/{clerk_id}", json={"roles": ["auditor"]}, headers=bearer(boss))
    assert r.status_code == 200, r.text
    assert (await client.get("/api/v1/admin/audit-logs", headers=bearer(clerk))).status_code == 200


async def test_a_disabled_clerk_is_out_at_once_and_can_come_back(client):
    clerk_id, clerk = await _session(client)
    _, boss = await _session(client, roles=("super_admin",), depts=())
    r = await client.post(f"/api/v1/admin/staff/{clerk_id}/disable", headers=bearer(boss))
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await client.get("/api/v1/admin/me", headers=bearer(clerk))).status_code == 401
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": clerk["refresh_token"]})
    assert r.status_code == 401
    name = clerk["admin"]["username"]
    assert (await staff_login(client, name)).status_code == 401

    r = await client.post(f"/api/v1/admin/staff/{clerk_id}/enable", headers=bearer(boss))
    assert r.status_code == 200 and r.json()["disabled"] is False
    # The sessions from before stay ended; a new login works.
    assert (await client.get("/api/v1/admin/me", headers=bearer(clerk))).status_code == 401
    r = await client.post("/api/v1/admin/auth/refresh", json={"refresh_token": clerk["refresh_token"]})
    assert r.status_code == 401
    again = await staff_login(client, name)
    assert again.status_code == 200
    assert (await client.get("/api/v1/admin/me", headers=bearer(again.json()))).status_code == 200
    actions = set(await AuditLog.filter(target_id=clerk_id).values_list("action", flat=True))
    assert {"admin.staff.disable", "admin.staff.enable"} <= actions


async def test_a_super_admin_unlocks_a_locked_account(client):
    name = await new_staff()
    for _ in range(6):
        await staff_login(client, name, "wrong-password-1")
    assert (await staff_login(client, name)).status_code == 423
    account = await AdminAccount.get(username=name)
    _, boss = await _session(client, roles=("super_admin",), depts=())
    r = await client.post(f"/api/v1/admin/staff/{account.id}/unlock", headers=bearer(boss))
    assert r.status_code == 200 and r.json()["locked_until"] is None
    assert (await staff_login(client, name)).status_code == 200
    assert await AuditLog.exists(action="admin.staff.unlock", target_id=account.id)


async def test_only_a_super_admin_manages_staff(client):
    clerk_id, clerk = await _session(client)
    other_id, _ = await _session(client, roles=("policy_admin",), depts=())
    for path, body in ((f"/api/v1/admin/staff/{other_id}", {"depts": ["gongan"]}),):
        assert (await client.patch(path, json=body, headers=bearer(clerk))).status_code == 403
    for action in ("disable", "enable", "unlock"):
        r = await client.post(f"/api/v1/admin/staff/{other_id}/{action}", headers=bearer(clerk))
        assert r.status_code == 403, action
    account = await AdminAccount.get(id=other_id)
    assert not account.disabled and account.roles == ["policy_admin"]
    assert not await AuditLog.filter(target_id=other_id, action__startswith="admin.staff.").exists()


async def test_bad_requests_change_nothing(client):
    clerk_id, clerk = await _session(client)
    boss_id, boss = await _session(client, roles=("super_admin",), depts=())
    for unknown in ("adm_nobody", "x" * 300):
        assert (await client.patch(f"/api/v1/admin/staff/{unknown}", json={"depts": ["gongan"]},
                                   headers=bearer(boss))).status_code == 404
        for action in ("disable", "enable", "unlock"):
            r = await client.post(f"/api/v1/admin/staff/{unknown}/{action}", headers=bearer(boss))
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    for body in ({"roles": ["root"]}, {"roles": []}, {"depts": []}, {"roles": "reviewer"}):
        r = await client.patch(f"/api/v1/admin/staff/{clerk_id}", json=body, headers=bearer(boss))
        assert r.status_code == 422, body
    # A super admin does not disable or demote themselves (the last one would lock everyone out).
    assert (await client.post(f"/api/v1/admin/staff/{boss_id}/disable", headers=bearer(boss))).status_code == 409
    r = await client.patch(f"/api/v1/admin/staff/{boss_id}", json={"roles": ["auditor"]}, headers=bearer(boss))
    assert r.status_code == 409
    clerk_row, boss_row = await AdminAccount.get(id=clerk_id), await AdminAccount.get(id=boss_id)
    assert clerk_row.roles == ["reviewer"] and clerk_row.depts == ["gongan"] and not clerk_row.disabled
    assert boss_row.roles == ["super_admin"] and not boss_row.disabled
    assert not await AuditLog.filter(action__startswith="admin.staff.").exists()

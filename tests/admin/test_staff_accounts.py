"""Staff accounts listed and created by a super admin: the password policy, taken names, the filters and paging."""

import asyncio
import secrets

import pytest

from api.admin import service as admin_service
from api.admin.models import AdminAccount
from api.core.errors import ValidationFailed
from api.core.models import AuditLog
from tests.admin.helpers import PASSWORD, new_staff, staff_login
from tests.applications.conftest import staff_headers
from tests.factories import bearer, wechat_login

STAFF = "/api/v1/admin/staff"


def _name(prefix: str = "clerk") -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


async def _boss(client) -> dict:
    return await staff_headers(client, roles=("super_admin",), depts=())


async def test_a_super_admin_creates_an_account_that_signs_in(client):
    boss = await _boss(client)
    name = _name()
    r = await client.post(STAFF, json={"username": name, "password": "a-long-first-password", "roles": ["reviewer"],
                                       "depts": ["gongan", "gongan", "weijian"]}, headers=boss)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["username"] == name and body["roles"] == ["reviewer"] and body["depts"] == ["gongan", "weijian"]
    assert body["disabled"] is False and body["locked_until"] is None and body["last_login_at"] is None
    assert body["id"].startswith("adm_") and body["created_at"]
    assert "password" not in r.text and "argon2" not in r.text

    login = await staff_login(client, name, "a-long-first-password")
    assert login.status_code == 200 and login.json()["admin"] == {"username": name, "roles": ["reviewer"],
                                                                   "depts": ["gongan", "weijian"]}
    entry = await AuditLog.get(action="admin.staff.create", target_id=body["id"])
    assert entry.actor_type == "admin" and entry.detail == {"username": name, "roles": ["reviewer"],
                                                            "depts": ["gongan", "weijian"]}
    assert "a-long-first-password" not in str(entry.detail)
    listed = (await client.get(f"{STAFF}?dept=weijian&role=reviewer&limit=100", headers=boss)).json()["items"]
    assert body["id"] in [a["id"] for a in listed]


async def test_a_weak_or_malformed_request_creates_nothing(client):
    boss = await _boss(client)
    name = _name()
    cases = [
        ({"password": "short-pw-1"}, "password"),  # under 12 characters
        ({"password": name.upper()}, "password"),  # the username itself, in another case
        ({"roles": ["root"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"roles": ["reviewer"], "depts": []}, "depts"),  # a reviewer needs a department
        ({"username": "x"}, "username"),
        ({"username": "张三"}, "username"),
        ({"username": "a" * 65}, "username"),
        ({"depts": ["x" * 65]}, "depts.0"),
    ]
    for change, field in cases:
        body = {"username": name, "password": "a-long-first-password", "roles": ["reviewer"], "depts": ["gongan"],
                **change}
        r = await client.post(STAFF, json=body, headers=boss)
        assert r.status_code == 422, (change, r.text)
        assert field in r.json()["error"]["fields"], (change, r.json())
    assert (await client.post(STAFF, content=b"[]", headers=boss)).status_code == 422
    assert (await client.post(STAFF, content=b"{", headers=boss)).status_code == 400
    # The command line's create-admin keeps the same policy.
    for password in ("short-pw-1", f"  {name.upper()} "):
        with pytest.raises(ValidationFailed):
            await admin_service.create_or_update(username=name, password=password, roles=["auditor"], depts=[])
    assert not await AdminAccount.filter(username__iexact=name).exists()
    assert not await AuditLog.filter(action="admin.staff.create").exists()


async def test_a_taken_username_is_409_in_any_case_and_a_double_click_makes_one_account(client):
    boss = await _boss(client)
    taken = await new_staff()
    for username in (taken, taken.upper()):
        r = await client.post(STAFF, json={"username": username, "password": "a-long-first-password",
                                           "roles": ["auditor"]}, headers=boss)
        assert r.status_code == 409 and r.json()["error"]["code"] == "username_taken", r.text
    account = await AdminAccount.get(username=taken)
    assert account.roles == ["reviewer"]  # untouched: its password, roles and departments stay
    assert (await staff_login(client, taken, PASSWORD)).status_code == 200

    name = _name()
    body = {"username": name, "password": "a-long-first-password", "roles": ["auditor"]}
    answers = await asyncio.gather(*(client.post(STAFF, json=body, headers=boss) for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409], [r.text for r in answers]
    assert await AdminAccount.filter(username=name).count() == 1
    assert await AuditLog.filter(action="admin.staff.create").count() == 1


async def test_only_a_super_admin_creates_and_an_auditor_may_list(client):
    name = _name()
    body = {"username": name, "password": "a-long-first-password", "roles": ["super_admin"]}
    reviewer = await staff_headers(client)
    auditor = await staff_headers(client, roles=("auditor",), depts=())
    policy = await staff_headers(client, roles=("policy_admin",), depts=())
    for headers in (reviewer, auditor, policy):
        assert (await client.post(STAFF, json=body, headers=headers)).status_code == 403
    citizen = await wechat_login(client)
    assert (await client.post(STAFF, json=body, headers=bearer(citizen))).status_code == 401
    assert (await client.post(STAFF, json=body)).status_code == 401
    assert not await AdminAccount.filter(username=name).exists()

    assert (await client.get(STAFF, headers=auditor)).status_code == 200
    for headers in (reviewer, policy, bearer(citizen)):
        assert (await client.get(STAFF, headers=headers)).status_code in (401, 403)


async def test_the_list_filters_by_role_department_and_state_and_pages_by_username(client):
    boss = await _boss(client)
    dept = f"d{secrets.token_hex(4)}"  # a department of this test's own accounts alone
    made = {}
    for prefix, roles in (("a", ["reviewer"]), ("b", ["reviewer", "auditor"]), ("c", ["auditor"]),
                          ("d", ["reviewer"]), ("e", ["policy_admin"])):
        username = f"{prefix}_{dept}"
        r = await client.post(STAFF, json={"username": username, "password": "a-long-first-password",
                                           "roles": roles, "depts": [dept]}, headers=boss)
        assert r.status_code == 201, r.text
        made[prefix] = r.json()["id"]
    r = await client.post(f"{STAFF}/{made['d']}/disable", headers=boss)
    assert r.status_code == 200

    async def names(query: str) -> list[str]:
        r = await client.get(f"{STAFF}?dept={dept}&{query}", headers=boss)
        assert r.status_code == 200, r.text
        return [a["username"].split("_")[0] for a in r.json()["items"]]

    assert await names("limit=100") == ["a", "b", "c", "d", "e"]
    assert await names("role=reviewer") == ["a", "b", "d"]
    assert await names("role=auditor") == ["b", "c"]
    assert await names("role=reviewer&disabled=false") == ["a", "b"]
    assert await names("disabled=true") == ["d"]
    assert await names("role=super_admin") == []
    assert (await client.get(f"{STAFF}?dept=nobody_{dept}", headers=boss)).json() == {"items": [], "next_cursor": None}
    assert (await client.get(f"{STAFF}?dept={'x' * 300}", headers=boss)).json() == {"items": [], "next_cursor": None}

    seen, cursor = [], None
    for _ in range(5):
        query = f"{STAFF}?dept={dept}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=boss)).json()
        seen += [a["username"].split("_")[0] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "d", "e"]

    for query in ("role=root", "disabled=maybe", "limit=0", "limit=101", "cursor=bm90LWpzb24"):
        r = await client.get(f"{STAFF}?{query}", headers=boss)
        assert r.status_code == 422, (query, r.text)

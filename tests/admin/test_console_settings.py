"""What the console reads about the signed-in staff member and the settings it states: /admin/me with the id that
campaigns name as maker and approver, and the maker-checker threshold."""

from api.admin.models import AdminAccount
from tests.admin.helpers import new_staff, staff_login
from tests.factories import bearer, wechat_login
from tests.policies.helpers import maker_checker


async def test_me_names_the_account_by_the_id_campaigns_use(client):
    name = await new_staff(roles=("policy_admin",), depts=())
    headers = bearer((await staff_login(client, name)).json())
    r = await client.get("/api/v1/admin/me", headers=headers)
    assert r.status_code == 200, r.text
    account = await AdminAccount.get(username=name)
    assert r.json() == {"id": account.id, "username": name, "roles": ["policy_admin"], "depts": []}


async def test_settings_state_the_maker_checker_threshold_as_the_server_applies_it(client, live):
    headers = bearer((await staff_login(client, await new_staff())).json())
    r = await client.get("/api/v1/admin/settings", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"maker_checker_threshold": live.app.ctx.deps.settings.maker_checker_threshold}
    with maker_checker(live, 7):
        assert (await client.get("/api/v1/admin/settings", headers=headers)).json() == {"maker_checker_threshold": 7}


async def test_settings_need_a_staff_token(client):
    assert (await client.get("/api/v1/admin/settings")).status_code == 401
    citizen = await wechat_login(client)
    assert (await client.get("/api/v1/admin/settings", headers=bearer(citizen))).status_code == 401

"""The staff list of campaigns: newest first, by policy and status, each shaped as the campaign's own page."""

from __future__ import annotations

from api.policies.models import Campaign
from tests.applications.conftest import staff_headers
from tests.factories import bearer, wechat_login
from tests.policies.helpers import create_policy, crowd, fresh_region, policy_admin, publish, rule_for, wait_for


async def _list(client, admin, **params) -> dict:
    r = await client.get("/api/v1/admin/campaigns", headers=admin, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_campaigns_newest_first_filtered_and_shaped_as_their_own_page(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=4, settings=live.settings, wechat=0.5, alipay=0.5)
    first = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "inbox"))
    second = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    a = await publish(client, admin, first["id"])
    await wait_for(client, admin, a)
    b = await publish(client, admin, second["id"])
    await wait_for(client, admin, b)
    c = await publish(client, admin, first["id"])  # a rerun: nobody new, a second campaign of the same policy
    await wait_for(client, admin, c)

    of_first = (await _list(client, admin, policy_id=first["id"]))["items"]
    assert [i["id"] for i in of_first] == [c, a]
    for item in of_first:
        own = (await client.get(f"/api/v1/admin/campaigns/{item['id']}", headers=admin)).json()
        assert item == own
    assert of_first[1]["matched"] == 4 and of_first[1]["delivered"]["total"] >= 1

    everything = (await _list(client, admin, limit=100))["items"]
    ids = [i["id"] for i in everything]
    assert ids.index(c) < ids.index(b) < ids.index(a)
    stamps = [i["created_at"] for i in everything]
    assert stamps == sorted(stamps, reverse=True)

    await Campaign.filter(id=b).update(status="failed", error="worker_lost")
    failed = (await _list(client, admin, status="failed", limit=100))["items"]
    assert b in [i["id"] for i in failed] and all(i["status"] == "failed" for i in failed)
    assert (await _list(client, admin, policy_id=second["id"], status="completed"))["items"] == []
    assert (await _list(client, admin, policy_id="pol_nope"))["items"] == []
    assert (await _list(client, admin, policy_id="x" * 300))["items"] == []

    page = await _list(client, admin, policy_id=first["id"], limit=1)
    rest = await _list(client, admin, policy_id=first["id"], limit=1, cursor=page["next_cursor"])
    assert [i["id"] for i in page["items"] + rest["items"]] == [c, a] and rest["next_cursor"] is None


async def test_bad_filters_and_callers_are_refused(client):
    admin = await policy_admin(client)
    for params in ({"status": "done"}, {"status": "COMPLETED"}, {"limit": "0"}, {"cursor": "bad"}):
        r = await client.get("/api/v1/admin/campaigns", headers=admin, params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
    assert "status" in (await client.get("/api/v1/admin/campaigns", headers=admin,
                                         params={"status": "done"})).json()["error"]["fields"]
    assert (await client.get("/api/v1/admin/campaigns")).status_code == 401
    citizen = await wechat_login(client)
    assert (await client.get("/api/v1/admin/campaigns", headers=bearer(citizen))).status_code == 401
    clerk = await staff_headers(client, roles=("reviewer",), depts=("gongan",))
    assert (await client.get("/api/v1/admin/campaigns", headers=clerk)).status_code == 403


async def test_the_list_is_documented_with_its_filters(client):
    op = (await client.get("/openapi.json")).json()["paths"]["/api/v1/admin/campaigns"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"policy_id", "status", "limit", "cursor"} <= names
    assert {"200", "401", "403", "422"} <= set(op["responses"])

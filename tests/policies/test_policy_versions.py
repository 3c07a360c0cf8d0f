"""Editing policies: a draft in place, a published one as its next version; the list by status."""

from __future__ import annotations

import collections

from api.core.models import AuditLog
from api.policies.models import PolicyReach
from tests.applications.conftest import staff_headers
from tests.factories import bearer, wechat_login
from tests.policies.helpers import (
    create_policy,
    crowd,
    fresh_region,
    patch_policy,
    policy_admin,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)


async def _read(client, admin, policy_id: str) -> dict:
    r = await client.get(f"/api/v1/admin/policies/{policy_id}", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_draft_is_edited_in_place_and_a_bad_edit_changes_nothing(client):
    admin = await policy_admin(client)
    draft = await create_policy(client, admin, rule=rule_for(fresh_region()))
    assert (draft["version"], draft["previous_id"], draft["family_id"]) == (1, None, draft["id"])

    edited = await patch_policy(client, admin, draft["id"], {"title": "高龄津贴（修订）", "benefit": "津贴",
                                                            "valid_from": "2030-01-01"})
    assert edited["id"] == draft["id"] and edited["version"] == 1 and edited["status"] == "draft"
    assert edited["title"] == "高龄津贴（修订）" and edited["benefit"] == {"name": "津贴"}
    assert edited["summary"] == draft["summary"] and edited["rule"] == draft["rule"]
    entry = await AuditLog.filter(action="policy.update", target_id=draft["id"]).first()
    assert entry is not None and sorted(entry.detail["fields"]) == ["benefit", "title", "valid_from"]

    for changes, field in (({"shoe_size": 40}, "shoe_size"),
                           ({"rule": {"all": [{"field": "shoe_size", "op": "=", "value": 1}]}}, "rule.all[0].field"),
                           ({"rule": {"any": [{"field": "age", "op": ">=", "value": "sixty"}]}}, "rule.any[0].value"),
                           ({"title": None}, "title"), ({"channels": []}, "channels"), ({"mode": "spam"}, "mode"),
                           ({"valid_until": "2029-12-31"}, "valid_until")):
        error = (await patch_policy(client, admin, draft["id"], changes, expect=422))["error"]
        assert error["code"] == "validation_failed" and field in error["fields"], (changes, error)
    assert await _read(client, admin, draft["id"]) == edited

    assert (await client.patch("/api/v1/admin/policies/pol_nope", headers=admin, json={})).status_code == 404
    citizen = await wechat_login(client)
    r = await client.patch(f"/api/v1/admin/policies/{draft['id']}", headers=bearer(citizen), json={})
    assert r.status_code == 401
    reviewer = await staff_headers(client, roles=("reviewer",), depts=("gongan",))
    r = await client.patch(f"/api/v1/admin/policies/{draft['id']}", headers=reviewer, json={"title": "越权修改"})
    assert r.status_code == 403
    assert (await _read(client, admin, draft["id"]))["title"] == "高龄津贴（修订）"


async def test_a_published_policy_gets_a_next_version_that_reaches_only_the_newly_eligible(client, live):
    admin = await policy_admin(client)
    first_region, second_region = fresh_region(), fresh_region()
    first = await crowd(client, region=first_region, count=3, settings=live.settings, wechat=0, alipay=0)
    v1 = await create_policy(client, admin, rule=rule_for(first_region), channels=("sms",))
    figures = await wait_for(client, admin, await publish(client, admin, v1["id"]))
    assert figures["granted"] == 3

    wider = {"any": [{"field": "hukou_region", "op": "in", "value": [first_region, second_region]}]}
    v2 = await patch_policy(client, admin, v1["id"], {"rule": wider, "summary": "范围扩大到两地"}, expect=201)
    assert v2["id"] != v1["id"] and v2["status"] == "draft"
    assert (v2["version"], v2["previous_id"], v2["family_id"]) == (2, v1["id"], v1["id"])
    assert v2["title"] == v1["title"] and v2["rule"] == wider and v2["summary"] == "范围扩大到两地"
    unchanged = await _read(client, admin, v1["id"])
    assert unchanged["status"] == "published" and unchanged["rule"] == v1["rule"]
    assert (await client.get(f"/api/v1/policies/{v1['id']}")).json()["summary"] == v1["summary"]
    assert (await client.get(f"/api/v1/policies/{v2['id']}")).status_code == 404  # a draft is not public yet

    # One open draft per policy: edit that draft, not the published version again.
    error = (await patch_policy(client, admin, v1["id"], {"title": "另一份草稿"}, expect=409))["error"]
    assert error["code"] == "draft_exists" and v2["id"] in error["message"]
    v2 = await patch_policy(client, admin, v2["id"], {"title": "高龄老人津贴（第二版）"})
    assert v2["version"] == 2 and v2["title"] == "高龄老人津贴（第二版）"

    second = await crowd(client, region=second_region, count=2, settings=live.settings, wechat=0, alipay=0)
    again = await wait_for(client, admin, await publish(client, admin, v2["id"]))
    assert again["matched"] == 5 and again["granted"] == 2 and again["sent"]["total"] == 2, again
    old = await _read(client, admin, v1["id"])
    assert old["status"] == "archived" and old["archived_at"] is not None
    assert (await _read(client, admin, v2["id"]))["status"] == "published"
    assert await PolicyReach.filter(family_id=v1["id"]).count() == 5
    assert await PolicyReach.filter(policy_id=v1["id"], granted=True).count() == 3  # the old grants stand
    phones = {p["phone"] for p in first + second}
    sms = collections.Counter(m["phone"] for m in await sandbox_messages(client, "sms") if m["phone"] in phones)
    assert sms == dict.fromkeys(phones, 1)

    error = (await patch_policy(client, admin, v1["id"], {"title": "改归档的"}, expect=409))["error"]
    assert error["code"] == "policy_archived"
    v3 = await patch_policy(client, admin, v2["id"], {}, expect=201)
    assert (v3["version"], v3["previous_id"], v3["family_id"]) == (3, v2["id"], v1["id"])
    entry = await AuditLog.filter(action="policy.version", target_id=v3["id"]).first()
    assert entry is not None and entry.detail["previous_id"] == v2["id"]

    family = await client.get("/api/v1/admin/policies", headers=admin, params={"family_id": v1["id"]})
    assert [p["version"] for p in family.json()["items"]] == [3, 2, 1]


async def test_the_list_filters_by_status_and_refuses_an_unknown_one(client):
    admin = await policy_admin(client)
    draft = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    live_one = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    await wait_for(client, admin, await publish(client, admin, live_one["id"]))
    gone = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    assert (await client.post(f"/api/v1/admin/policies/{gone['id']}/archive", headers=admin)).status_code == 200

    for status, mine in (("draft", draft), ("published", live_one), ("archived", gone)):
        r = await client.get("/api/v1/admin/policies", headers=admin, params={"status": status, "limit": 100})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert mine["id"] in [p["id"] for p in items] and {p["status"] for p in items} == {status}
    for bad in ("DRAFT", "deleted", ""):
        r = await client.get("/api/v1/admin/policies", headers=admin, params={"status": bad})
        if bad == "":
            assert r.status_code == 200  # an empty filter is no filter
            continue
        assert r.status_code == 422 and "status" in r.json()["error"]["fields"], r.text


async def test_the_edit_route_is_documented_with_both_answers(client):
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"]["/api/v1/admin/policies/{policy_id}"]["patch"]
    assert {"200", "201", "401", "403", "404", "409", "422"} <= set(op["responses"])
    assert "draft_exists" in op["summary"] or "draft_exists" in op.get("description", "")
    body = op["requestBody"]["content"]["application/json"]["schema"]
    listing = spec["paths"]["/api/v1/admin/policies"]["get"]
    assert {"status", "family_id"} <= {p["name"] for p in listing["parameters"]}
    assert body

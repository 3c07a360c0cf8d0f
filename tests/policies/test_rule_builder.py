"""The rule builder's routes: the attribute catalogue, the live audience of an unsaved rule, one person checked."""

from __future__ import annotations

import json

from api.core.models import AuditLog
from tests.applications.conftest import staff_headers
from tests.factories import random_id_number, registered_person
from tests.policies.helpers import crowd, fresh_region, policy_admin, rule_for


async def test_the_catalogue_gives_a_rule_builder_everything_it_needs(client):
    admin = await policy_admin(client)
    r = await client.get("/api/v1/admin/attributes", headers=admin)
    assert r.status_code == 200, r.text
    items = {a["name"]: a for a in r.json()["items"]}
    for item in items.values():
        assert item["type"] in ("int", "str", "date", "bool") and item["label"] and item["dataset_label"]
        assert [o["op"] for o in item["operators"]] == item["ops"] and all(o["label"] for o in item["operators"])
    age = items["age"]
    assert age["bounds"] == [0, 150] and age["options"] is None
    shapes = {o["op"]: o["value"] for o in age["operators"]}
    assert shapes[">="] == "scalar" and shapes["in"] == "list" and shapes["exists"] == "bool"
    assert {"value": "good", "label": "正常"} in items["transit_standing"]["options"]
    assert items["transit_standing"]["choices"] == ["good", "arrears", "suspended", "closed"]
    assert [o["label"] for o in items["gender"]["options"]] == ["男", "女"]
    assert items["has_disability"]["options"] == [{"value": True, "label": "是"}, {"value": False, "label": "否"}]
    assert items["hukou_region"]["digits"] == 6
    assert {o["op"]: o["value"] for o in items["hukou_region"]["operators"]}["prefix"] == "text_prefix"
    assert items["birth_date"]["format"] == "YYYY-MM-DD" and items["gender"]["format"] is None


async def test_an_unsaved_rule_is_previewed_masked_and_audited(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    await crowd(client, region=region, count=7, settings=live.settings)
    before = await AuditLog.filter(action="rule.preview").count()
    r = await client.post("/api/v1/admin/rules/preview", headers=admin, json={"rule": rule_for(region)})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["matched"] == 7 and len(preview["sample"]) == 5 and preview["elapsed_ms"] >= 0
    for person in preview["sample"]:
        assert person["name"] == "测*" and "*" in person["id_number"] and person["hukou_region"] == region
    assert await AuditLog.filter(action="rule.preview").count() == before + 1

    for body, field in (({"rule": {"all": [{"field": "shoe_size", "op": "=", "value": 40}]}}, "rule.all[0].field"),
                        ({"rule": {"any": [{"field": "hukou_region", "op": "<", "value": region}]}}, "rule.any[0].op"),
                        ({}, "rule"), ({"rule": "age >= 60"}, "rule")):
        r = await client.post("/api/v1/admin/rules/preview", headers=admin, json=body)
        assert r.status_code == 422 and field in r.json()["error"]["fields"], (body, r.text)
    assert await AuditLog.filter(action="rule.preview").count() == before + 1
    clerk = await staff_headers(client, roles=("reviewer",), depts=("gongan",))
    r = await client.post("/api/v1/admin/rules/preview", headers=clerk, json={"rule": rule_for(region)})
    assert r.status_code == 403
    assert (await client.post("/api/v1/admin/rules/preview", json={"rule": rule_for(region)})).status_code == 401


async def test_one_person_is_checked_condition_by_condition(client):
    admin = await policy_admin(client)
    region = fresh_region()
    person = await registered_person(name="赵老六", born="19400315", hukou_region=region)
    rule = {"all": [{"field": "hukou_region", "op": "=", "value": region}, {"field": "age", "op": ">=", "value": 80},
                    {"field": "disability_level", "op": "=", "value": "一级"}]}
    r = await client.post("/api/v1/admin/rules/explain", headers=admin,
                          json={"rule": rule, "id_number": person["id_number"]})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["eligible"] is False
    assert answer["person"] == {"name": "赵**", "id_number": person["id_number"][:3] + "*" * 11
                                + person["id_number"][-4:]}
    reasons = {x["field"]: x for x in answer["reasons"]}
    assert reasons["hukou_region"]["passed"] and reasons["hukou_region"]["actual"] == region
    assert reasons["age"]["passed"] and reasons["age"]["actual"] >= 80
    level = reasons["disability_level"]
    assert not level["passed"] and level["actual"] is None and level["missing_dataset"] == "disability"
    r = await client.post("/api/v1/admin/rules/explain", headers=admin,
                          json={"rule": {"all": rule["all"][:2]}, "id_number": person["id_number"]})
    assert r.status_code == 200 and r.json()["eligible"] is True, r.text

    entries = await AuditLog.filter(action="registry.person.explain", actor_type="admin").order_by("-created_at") \
        .limit(2)
    assert len(entries) == 2 and all(e.target_id == answer["person"]["id_number"] for e in entries)
    assert person["id_number"] not in json.dumps([[e.target_id, e.detail] for e in entries])

    r = await client.post("/api/v1/admin/rules/explain", headers=admin,
                          json={"rule": rule, "id_number": random_id_number()})
    assert r.status_code == 404 and r.json()["error"]["code"] == "person_not_found", r.text
    bad = person["id_number"][:17] + ("0" if person["id_number"][17] != "0" else "1")
    for body, field in (({"rule": rule, "id_number": bad}, "id_number"),
                        ({"rule": rule, "id_number": "12345"}, "id_number"), ({"rule": rule}, "id_number"),
                        ({"rule": {"all": [{"field": "age", "op": "~", "value": 1}]}, "id_number": person["id_number"]},
                         "rule.all[0].op")):
        r = await client.post("/api/v1/admin/rules/explain", headers=admin, json=body)
        assert r.status_code == 422 and field in r.json()["error"]["fields"], (body, r.text)
    clerk = await staff_headers(client, roles=("reviewer",), depts=("gongan",))
    r = await client.post("/api/v1/admin/rules/explain", headers=clerk,
                          json={"rule": rule, "id_number": person["id_number"]})
    assert r.status_code == 403


async def test_the_rule_routes_are_documented(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"200", "401", "403", "422"} <= set(paths["/api/v1/admin/rules/preview"]["post"]["responses"])
    explain = paths["/api/v1/admin/rules/explain"]["post"]
    assert {"200", "401", "403", "404", "422"} <= set(explain["responses"]) and "person_not_found" in explain["summary"]

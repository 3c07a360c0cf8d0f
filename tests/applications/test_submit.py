"""Submitting: idempotency, the form schema, materials, assurance level, cross-province, bundles."""

import secrets

from api.applications.models import Application
from api.core import workdays
from tests.applications.helpers import BUNDLE, ITEM_B, ITEM_LOW, body_a, bundle_body, form_a, submit
from tests.factories import bearer, verified_citizen, wechat_login


async def test_a_complete_application_is_submitted_with_its_due_date(client, test_catalogue):
    tokens, person = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    assert app["status"] == "submitted" and app["sub_cases"] == [] and app["dept"] == "gongan"
    assert app["due_date"] == workdays.add_working_days(workdays.today(), 5).isoformat()
    ways = {m["material_code"]: (m["way"], m["owed"]) for m in app["materials"]}
    assert ways == {"M_ID_CARD": ("file", False), "M_RESIDENCE_PROOF": ("commitment", False),
                    "M_PHOTO": ("deferred", True)}
    pledge = next(m for m in app["materials"] if m["way"] == "commitment")
    assert "承诺" in pledge["commitment_text"] and pledge["committed_at"]
    masked_id = person["id_number"][:3] + "*" * 11 + person["id_number"][-4:]
    assert app["form"]["applicant_id_number"] == masked_id and app["masked"] is True
    assert app["timeline"][0]["to_status"] == "submitted"
    r = await client.get(f"/api/v1/applications/{app['id']}?reveal=true", headers=bearer(tokens))
    assert r.json()["form"]["applicant_id_number"] == person["id_number"]


async def test_same_key_twice_is_one_application_and_another_body_is_409(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    body, key = await body_a(client, tokens), secrets.token_hex(12)
    first = await submit(client, tokens, body, key=key)
    again = await submit(client, tokens, body, key=key, expect=201)
    assert again["id"] == first["id"]
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    other = dict(body, form=form_a(reason="就学"))
    r = await client.post("/api/v1/applications", json=other, headers={**bearer(tokens), "Idempotency-Key": key})
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_conflict"
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 1


async def test_a_form_that_breaks_the_schema_is_422_with_paths(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens, form={"applicant_name": "王五", "spouse_id_number": "12345",
                                              "reason": "旅游", "unknown_field": 1})
    r = await client.post("/api/v1/applications", json=body, headers=bearer(tokens))
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert r.json()["error"]["code"] == "form_invalid"
    assert {"form.spouse_id_number", "form.reason"} <= set(fields)
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 0


async def test_materials_are_checked_against_the_item(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens)
    missing = dict(body, materials=body["materials"][1:])
    r = await client.post("/api/v1/applications", json=missing, headers=bearer(tokens))
    assert r.status_code == 422 and "materials.M_ID_CARD" in r.json()["error"]["fields"]
    not_pledgeable = dict(body, materials=[{"material_code": "M_ID_CARD", "commitment": True}, *body["materials"][1:]])
    r = await client.post("/api/v1/applications", json=not_pledgeable, headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "materials_invalid"
    not_deferrable = dict(body, materials=[body["materials"][0], {"material_code": "M_RESIDENCE_PROOF",
                                                                 "deferred": True}, body["materials"][2]])
    r = await client.post("/api/v1/applications", json=not_deferrable, headers=bearer(tokens))
    assert r.status_code == 422
    two_ways = dict(body, materials=[{"material_code": "M_ID_CARD", "commitment": True, "deferred": True}])
    r = await client.post("/api/v1/applications", json=two_ways, headers=bearer(tokens))
    assert r.status_code == 422
    by_license = dict(body, materials=[{"material_code": "M_ID_CARD", "license_id": "lic_nope"},
                                       *body["materials"][1:]])
    r = await client.post("/api/v1/applications", json=by_license, headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "license_not_found"
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 0


async def test_the_item_decides_the_assurance_level(client, test_catalogue):
    phone_only = await wechat_login(client, phone=f"139{secrets.randbelow(10**8):08d}")
    r = await client.post("/api/v1/applications", json=await body_a(client, phone_only), headers=bearer(phone_only))
    assert r.status_code == 403 and r.json()["error"]["code"] == "assurance_level_too_low"
    low = {"item_code": ITEM_LOW, "form": {"applicant_name": "李四"}, "materials": [],
           "delivery": {"method": "pickup"}, "applicant_region": "430104"}
    await submit(client, phone_only, low)


async def test_cross_province_only_for_cross_province_items(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    r = await client.post("/api/v1/applications", json=await body_a(client, tokens, applicant_region="110101"),
                          headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_cross_province"
    body = await bundle_body(client, tokens)
    body.update(item_code=ITEM_B, bundle_code=None, applicant_region="110101", receiving_region="110105",
                materials=body["materials"][:2])
    app = await submit(client, tokens, body)
    assert app["cross_province"] is True
    assert (app["applicant_region"], app["handling_region"], app["receiving_region"]) == ("110101", "430000",
                                                                                         "110105")


async def test_unknown_item_and_bad_delivery_are_422(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens, item_code="T99999999999")
    r = await client.post("/api/v1/applications", json=body, headers=bearer(tokens))
    assert r.status_code == 422 and "item_code" in r.json()["error"]["fields"]
    body = await body_a(client, tokens, delivery={"method": "express"})
    r = await client.post("/api/v1/applications", json=body, headers=bearer(tokens))
    assert r.status_code == 422


async def test_a_bundle_makes_one_sub_case_per_department(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    guide = (await client.get(f"/api/v1/bundles/{BUNDLE}")).json()
    assert list(guide["form_schema"]["properties"]).count("child_name") == 1  # asked once for two items
    assert [m["code"] for m in guide["materials"]].count("M_ID_CARD") == 1
    app = await submit(client, tokens, await bundle_body(client, tokens))
    assert app["bundle_code"] == BUNDLE and app["status"] == "submitted" and app["dept"] is None
    assert sorted(s["dept"] for s in app["sub_cases"]) == ["weijian", "yibao"]
    by_dept = {s["dept"]: s for s in app["sub_cases"]}
    assert by_dept["weijian"]["item_codes"] == [ITEM_B]
    assert await Application.filter(parent_id=app["id"]).count() == 2


async def test_another_citizens_application_is_404(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    other, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    for path in (f"/api/v1/applications/{app['id']}", ):
        assert (await client.get(path, headers=bearer(other))).status_code == 404
    r = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=bearer(other))
    assert r.status_code == 404
    mine = (await client.get("/api/v1/applications", headers=bearer(other))).json()["items"]
    assert all(a["id"] != app["id"] for a in mine)


async def test_a_forged_cursor_is_422_not_a_crash(client, test_catalogue):
    import base64
    import json

    from tests.applications.conftest import staff_headers

    tokens, _ = await verified_citizen(client)
    staff = await staff_headers(client)
    for position in ({"t": "not-a-time", "i": 1}, {"x": 1}, [1, 2], {"o": "many"}, {"d": 5}):
        cursor = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
        for path, headers in (("/api/v1/applications", bearer(tokens)), ("/api/v1/inbox", bearer(tokens)),
                              ("/api/v1/items", {}), ("/api/v1/admin/applications", staff)):
            r = await client.get(path, params={"cursor": cursor}, headers=headers)
            assert r.status_code in (200, 422), (path, position, r.text)
            if r.status_code == 422:
                assert "cursor" in r.json()["error"]["fields"]
    r = await client.get("/api/v1/applications", params={"cursor": "%%%"}, headers=bearer(tokens))
    assert r.status_code == 422

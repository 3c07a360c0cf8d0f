"""The staff action body's own fields: materials and supplement_due for request_supplement, carrier for ship —
checked (a clear 422 that changes nothing), stored on the case, shown where the case is read, cleared when done."""

from __future__ import annotations

import datetime as dt

import pytest

from api.applications.models import Application
from api.core import workdays
from notifications.models import InboxMessage, OutboxDelivery
from tests.applications.conftest import staff_headers, upload
from tests.applications.helpers import act, body_a, submit
from tests.core.openapi_schema import resolved
from tests.factories import bearer, verified_citizen


async def _case(client):
    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    return tokens, app


async def _mine(client, tokens, app_id) -> dict:
    r = await client.get(f"/api/v1/applications/{app_id}", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_supplement_request_is_stored_shown_and_cleared_when_answered(client, test_catalogue):
    tokens, app = await _case(client)
    staff = await staff_headers(client)
    due = (workdays.today() + dt.timedelta(days=20)).isoformat()
    answer = await act(client, staff, app["id"], "request_supplement", note="照片须为白底",
                       materials=["M_PHOTO", "M_EXTRA", "M_PHOTO"], supplement_due=due)
    asked = {"materials": ["M_PHOTO", "M_EXTRA"], "due": due, "what": "近期免冠照片、其他补充材料：照片须为白底"}
    assert answer["supplement"] == asked  # the staff read
    assert (await Application.get(id=app["id"])).supplement == asked
    assert (await _mine(client, tokens, app["id"]))["supplement"] == asked  # the applicant's read

    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens), json={
        "materials": [{"material_code": "M_PHOTO", "file_id": (await upload(client, tokens))["file_id"]}]})
    assert r.status_code == 200 and r.json()["status"] == "supplemented"
    assert r.json()["supplement"] is None
    assert (await Application.get(id=app["id"])).supplement is None


async def test_without_a_due_date_the_applicant_has_ten_working_days(client, test_catalogue):
    tokens, app = await _case(client)
    answer = await act(client, await staff_headers(client), app["id"], "request_supplement", note="请补充居住证明原件")
    expected = workdays.add_working_days(workdays.today(), 10).isoformat()
    assert answer["supplement"] == {"materials": [], "due": expected, "what": "请补充居住证明原件"}
    inbox = (await client.get("/api/v1/inbox", headers=bearer(tokens))).json()["items"]
    assert expected in inbox[0]["body"] and "请补充居住证明原件" in inbox[0]["body"]


def _days(n: int) -> str:
    return (workdays.today() + dt.timedelta(days=n)).isoformat()


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"materials": ["M_PHOTO", "M_NOT_OURS"]}, "materials_invalid", "materials.1"),
    ({"materials": ["photo"]}, "validation_failed", "materials.0"),
    ({"materials": []}, "validation_failed", "materials"),
    ({"supplement_due": _days(0)}, "validation_failed", "supplement_due"),
    ({"supplement_due": _days(-3)}, "validation_failed", "supplement_due"),
    ({"supplement_due": _days(61)}, "validation_failed", "supplement_due"),
    ({"supplement_due": "next week"}, "validation_failed", "supplement_due"),
    ({"note": None}, "validation_failed", "note"),
])
async def test_a_bad_supplement_request_is_422_and_changes_nothing(client, test_catalogue, body, code, field):
    tokens, app = await _case(client)
    before = await Application.get(id=app["id"])
    r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions", headers=await staff_headers(client),
                          json={"action": "request_supplement", "note": "请补充", **body})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == code and field in error["fields"], error
    if code == "materials_invalid":
        assert "M_NOT_OURS" in error["message"] and "M_NOT_OURS" in error["fields"][field]
    after = await Application.get(id=app["id"])
    assert (after.status, after.version, after.supplement, after.paused_on) == ("submitted", before.version,
                                                                               None, None)
    citizen_id = tokens["citizen"]["id"]
    assert await InboxMessage.filter(citizen_id=citizen_id).count() == 1  # the submission's only
    assert await OutboxDelivery.filter(citizen_id=citizen_id).exclude(channel="inbox").count() == 0


@pytest.mark.parametrize(("action", "extra", "field"), [
    ("accept", {"materials": ["M_PHOTO"]}, "materials"),
    ("accept", {"supplement_due": _days(5)}, "supplement_due"),
    ("reject", {"carrier": "EMS"}, "carrier"),
])
async def test_a_field_of_another_action_is_422(client, test_catalogue, action, extra, field):
    _, app = await _case(client)
    r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions", headers=await staff_headers(client),
                          json={"action": action, "note": "不属于本部门受理范围", **extra})
    assert r.status_code == 422 and field in r.json()["error"]["fields"], r.text
    assert (await Application.get(id=app["id"])).status == "submitted"


async def test_ship_needs_a_carrier_and_a_tracking_number_and_both_are_shown(client, test_catalogue):
    tokens, app = await _case(client)
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "accept")
    await Application.filter(id=app["id"]).update(materials=[])  # nothing owed
    await act(client, staff, app["id"], "approve")
    await act(client, staff, app["id"], "complete")
    url = f"/api/v1/admin/applications/{app['id']}/actions"
    for body, code, fields in (
            ({"tracking_no": "SF1234567890"}, "carrier_required", {"carrier"}),
            ({"carrier": "顺丰速运"}, "tracking_no_required", {"tracking_no"}),
            ({}, "tracking_no_required", {"carrier", "tracking_no"}),
            ({"carrier": "顺" * 33, "tracking_no": "SF1234567890"}, "validation_failed", {"carrier"}),
            ({"carrier": " \n ", "tracking_no": "SF1234567890"}, "validation_failed", {"carrier"}),
            ({"carrier": "顺丰速运", "tracking_no": "SF" + "1" * 31}, "validation_failed", {"tracking_no"}),
            ({"carrier": "顺丰速运", "tracking_no": "顺丰1234567"}, "validation_failed", {"tracking_no"})):
        r = await client.post(url, headers=staff, json={"action": "ship", **body})
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == code and set(r.json()["error"]["fields"]) == fields, (body, r.text)
        row = await Application.get(id=app["id"])
        assert (row.status, row.carrier, row.tracking_no) == ("completed", None, None)

    shipped = await act(client, staff, app["id"], "ship", carrier=" 顺丰速运 ", tracking_no="SF1234567890")
    expected = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}
    assert {k: shipped["delivery"][k] for k in expected} == expected  # the staff read
    mine = await _mine(client, tokens, app["id"])
    assert {k: mine["delivery"][k] for k in expected} == expected and mine["delivery"]["method"] == "express"


def _json_schema(spec: dict, operation: dict, where: str = "response") -> dict:
    holder = operation["responses"]["200"] if where == "response" else operation["requestBody"]
    return resolved(spec, holder["content"]["application/json"]["schema"])  # shapes are components ($ref)


async def test_openapi_documents_the_new_fields(client):
    spec = (await client.get("/openapi.json")).json()
    action = spec["paths"]["/api/v1/admin/applications/{case_id}/actions"]["post"]
    body = _json_schema(spec, action, "body")
    assert {"carrier", "tracking_no", "materials", "supplement_due"} <= set(body["properties"])
    assert "carrier_required" in action["description"]
    for path, method in (("/api/v1/applications/{application_id}", "get"),
                         ("/api/v1/admin/applications/{case_id}", "get"),
                         ("/api/v1/admin/applications/{case_id}/actions", "post")):
        read = _json_schema(spec, spec["paths"][path][method])["properties"]
        assert {"carrier", "tracking_no"} <= set(read["delivery"]["properties"]), path
        assert {"materials", "due", "what"} <= set(read["supplement"]["properties"]), path
        sub_case = read["sub_cases"]["items"]["properties"]
        assert {"carrier", "tracking_no", "supplement"} <= set(sub_case), path

"""What the staff console reads: a case's `allowed_actions`, and the materials' files."""

from api.applications import workflow
from api.applications.models import Application
from api.core.models import AuditLog
from tests.applications.conftest import PDF, PNG, staff_headers, upload
from tests.applications.helpers import act, body_a, submit
from tests.factories import bearer, verified_citizen

# How a fresh case reaches each status: staff actions, and the citizen's ("citizen:...").
ROADS = {
    "submitted": [],
    "accepted": ["accept"],
    "supplement_requested": ["request_supplement"],
    "supplemented": ["request_supplement", "citizen:supplement"],
    "approved": ["accept", "approve"],
    "denied": ["accept", "deny"],
    "rejected": ["reject"],
    "completed": ["accept", "approve", "complete"],
    "shipped": ["accept", "approve", "complete", "ship"],
    "delivered": ["accept", "approve", "complete", "deliver"],
    "withdrawn": ["citizen:withdraw"],
}
# The fields each action needs, as a console sends them.
FIELDS = {"ship": {"carrier": "顺丰速运", "tracking_no": "SF1234567890"},
          "request_supplement": {"note": "请补充照片", "materials": ["M_PHOTO"]},
          "reject": {"note": "不属于受理范围"}, "deny": {"note": "不符合条件"}}


async def _case_at(client, staff, status: str, *, owed: bool = False, delivery: str = "express") -> str:
    """A fresh case of ITEM_A at `status`, through the API (with the deferred photo still owed when `owed`)."""
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens)
    if not owed:
        body["materials"][2] = {"material_code": "M_PHOTO", "file_id": (await upload(client, tokens))["file_id"]}
    if delivery != "express":
        body["delivery"] = {"method": delivery}
    case_id = (await submit(client, tokens, body))["id"]
    for step in ROADS[status]:
        if step == "citizen:supplement":
            photo = await upload(client, tokens, data=PNG, name="photo.png", content_type="image/png")
            r = await client.post(f"/api/v1/applications/{case_id}/supplement", headers=bearer(tokens),
                                  json={"materials": [{"material_code": "M_PHOTO", "file_id": photo["file_id"]}]})
            assert r.status_code == 200, r.text
        elif step == "citizen:withdraw":
            r = await client.post(f"/api/v1/applications/{case_id}/withdraw", headers=bearer(tokens))
            assert r.status_code == 200, r.text
        else:
            await act(client, staff, case_id, step, **FIELDS.get(step, {}))
    assert (await Application.get(id=case_id)).status == status
    return case_id


async def _allowed(client, staff, case_id) -> list[str]:
    r = await client.get(f"/api/v1/admin/applications/{case_id}", headers=staff)
    assert r.status_code == 200, r.text
    return r.json()["allowed_actions"]


async def _check(client, staff, status: str, **case) -> list[str]:
    """Every action `allowed_actions` names succeeds on a fresh case at `status`; every other one is refused and
    changes nothing: 409 invalid_transition when the workflow forbids it, else the case's own reason."""
    case_id = await _case_at(client, staff, status, **case)
    allowed = await _allowed(client, staff, case_id)
    assert set(allowed) <= set(workflow.STAFF_ACTIONS)
    for action in workflow.STAFF_ACTIONS:
        if action in allowed:
            fresh = await _case_at(client, staff, status, **case)
            moved = await act(client, staff, fresh, action, **FIELDS.get(action, {}))
            assert moved["status"] == workflow.STAFF_MOVES[action][status], (status, action)
            assert moved["allowed_actions"] == await _allowed(client, staff, fresh)
            continue
        r = await client.post(f"/api/v1/admin/applications/{case_id}/actions",
                              json={"action": action, **FIELDS.get(action, {})}, headers=staff)
        code = r.json()["error"]["code"]
        if status not in workflow.STAFF_MOVES[action]:
            assert (r.status_code, code) == (409, "invalid_transition"), (status, action, r.text)
        else:
            assert r.status_code in (409, 422) and code != "invalid_transition", (status, action, r.text)
    assert (await Application.get(id=case_id)).status == status
    return allowed


async def test_allowed_actions_are_exactly_the_moves_that_succeed(client, test_catalogue):
    staff = await staff_headers(client)
    found = {status: await _check(client, staff, status) for status in ROADS}
    assert found == {
        "submitted": ["accept", "reject", "request_supplement"],
        "accepted": ["request_supplement", "approve", "deny"],
        "supplement_requested": ["reject"],
        "supplemented": ["accept", "reject", "request_supplement"],
        "approved": ["complete"], "denied": [], "rejected": [],
        "completed": ["ship", "deliver"], "shipped": ["deliver"], "delivered": [], "withdrawn": []}


async def test_allowed_actions_leave_out_what_the_case_itself_refuses(client, test_catalogue):
    staff = await staff_headers(client)
    # A deferred material still owed: no approval (409 materials_owed) until it is handed in.
    assert await _check(client, staff, "accepted", owed=True) == ["request_supplement", "deny"]
    # Collected at the window: nothing to ship (422), only the delivery to confirm.
    assert await _check(client, staff, "completed", delivery="pickup") == ["deliver"]


async def test_a_super_admin_sees_the_same_moves_and_other_roles_none(client, test_catalogue):
    staff = await staff_headers(client)
    case_id = await _case_at(client, staff, "submitted")
    boss = await staff_headers(client, roles=("super_admin",), depts=())
    assert await _allowed(client, boss, case_id) == ["accept", "reject", "request_supplement"]
    writer = await staff_headers(client, roles=("policy_admin",), depts=("gongan",))
    assert (await client.get(f"/api/v1/admin/applications/{case_id}", headers=writer)).status_code == 403
    r = await client.post(f"/api/v1/admin/applications/{case_id}/actions", json={"action": "accept"},
                          headers=writer)
    assert r.status_code == 403


def _file_url(case_id: str, code: str) -> str:
    return f"/api/v1/admin/applications/{case_id}/materials/{code}/file"


async def test_a_clerk_reads_a_materials_file_and_the_read_is_audited(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens)
    photo = await upload(client, tokens, data=PNG, name="photo.png", content_type="image/png")
    body["materials"][2] = {"material_code": "M_PHOTO", "file_id": photo["file_id"]}
    case_id = (await submit(client, tokens, body))["id"]
    clerk = await staff_headers(client, depts=("gongan",))
    for code, data, content_type in (("M_ID_CARD", PDF, "application/pdf"), ("M_PHOTO", PNG, "image/png")):
        r = await client.get(_file_url(case_id, code), headers=clerk)
        assert r.status_code == 200, r.text
        assert r.content == data and r.headers["content-type"] == content_type
        assert r.headers["content-disposition"] == "inline" and r.headers["cache-control"] == "no-store"
    reads = await AuditLog.filter(action="application.material.read", target_id=case_id)
    assert sorted((a.actor_type, a.target_type, a.detail["material_code"]) for a in reads) == [
        ("admin", "application", "M_ID_CARD"), ("admin", "application", "M_PHOTO")]
    assert all(set(a.detail) == {"material_code"} for a in reads)  # the code, never the content


async def test_no_file_outside_the_department_or_without_an_upload(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]  # a gongan case
    other = await staff_headers(client, depts=("weijian",))
    r = await client.get(_file_url(case_id, "M_ID_CARD"), headers=other)
    assert r.status_code == 404 and PDF not in r.content
    clerk = await staff_headers(client, depts=("gongan",))
    for code in ("M_RESIDENCE_PROOF", "M_PHOTO", "M_UNKNOWN"):  # a pledge, a deferral, not this case's
        assert (await client.get(_file_url(case_id, code), headers=clerk)).status_code == 404, code
    assert not await AuditLog.filter(action="application.material.read", target_id=case_id).exists()
    assert (await client.get(_file_url(case_id, "M_ID_CARD"), headers=bearer(tokens))).status_code == 401
    assert (await client.get(_file_url(case_id, "M_ID_CARD"))).status_code == 401
    assert (await client.get(_file_url("APP-nope", "M_ID_CARD"), headers=clerk)).status_code == 404


async def test_openapi_documents_both(client):
    spec = (await client.get("/openapi.json")).json()
    case = spec["paths"]["/api/v1/admin/applications/{case_id}"]["get"]["responses"]["200"]["content"]
    ref = case["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    allowed = spec["components"]["schemas"][ref]["properties"]["allowed_actions"]
    assert allowed["items"]["enum"] == list(workflow.STAFF_ACTIONS)
    route = spec["paths"]["/api/v1/admin/applications/{case_id}/materials/{material_code}/file"]["get"]
    assert set(route["responses"]["200"]["content"]) == {"application/pdf", "image/jpeg", "image/png"}
    assert {"401", "403", "404"} <= set(route["responses"])

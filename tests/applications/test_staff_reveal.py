"""Staff: the applicant masked on the case, in clear only through the audited reveal; the materials a supplement
may name."""

from api.core.models import AuditLog
from tests.applications.conftest import staff_headers
from tests.applications.helpers import body_a, submit
from tests.factories import verified_citizen


async def test_the_applicant_is_masked_on_the_case_and_revealed_on_purpose_with_an_audit_entry(client):
    tokens, person = await verified_citizen(client, name="欧阳明")
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]
    staff = await staff_headers(client, depts=("gongan",))
    case = (await client.get(f"/api/v1/admin/applications/{case_id}", headers=staff)).json()
    assert case["applicant"]["name"] != "欧阳明" and person["id_number"] not in str(case["applicant"])
    assert not await AuditLog.filter(action="application.applicant.reveal", target_id=case_id).exists()
    r = await client.get(f"/api/v1/admin/applications/{case_id}/applicant", headers=staff)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    shown = r.json()
    assert shown["applicant"]["name"] == "欧阳明" and shown["applicant"]["id_number"] == person["id_number"]
    assert shown["applicant"]["phone"] == person["phone"] and shown["agent"] is None
    entries = await AuditLog.filter(action="application.applicant.reveal", target_id=case_id)
    assert len(entries) == 1 and entries[0].detail["citizen_id"] == tokens["citizen"]["id"]
    assert person["id_number"] not in str(entries[0].detail)


async def test_another_department_cannot_reveal_the_applicant(client):
    tokens, _ = await verified_citizen(client)
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]
    other = await staff_headers(client, depts=("weijian",))
    r = await client.get(f"/api/v1/admin/applications/{case_id}/applicant", headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    citizen = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(f"/api/v1/admin/applications/{case_id}/applicant", headers=citizen)).status_code == 401
    assert not await AuditLog.filter(action="application.applicant.reveal", target_id=case_id).exists()


async def test_the_case_lists_the_materials_a_supplement_may_name(client):
    tokens, _ = await verified_citizen(client)
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]
    staff = await staff_headers(client, depts=("gongan",))
    case = (await client.get(f"/api/v1/admin/applications/{case_id}", headers=staff)).json()
    # ITEM_A's catalogue materials, the optional one the applicant did not give included, in catalogue order.
    assert [m["code"] for m in case["material_options"]] == ["M_ID_CARD", "M_RESIDENCE_PROOF", "M_PHOTO", "M_EXTRA"]
    assert case["material_options"][3]["name"] == "其他补充材料"
    r = await client.post(f"/api/v1/admin/applications/{case_id}/actions", headers=staff,
                          json={"action": "request_supplement", "note": "请补充", "materials": ["M_EXTRA"]})
    assert r.status_code == 200, r.text
    assert r.json()["material_options"] == case["material_options"]


async def test_the_queue_names_each_applicant_masked(client):
    tokens, person = await verified_citizen(client, name="诸葛亮")
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]
    staff = await staff_headers(client, depts=("gongan",))
    items = (await client.get("/api/v1/admin/applications", params={"limit": 100}, headers=staff)).json()["items"]
    entry = next(i for i in items if i["id"] == case_id)
    assert entry["applicant_name"] == "诸**" and person["id_number"] not in str(items)

"""A certificate request as its reviewer reads it: the holder and facts masked, the moves open now, audited."""

import secrets

from api.core.models import AuditLog
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen


async def _pending(client):
    tokens, person = await verified_citizen(client, name="司马光", hukou_region="430104")
    r = await client.post("/api/v1/certificates", json={"type_code": "NO_CRIMINAL_RECORD", "purpose": "就业"},
                          headers={**bearer(tokens), "Idempotency-Key": secrets.token_hex(12)})
    assert r.status_code == 201 and r.json()["status"] == "pending_review", r.text
    return r.json(), person


async def test_a_reviewer_reads_a_pending_request_masked_and_the_read_is_audited(client):
    cert, person = await _pending(client)
    police = await staff_headers(client, depts=("gongan",))
    r = await client.get(f"/api/v1/admin/certificates/{cert['id']}", headers=police)
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["status"] == "pending_review" and seen["dept"] == "gongan" and seen["type_name"] == "无犯罪记录证明"
    assert seen["allowed_actions"] == ["approve", "reject"]
    assert seen["holder"]["name"] == "司**" and person["id_number"] not in str(seen)
    facts = {f["key"]: f for f in seen["facts"]}
    assert facts["name"]["label"] == "姓名" and facts["name"]["value"] == "司**"
    assert facts["id_number"]["value"] != person["id_number"]
    assert await AuditLog.filter(action="certificate.read", target_id=cert["id"]).count() == 1
    r = await client.post(f"/api/v1/admin/certificates/{cert['id']}/actions", json={"action": "approve"},
                          headers=police)
    assert r.status_code == 200
    after = (await client.get(f"/api/v1/admin/certificates/{cert['id']}", headers=police)).json()
    assert after["status"] == "issued" and after["allowed_actions"] == ["revoke"]


async def test_another_department_does_not_see_the_request(client):
    cert, _ = await _pending(client)
    other = await staff_headers(client, depts=("minzheng",))
    r = await client.get(f"/api/v1/admin/certificates/{cert['id']}", headers=other)
    assert r.status_code == 404
    assert not await AuditLog.filter(action="certificate.read", target_id=cert["id"]).exists()

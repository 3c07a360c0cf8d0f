"""Certificates: decided at once or by a reviewer, signed PDFs that validate, verification through time."""

import asyncio
import datetime as dt
import io
import secrets

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from api.certificates import ca
from api.certificates.models import Certificate
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen


async def _request(client, tokens, type_code="HUKOU", purpose="就业", expect=201, key=None):
    headers = {**bearer(tokens), "Idempotency-Key": key or secrets.token_hex(12)}
    r = await client.post("/api/v1/certificates", json={"type_code": type_code, "purpose": purpose}, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def _validate(live, data: bytes):
    """pyhanko's own validation against the project's root (it runs its own event loop: use a thread)."""
    root = ca.root_certificate(live.app.ctx.deps.settings.certificate_ca_dir)

    def check():
        signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
        return validate_pdf_signature(signature, ValidationContext(trust_roots=[root]))

    return await asyncio.to_thread(check)


async def test_a_registry_backed_certificate_is_issued_at_once_as_a_signed_pdf(client, live):
    tokens, person = await verified_citizen(client, name="周一", hukou_region="430104")
    cert = await _request(client, tokens)
    assert cert["status"] == "issued" and cert["serial"].startswith("HJ") and cert["verify_url"]
    assert "T" in cert["issued_at"] and dt.datetime.fromisoformat(cert["issued_at"]).tzinfo is not None  # ISO 8601
    r = await client.get(f"/api/v1/certificates/{cert['id']}/pdf", headers=bearer(tokens))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    status = await _validate(live, r.content)
    assert status.bottom_line and status.intact and status.trusted
    tampered = bytearray(r.content)
    at = tampered.find(b"/Title")
    tampered[at + 8] ^= 0x01
    assert not (await _validate(live, bytes(tampered))).bottom_line
    row = await Certificate.get(id=cert["id"])
    assert person["id_number"] not in (row.facts_enc or "")


async def test_the_data_can_say_no_or_send_it_to_a_reviewer(client):
    tokens, _ = await verified_citizen(client, hukou_region="110101")
    refused = await _request(client, tokens)
    assert refused["status"] == "rejected" and "户籍" in refused["reason"]
    pending = await _request(client, tokens, type_code="NO_CRIMINAL_RECORD")
    assert pending["status"] == "pending_review" and pending["verify_url"] is None
    other_dept = await staff_headers(client, depts=("minzheng",))
    r = await client.post(f"/api/v1/admin/certificates/{pending['id']}/actions", json={"action": "approve"},
                          headers=other_dept)
    assert r.status_code == 404
    police = await staff_headers(client, depts=("gongan",))
    queue = (await client.get("/api/v1/admin/certificates", params={"status": "pending_review", "limit": 100},
                              headers=police)).json()["items"]
    assert pending["id"] in [c["id"] for c in queue]
    r = await client.post(f"/api/v1/admin/certificates/{pending['id']}/actions", json={"action": "approve"},
                          headers=police)
    assert r.status_code == 200 and r.json()["status"] == "issued"
    r = await client.post(f"/api/v1/admin/certificates/{pending['id']}/actions", json={"action": "approve"},
                          headers=police)
    assert r.status_code == 409


async def test_verify_answers_valid_then_revoked_then_expired(client, live):
    tokens, _ = await verified_citizen(client, hukou_region="430104")
    cert = await _request(client, tokens, type_code="RESIDENCE")
    path = cert["verify_url"].split("127.0.0.1")[1].split("/", 1)[1]
    answer = (await client.get("/" + path)).json()
    assert answer["status"] == "valid" and answer["issuer"] == "市公安局" and answer["holder_masked"].endswith("*")
    assert set(answer["fields"]) == {"serial", "purpose"} and answer["checked_at"]
    r = await client.post("/api/v1/verify", json={"payload": cert["verify_url"]})
    assert r.json()["status"] == "valid"
    wrong_code = (await client.get(f"/api/v1/verify/{cert['serial']}?code=guessed")).json()
    assert wrong_code == {"status": "invalid", "checked_at": wrong_code["checked_at"]}
    real_clock = live.app.ctx.deps.clock
    live.app.ctx.deps.clock = lambda: real_clock() + dt.timedelta(days=91)
    try:
        assert (await client.get("/" + path)).json()["status"] == "expired"
    finally:
        live.app.ctx.deps.clock = real_clock
    police = await staff_headers(client, depts=("gongan",))
    r = await client.post(f"/api/v1/admin/certificates/{cert['id']}/actions", json={"action": "revoke"},
                          headers=police)
    assert r.status_code == 422  # a revocation says why
    r = await client.post(f"/api/v1/admin/certificates/{cert['id']}/actions",
                          json={"action": "revoke", "note": "登记信息有误"}, headers=police)
    assert r.status_code == 200
    assert (await client.get("/" + path)).json()["status"] == "revoked"


async def test_the_same_key_is_one_certificate(client):
    tokens, _ = await verified_citizen(client, hukou_region="430104")
    key = secrets.token_hex(12)
    first = await _request(client, tokens, key=key)
    again = await _request(client, tokens, key=key)
    assert again["id"] == first["id"]
    assert await Certificate.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    await _request(client, tokens, purpose="入学", key=key, expect=409)


async def test_another_citizens_certificate_is_404_and_bad_input_is_422(client):
    tokens, _ = await verified_citizen(client, hukou_region="430104")
    other, _ = await verified_citizen(client)
    cert = await _request(client, tokens)
    for path in (f"/api/v1/certificates/{cert['id']}", f"/api/v1/certificates/{cert['id']}/pdf"):
        assert (await client.get(path, headers=bearer(other))).status_code == 404
    await _request(client, tokens, type_code="NOPE", expect=422)
    await _request(client, tokens, purpose="随便", expect=422)


async def test_verification_is_rate_limited(client, live):
    limit = live.app.ctx.deps.settings.verify_rate_per_ip
    codes = [(await client.get("/api/v1/verify/HJ000000?code=x")).status_code for _ in range(limit + 1)]
    assert codes[:limit] == [200] * limit and codes[-1] == 429


async def test_the_certificate_types_are_listed_with_who_decides(client):
    items = {t["code"]: t for t in (await client.get("/api/v1/certificate-types")).json()["items"]}
    wanted = {"HUKOU", "NO_CRIMINAL_RECORD", "MARRIAGE_RECORD", "SOCIAL_INSURANCE", "RESIDENCE", "TAX_PAYMENT"}
    assert wanted <= set(items)
    assert items["HUKOU"]["decided_by"] == "registry" and items["HUKOU"]["registry"] == "population"
    assert items["NO_CRIMINAL_RECORD"]["decided_by"] == "reviewer" and items["HUKOU"]["validity_days"] > 0

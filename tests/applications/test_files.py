"""Uploads: the type is the content's, the size is limited, the file is its owner's alone."""

import hashlib

from api.applications.models import StoredFile
from tests.applications.conftest import PDF, PNG, upload
from tests.applications.helpers import body_a
from tests.factories import bearer, verified_citizen, wechat_login


async def test_upload_hashes_and_types_by_content(client, live):
    tokens = await wechat_login(client)
    answer = await upload(client, tokens, data=PNG, name="photo.bin", content_type="application/octet-stream")
    assert answer["content_type"] == "image/png" and answer["size"] == len(PNG)
    assert answer["sha256"] == hashlib.sha256(PNG).hexdigest()
    row = await StoredFile.get(id=answer["file_id"])
    stored = (live.settings.data_dir / "uploads" / row.storage_key[:2] / row.storage_key).read_bytes()
    assert PNG not in stored  # encrypted at rest


async def test_a_file_that_claims_to_be_a_pdf_but_is_not_is_refused(client):
    tokens = await wechat_login(client)
    before = await StoredFile.all().count()
    r = await client.post("/api/v1/files", files={"file": ("证明.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
                          headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "file_type_mismatch"
    r = await client.post("/api/v1/files", files={"file": ("a.png", PDF, "image/png")}, headers=bearer(tokens))
    assert r.status_code == 422
    r = await client.post("/api/v1/files", files={"file": ("x", b"just text", "")}, headers=bearer(tokens))
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_file_type"
    assert await StoredFile.all().count() == before


async def test_files_over_ten_mebibytes_are_refused(client):
    tokens = await wechat_login(client)
    big = PDF[:-6] + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    r = await client.post("/api/v1/files", files={"file": ("big.pdf", big, "application/pdf")}, headers=bearer(tokens))
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large"


async def test_upload_needs_a_file_field(client):
    tokens = await wechat_login(client)
    r = await client.post("/api/v1/files", data={"other": "x"}, headers=bearer(tokens))
    assert r.status_code == 422 and "file" in r.json()["error"]["fields"]


async def test_another_citizens_file_cannot_be_used(client, test_catalogue):
    mine, _ = await verified_citizen(client)
    theirs, _ = await verified_citizen(client)
    body = await body_a(client, theirs)  # uploaded by the other citizen
    r = await client.post("/api/v1/applications", json=body, headers=bearer(mine))
    assert r.status_code == 404

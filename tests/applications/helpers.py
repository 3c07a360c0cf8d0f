"""Small builders for application requests."""

import secrets

from tests.applications.conftest import upload
from tests.factories import bearer

ITEM_A, ITEM_B, ITEM_C, ITEM_LOW = "T00000000001", "T00000000002", "T00000000003", "T00000000004"
BUNDLE = "B_TEST_NEWBORN"


def form_a(**override) -> dict:
    """ITEM_A's form as a front end sends it: the applicant's name, id number and phone are left to the server,
    which fills them from the verified identity."""
    return {"reason": "就业", **override}


async def body_a(client, tokens, **override) -> dict:
    """A complete application for ITEM_A: an upload, a pledge and a deferral."""
    f = await upload(client, tokens)
    body = {"item_code": ITEM_A, "form": form_a(),
            "materials": [{"material_code": "M_ID_CARD", "file_id": f["file_id"]},
                          {"material_code": "M_RESIDENCE_PROOF", "commitment": True},
                          {"material_code": "M_PHOTO", "deferred": True}],
            "delivery": {"method": "express", "address": "湖南省长沙市岳麓区麓山南路 1 号"},
            "applicant_region": "430104"}
    body.update(override)
    return body


async def submit(client, tokens, body, *, key=None, expect=201, headers=None) -> dict:
    """POST /applications; the answer."""
    h = {**bearer(tokens), "Idempotency-Key": key or secrets.token_hex(12), **(headers or {})}
    r = await client.post("/api/v1/applications", json=body, headers=h)
    assert r.status_code == expect, r.text
    return r.json()


async def bundle_body(client, tokens) -> dict:
    f = await upload(client, tokens)
    g = await upload(client, tokens)
    return {"bundle_code": BUNDLE,
            "form": {"applicant_name": "王五", "child_name": "王小宝", "child_birth_date": "2026-11-01"},
            "materials": [{"material_code": "M_ID_CARD", "file_id": f["file_id"]},
                          {"material_code": "M_BIRTH_RECORD", "file_id": g["file_id"]},
                          {"material_code": "M_HOUSEHOLD_REGISTER", "deferred": True}],
            "delivery": {"method": "electronic"}, "applicant_region": "430104"}


async def act(client, staff, case_id, action, *, expect=200, **extra) -> dict:
    """A staff action; the answer."""
    body = {"action": action, **extra}
    if action in ("reject", "deny", "request_supplement") and "note" not in extra:
        body["note"] = "请补充材料"
    r = await client.post(f"/api/v1/admin/applications/{case_id}/actions", json=body, headers=staff)
    assert r.status_code == expect, r.text
    return r.json()

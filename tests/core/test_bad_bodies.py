"""Bad bodies are a 4xx with the usual error body, never a 500: a NUL in any string (PostgreSQL cannot store one), a
JSON value that is not an object, a body that is no JSON or is nested 100,000 deep; and nothing is written."""

import json
import time

from tests.factories import bearer, verified_citizen
from tests.policies.helpers import create_policy, policy_admin

ITEM = "T00000000001"  # an item of the tests' catalogue


def _error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["message"], r.text
    return error


async def test_a_nul_in_any_string_of_a_body_or_query_is_422_naming_the_field_and_writes_nothing(client,
                                                                                                 test_catalogue):
    tokens, _ = await verified_citizen(client)
    citizen = bearer(tokens)
    admin = await policy_admin(client)
    me = (await client.get("/api/v1/me", headers=citizen)).json()
    policies = (await client.get("/api/v1/admin/policies", headers=admin)).json()["items"]
    policy = {"title": "高龄老人津贴", "summary": "80 周岁以上老人按月发放高龄津贴", "body": "依据省民政厅通知……",
              "mode": "notify", "rule": {"all": [{"field": "age", "op": ">=", "value": 80}]}, "channels": ["inbox"]}
    cases = [
        ("POST", "/api/v1/admin/policies", admin, {**policy, "title": "高龄\x00津贴"}, "title"),
        ("POST", "/api/v1/admin/policies", admin,
         {**policy, "rule": {"all": [{"field": "age", "op": ">=", "value": "8\x000"}]}}, "rule.all.0.value"),
        ("POST", "/api/v1/admin/policies", admin, {**policy, "benefit": {"na\x00me": "津贴"}}, "benefit.na\\u0000me"),
        ("POST", "/api/v1/me/real-name", citizen, {"name": "王\x00五", "id_number": "110101199001011237"}, "name"),
        ("POST", "/api/v1/drafts", citizen, {"item_code": ITEM, "form": {"address": {"street": "幸福路\x001 号"}}},
         "form.address.street"),
        ("POST", "/api/v1/auth/wechat/login", {}, {"code": "abc\x00"}, "code"),
    ]
    for method, path, headers, body, field in cases:
        r = await client.request(method, path, headers=headers, content=json.dumps(body))
        assert _error(r, 422, "validation_failed")["fields"] == {field: "不能包含 NUL 字符（\\u0000）"}, (path, r.text)
    for path, headers, name in (("/api/v1/items", {}, "q"), ("/api/v1/admin/applications", admin, "dept"),
                                ("/api/v1/applications", citizen, "status")):
        r = await client.get(path, params={name: "a\x00b"}, headers=headers)
        assert _error(r, 422, "validation_failed")["fields"] == {name: "不能包含 NUL 字符（\\u0000）"}, (path, r.text)
    assert (await client.get("/api/v1/admin/policies", headers=admin)).json()["items"] == policies
    assert (await client.get("/api/v1/me", headers=citizen)).json() == me
    assert (await client.get("/api/v1/drafts", headers=citizen)).json()["items"] == []
    # The escape spelled out as text is no NUL.
    r = await client.post("/api/v1/drafts", headers=citizen, json={"item_code": ITEM, "form": {"note": "\\u0000"}})
    assert r.status_code == 201, r.text


async def test_a_body_that_is_no_json_too_deep_or_not_an_object_is_a_4xx_quickly(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    admin = await policy_admin(client)
    policy = await create_policy(client, admin, rule={"all": [{"field": "age", "op": ">=", "value": 80}]},
                                 mode="notify", channels=("inbox",))
    routes = [(f"/api/v1/admin/policies/{policy['id']}/publish", {**admin, "Idempotency-Key": "k-bad-body"}),
              ("/api/v1/applications", bearer(tokens)), ("/api/v1/drafts", bearer(tokens)),
              ("/api/v1/admin/policies", admin)]
    deep = b"[" * 100_000 + b"]" * 100_000
    for path, headers in routes:
        for body in (b"{", deep, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
            started = time.perf_counter()
            _error(await client.post(path, headers=headers, content=body), 400, "invalid_json")
            assert time.perf_counter() - started < 2, path
        for body in (b"[]", b'"x"', b"1", b"[{}]"):
            _error(await client.post(path, headers=headers, content=body), 422, "validation_failed")
    policies = (await client.get("/api/v1/admin/policies", headers=admin)).json()["items"]
    assert [p["status"] for p in policies] == ["draft"]
    assert (await client.get("/api/v1/admin/campaigns", headers=admin)).json()["items"] == []
    assert (await client.get("/api/v1/applications", headers=bearer(tokens))).json()["items"] == []


async def test_a_time_outside_the_service_years_is_a_422_and_records_nothing(client):
    from api.codes.models import CodeScan
    from tests.codes.helpers import terminal

    gate = await terminal(client, "transit")
    for at in ("0426-03-30T09:25:36Z", "0169-03-07T00:48:56+20:31", "2100-01-01T00:00:00+00:00"):
        r = await client.post("/api/v1/scans/batch", headers=gate["headers"], json={"scans": [
            {"scan_id": "s1", "payload": "x" * 20, "scanned_at": at}]})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["fields"] == {"scans.0.scanned_at": "时间须在 2000 年至 2099 年之间"}
    assert await CodeScan.filter(terminal_id=gate["terminal_id"]).count() == 0
    r = await client.post("/api/v1/scans/batch", headers=gate["headers"], json={"scans": [
        {"scan_id": "s1", "payload": "x" * 20, "scanned_at": "2099-12-31T23:00:00+08:00"}]})
    assert r.status_code == 200 and r.json()["items"][0]["outcome"] == "refused"  # in range: judged, not refused

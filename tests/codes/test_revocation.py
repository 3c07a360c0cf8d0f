"""Freezing, revoking, the revocation list, terminals' lifecycle and offline verification."""

from __future__ import annotations

import datetime as dt

from api.codes import cose
from api.codes import service as codes_service
from api.codes.models import CodeRevocation, Terminal
from api.core.models import AuditLog
from tests.applications.conftest import staff_headers
from tests.codes.helpers import code_holder, my_code, scan, super_admin, terminal
from tests.factories import bearer, wechat_login


async def _revocations(client, term: dict, since: int = 0) -> dict:
    r = await client.get(f"/api/v1/codes/revocations?since={since}", headers=term["headers"])
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_frozen_code_is_refused_online_and_listed_for_offline_terminals(client, live):
    tokens, person = await code_holder(client)
    shown = (await my_code(client, tokens))["payload"]
    gate = await terminal(client, "transit")
    before = (await _revocations(client, gate))["next_since"]
    # The lost phone's session, signed in elsewhere before the freeze.
    lost_phone = await wechat_login(client, phone=person["phone"])

    r = await client.post("/api/v1/codes/me/freeze", headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["status"] == "frozen", r.text
    frozen_at = int(dt.datetime.fromisoformat(r.json()["changed_at"]).timestamp())
    assert r.json()["sessions_ended"] >= 1
    r = await scan(client, gate, shown)
    assert r.status_code == 403 and r.json()["error"]["code"] == "code_revoked"
    listed = await _revocations(client, gate, since=before)
    code_id = cose.open_unverified(shown).claims[cose.CLAIM_CTI].hex()
    # Every id the holder's codes can have had within a code's lifetime, the one shown among them.
    env = codes_service.runtime(live.app.ctx.deps)
    assert code_id in {i["code_id"] for i in listed["items"]}
    # Ids whose codes would have expired by the time of listing drop out (a slow moment can cross a second).
    passed = int(dt.datetime.fromisoformat(listed["as_of"]).timestamp()) - frozen_at
    assert len(listed["items"]) == env.ttl + env.skew - passed
    assert (await _revocations(client, gate, since=listed["next_since"]))["items"] == []

    # An offline terminal with the JWKS and that list refuses it too.
    jwks = (await client.get("/api/v1/codes/keys")).json()
    verifier = cose.OfflineVerifier(cose.keys_from_jwks(jwks), revoked={i["code_id"] for i in listed["items"]})
    now = codes_service.runtime(live.app.ctx.deps).clock().timestamp()
    try:
        verifier.verify(shown, now=now)
        raise AssertionError("a revoked code passed offline")
    except cose.CodeRefused as e:
        assert e.reason == "code_revoked"

    assert (await client.get("/api/v1/me", headers=bearer(lost_phone))).status_code == 401
    r = await client.get("/api/v1/codes/me", headers=bearer(tokens))
    assert r.status_code == 403 and r.json()["error"]["code"] == "code_frozen"
    r = await client.post("/api/v1/codes/me/unfreeze", headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["status"] == "active"
    fresh = (await my_code(client, tokens))["payload"]
    assert verifier.verify(fresh, now=now)[cose.CLAIM_SCENES]
    assert (await scan(client, gate, fresh)).status_code == 200
    assert (await scan(client, gate, shown)).status_code == 403  # codes from before the freeze stay dead
    r = await client.post("/api/v1/codes/me/unfreeze", headers=bearer(tokens))
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_not_frozen"


async def test_an_admin_revokes_a_code_and_only_an_admin_reinstates_it(client):
    tokens, _ = await code_holder(client)
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    shown = (await my_code(client, tokens))["payload"]
    admin = await super_admin(client)
    url = f"/api/v1/admin/codes/holders/{me['id']}"
    reviewer = await staff_headers(client, roles=("reviewer",))
    assert (await client.post(f"{url}/revoke", json={"reason": "冒用"}, headers=reviewer)).status_code == 403
    assert (await client.post(f"{url}/revoke", json={}, headers=admin)).status_code == 422
    r = await client.post(f"{url}/revoke", json={"reason": "他人冒用，经核实停用"}, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    hall = await terminal(client, "service", dept="zhengwu", admin=admin)
    assert (await scan(client, hall, shown)).json()["error"]["code"] == "code_revoked"
    r = await client.get("/api/v1/codes/me", headers=bearer(tokens))
    assert r.status_code == 403 and r.json()["error"]["code"] == "code_revoked"
    assert (await client.post("/api/v1/codes/me/unfreeze", headers=bearer(tokens))).status_code == 403
    assert (await client.get("/api/v1/codes/me/status", headers=bearer(tokens))).json()["status"] == "revoked"
    assert await AuditLog.exists(action="code.revoke", target_id=me["id"])

    r = await client.post(f"{url}/reinstate", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert (await scan(client, hall, (await my_code(client, tokens))["payload"])).status_code == 200
    unknown = "/api/v1/admin/codes/holders/cit_nobody"
    assert (await client.post(f"{unknown}/revoke", json={"reason": "测试停用"}, headers=admin)).status_code == 404
    assert (await client.post(f"{unknown}/reinstate", headers=admin)).status_code == 404


async def test_revocations_need_a_terminal_and_a_valid_cursor(client):
    assert (await client.get("/api/v1/codes/revocations")).status_code == 401
    gate = await terminal(client, "transit")
    r = await client.get("/api/v1/codes/revocations?since=abc", headers=gate["headers"])
    assert r.status_code == 422
    assert not await CodeRevocation.filter(id__lt=0).exists()


async def test_terminals_are_registered_by_admins_and_a_disabled_one_is_refused(client):
    tokens, _ = await code_holder(client)
    admin = await super_admin(client)
    body = {"name": "1 路公交 闸机", "scene": "transit", "dept": "jiaotong"}
    assert (await client.post("/api/v1/admin/terminals", json=body, headers=bearer(tokens))).status_code == 401
    reviewer = await staff_headers(client, roles=("reviewer",))
    assert (await client.post("/api/v1/admin/terminals", json=body, headers=reviewer)).status_code == 403
    bad = await client.post("/api/v1/admin/terminals", json={**body, "scene": "library"}, headers=admin)
    assert bad.status_code == 422
    gate = await terminal(client, "transit", admin=admin)
    stored = await Terminal.get(id=gate["terminal_id"])
    assert gate["secret"] not in stored.secret_hash and len(stored.secret_hash) == 64
    listed = (await client.get("/api/v1/admin/terminals?scene=transit", headers=admin)).json()["items"]
    assert all("secret" not in t or t["secret"] is None for t in listed)
    assert gate["terminal_id"] in {t["terminal_id"] for t in listed}

    wrong = {"Authorization": f"Terminal {gate['terminal_id']}:{gate['secret'][:-1]}x"}
    r = await client.post("/api/v1/scan", json={"payload": "YM1:AAAAAAAA", "scene": "transit"}, headers=wrong)
    assert r.status_code == 401
    # A good scan first: this process now trusts the gate's credentials for a moment.
    assert (await scan(client, gate, (await my_code(client, tokens))["payload"])).status_code == 200
    payload = (await my_code(client, tokens))["payload"]
    r = await client.post(f"/api/v1/admin/terminals/{gate['terminal_id']}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "disabled"
    r = await scan(client, gate, payload)
    assert r.status_code == 401 and r.json()["error"]["code"] == "terminal_unauthorized"
    assert (await client.post("/api/v1/admin/terminals/trm_nope/disable", headers=admin)).status_code == 404
    assert await AuditLog.exists(action="terminal.disable", target_id=gate["terminal_id"])


async def test_my_scans_show_who_scanned_my_code_and_no_one_else_s(client):
    tokens, _ = await code_holder(client)
    other, _ = await code_holder(client)
    hospital = await terminal(client, "health", dept="weijian")
    await scan(client, hospital, (await my_code(client, tokens))["payload"])
    await scan(client, hospital, (await my_code(client, other))["payload"])
    mine = (await client.get("/api/v1/codes/me/scans", headers=bearer(tokens))).json()["items"]
    assert [(s["scene"], s["dept"], s["outcome"]) for s in mine] == [("health", "weijian", "accepted")]

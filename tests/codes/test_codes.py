"""The one-person code: issuing, verifying with third-party libraries, refusing what must be refused."""

from __future__ import annotations

import base64
import datetime as dt
import os
import zlib

import base45
import cbor2
import pytest
import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import CoseMessage

from api.codes import cose
from api.codes import service as codes
from api.codes.models import CodeHolder, CodeScan, CodeSigningKey
from api.core import pii
from tests.codes.helpers import code_holder, my_code, next_second, scan, terminal
from tests.factories import bearer, random_phone, wechat_login


def _cose_bytes(payload: str) -> bytes:
    assert payload.startswith("YM1:")
    return zlib.decompress(base45.b45decode(payload[4:]))


async def _jwks(client) -> dict:
    r = await client.get("/api/v1/codes/keys")
    assert r.status_code == 200, r.text
    return r.json()


def _pycose_verifies(payload: str, jwks: dict) -> bool:
    """Verify with pycose and the JWKS alone, as a third-party terminal would."""
    message = CoseMessage.decode(_cose_bytes(payload))
    kid = base64.urlsafe_b64encode(message.phdr[next(h for h in message.phdr if h.__name__ == "KID")]) \
        .rstrip(b"=").decode()
    jwk = next((k for k in jwks["keys"] if k["kid"] == kid), None)
    if jwk is None:
        return False
    message.key = OKPKey(crv=Ed25519, x=base64.urlsafe_b64decode(jwk["x"] + "=="))
    return message.verify_signature()


def _reseal(payload: str, change) -> str:
    """The same signature over claims changed by `change` (a forgery attempt)."""
    protected, unprotected, body, signature = cbor2.loads(_cose_bytes(payload)).value
    claims = cbor2.loads(body)
    change(claims)
    message = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    return "YM1:" + base45.b45encode(zlib.compress(message)).decode()


async def test_code_verifies_with_pycose_and_the_jwks_alone_and_carries_no_personal_data(client):
    tokens, person = await code_holder(client)
    code = await my_code(client, tokens)
    assert code["scenes"] == ["service", "health", "transit", "social_security"]
    assert 0 < code["refresh_after_seconds"] < 60
    jwks = await _jwks(client)
    assert {k["status"] for k in jwks["keys"]} >= {"current", "next"}
    assert _pycose_verifies(code["payload"], jwks)

    claims = cbor2.loads(CoseMessage.decode(_cose_bytes(code["payload"])).payload)
    assert claims[4] - claims[6] == 60 and len(claims[7]) == 16 and claims[-70001] == code["scenes"]
    raw = _cose_bytes(code["payload"])
    for secret in (person["name"], person["phone"], person["id_number"], person["health_card_no"],
                   person["ride_account"], person["card_no"]):
        assert secret.encode() not in raw
    assert segno.make(code["payload"], error="m").version <= 10

    # Rotating and pseudonymous: a new id each second, and two ids of one person share nothing visible.
    await next_second()
    again = await my_code(client, tokens)
    other = cbor2.loads(CoseMessage.decode(_cose_bytes(again["payload"])).payload)
    assert other[7] != claims[7]


async def test_a_citizen_below_level_2_gets_no_code(client):
    tokens = await wechat_login(client, phone=random_phone())
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    assert me["assurance_level"] == 1
    r = await client.get("/api/v1/codes/me", headers=bearer(tokens))
    assert r.status_code == 403 and r.json()["error"]["code"] == "assurance_level_too_low"
    assert "payload" not in r.text
    assert not await CodeHolder.exists(citizen_id=me["id"])
    r = await client.get("/api/v1/codes/me")
    assert r.status_code == 401


async def test_scenes_follow_registry_data(client):
    tokens, _ = await code_holder(client, health=False, transit="arrears", social="终止参保")
    assert (await my_code(client, tokens))["scenes"] == ["service"]


async def test_a_changed_byte_is_refused(client):
    tokens, _ = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    gate = await terminal(client, "transit")
    jwks = await _jwks(client)

    def later(claims):
        claims[4] += 3600

    forged = _reseal(payload, later)
    assert not _pycose_verifies(forged, jwks)
    r = await scan(client, gate, forged)
    assert r.status_code == 422 and r.json()["error"]["code"] == "code_invalid"
    broken = payload[:-3] + ("0" if payload[-3] != "0" else "1") + payload[-2:]
    r = await scan(client, gate, broken)
    assert r.status_code == 422 and r.json()["error"]["code"] == "code_invalid"
    assert (await scan(client, gate, payload)).status_code == 200  # the untouched code still rides once


async def test_an_expired_code_is_refused(client, live):
    tokens, _ = await code_holder(client)
    citizen_id = (await client.get("/api/v1/me", headers=bearer(tokens))).json()["id"]
    env = codes.runtime(live.app.ctx.deps)
    old = await codes.issue(deps=live.app.ctx.deps, citizen_id=citizen_id,
                            now=env.clock() - dt.timedelta(seconds=env.ttl + env.skew + 1))
    gate = await terminal(client, "transit")
    r = await scan(client, gate, old["payload"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "code_expired"
    # Within the allowed clock skew a code just past its expiry still passes.
    recent = await codes.issue(deps=live.app.ctx.deps, citizen_id=citizen_id,
                               now=env.clock() - dt.timedelta(seconds=env.ttl + 2))
    assert (await scan(client, gate, recent["payload"])).status_code == 200


async def test_a_retired_key_is_refused(client, live):
    tokens, _ = await code_holder(client)
    citizen_id = (await client.get("/api/v1/me", headers=bearer(tokens))).json()["id"]
    env = codes.runtime(live.app.ctx.deps)
    now = env.clock()
    await my_code(client, tokens)
    holder = await CodeHolder.get(citizen_id=citizen_id)
    # A key whose window ended a month ago (its private half leaked, say) signs a code dated now.
    old_key = ed25519.Ed25519PrivateKey.generate()
    kid = os.urandom(6)
    await CodeSigningKey.create(
        kid=cose.kid_text(kid), private_key_enc=None, public_key=cose.kid_text(old_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)),
        not_before=now - dt.timedelta(days=40, microseconds=int.from_bytes(os.urandom(3), 'big')),
        not_after=now - dt.timedelta(days=33),
        publish_until=now - dt.timedelta(days=33) + dt.timedelta(seconds=70))
    iat = int(now.timestamp())
    forged = cose.seal({1: "x", 6: iat, 4: iat + 60, 7: env.code_ids.seal(holder_id=holder.id, issued_at=iat),
                        -70001: ["service", "health", "transit", "social_security"]}, kid=kid, private_key=old_key)
    jwks = await _jwks(client)
    assert cose.kid_text(kid) not in {k["kid"] for k in jwks["keys"]}
    assert not _pycose_verifies(forged, jwks)
    r = await scan(client, await terminal(client, "service", dept="zhengwu"), forged)
    assert r.status_code == 422 and r.json()["error"]["code"] == "code_key_retired"


async def test_transit_answer_holds_no_name_phone_or_id_number(client):
    tokens, person = await code_holder(client, name="欧阳明")
    gate = await terminal(client, "transit")
    r = await scan(client, gate, (await my_code(client, tokens))["payload"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["may_ride"] is True and body["ride_account"] == person["ride_account"]
    assert set(body) == {"scan_id", "scene", "code_id", "expires_at", "may_ride", "ride_account", "reason"}
    text = r.text
    for secret in ("欧阳", person["phone"], person["phone"][-4:], person["id_number"], person["id_number"][-4:],
                   person["health_card_no"], person["card_no"]):
        assert secret not in text


async def test_each_scene_sees_only_its_own_fields(client):
    tokens, person = await code_holder(client, name="钱七")
    payload = (await my_code(client, tokens))["payload"]
    hospital = await terminal(client, "health", dept="weijian")
    body = (await scan(client, hospital, payload)).json()
    assert body["health_card_no"] == person["health_card_no"] and body["name"] == "钱*"
    assert "ride_account" not in body and "card_no" not in body and "id_number" not in body
    hall = await terminal(client, "service", dept="zhengwu")
    body = (await scan(client, hall, payload)).json()
    assert body["name"] == "钱*" and body["assurance_level"] == 2
    assert body["id_number"] != person["id_number"] and body["id_number"][:1] == person["id_number"][:1]
    assert "health_card_no" not in body
    pharmacy = await terminal(client, "social_security", dept="renshe")
    body = (await scan(client, pharmacy, payload)).json()
    assert body["card_no"] == person["card_no"] and body["card_status"] == "正常参保"


async def test_an_online_scan_is_logged_with_who_where_and_when(client, live):
    tokens, _ = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    hospital = await terminal(client, "health", dept="weijian")
    before = codes.runtime(live.app.ctx.deps).clock()
    answer = (await scan(client, hospital, payload)).json()
    row = await CodeScan.get(id=answer["scan_id"])
    citizen_id = (await client.get("/api/v1/me", headers=bearer(tokens))).json()["id"]
    holder = await CodeHolder.get(citizen_id=citizen_id)
    assert (row.terminal_id, row.scene, row.code_id, row.holder_id) == (hospital["terminal_id"], "health",
                                                                         answer["code_id"], holder.id)
    assert (row.outcome, row.reason, row.source, row.used_twice) == ("accepted", None, "online", False)
    assert abs((row.scanned_at - before).total_seconds()) < 5 and row.recorded_at == row.scanned_at


async def test_a_hospital_terminal_cannot_scan_as_a_bus_gate(client):
    tokens, _ = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    hospital = await terminal(client, "health", dept="weijian")
    r = await scan(client, hospital, payload, scene="transit")
    assert r.status_code == 403 and r.json()["error"]["code"] == "scene_not_allowed"
    assert "ride_account" not in r.text
    logged = await CodeScan.filter(terminal_id=hospital["terminal_id"]).values_list("outcome", "reason")
    assert logged == [("refused", "scene_not_allowed")]
    # The refused attempt did not spend the ride.
    assert (await scan(client, await terminal(client, "transit"), payload)).status_code == 200


async def test_a_scene_the_holder_lacks_is_refused(client):
    tokens, _ = await code_holder(client, health=False)
    r = await scan(client, await terminal(client, "health", dept="weijian"), (await my_code(client, tokens))["payload"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "scene_not_held"


async def test_a_second_ride_with_the_same_code_is_refused(client):
    tokens, _ = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    first, second = await terminal(client, "transit"), await terminal(client, "transit")
    assert (await scan(client, first, payload)).status_code == 200
    r = await scan(client, second, payload)
    assert r.status_code == 409 and r.json()["error"]["code"] == "code_already_used"
    r = await scan(client, first, payload)
    assert r.status_code == 409
    # A fresh code (ids change every second) rides again; the hospital may see the used one as often as it likes.
    await next_second()
    assert (await scan(client, first, (await my_code(client, tokens))["payload"])).status_code == 200
    hospital = await terminal(client, "health", dept="weijian")
    assert (await scan(client, hospital, payload)).status_code == 200
    assert (await scan(client, hospital, payload)).status_code == 200


async def test_a_ride_account_in_arrears_may_not_ride(client):
    tokens, person = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    from tests.codes.helpers import _one

    await _one("transit", {"id_number": person["id_number"], "ride_account": person["ride_account"],
                           "standing": "arrears"})
    r = await scan(client, await terminal(client, "transit"), payload)
    assert r.status_code == 200 and r.json()["may_ride"] is False
    assert r.json()["reason"] == "ride_account_arrears"


@pytest.mark.parametrize("header", ["Terminal trm_nope:secret", "Bearer x", "Terminal trm_only", ""])
async def test_unknown_terminal_credentials_are_refused(client, header):
    r = await client.post("/api/v1/scan", json={"payload": "YM1:AAAAAAAA", "scene": "transit"},
                          headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json()["error"]["code"] == "terminal_unauthorized"


async def test_signing_keys_are_encrypted_at_rest(client):
    tokens, _ = await code_holder(client)
    await my_code(client, tokens)
    rows = await CodeSigningKey.filter(private_key_enc__isnull=False)
    assert rows
    for row in rows:
        assert row.private_key_enc.startswith("v1:")
        raw = pii.cipher().decrypt(row.private_key_enc, context="codes.signing_key")
        assert len(base64.urlsafe_b64decode(raw + "==")) == 32

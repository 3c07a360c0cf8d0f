"""Offline terminals: batches uploaded any number of times, double use flagged; key rotation; the wire format."""

from __future__ import annotations

import datetime as dt
import zlib

import base45
import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from api.codes import cose
from api.codes import service as codes_service
from api.codes.keyring import IssuerCheck, Keyring
from api.codes.models import CodeScan, CodeSigningKey
from tests.codes.helpers import code_holder, my_code, next_second, terminal


def _iso(at: dt.datetime) -> str:
    return at.isoformat()


async def test_a_batch_uploaded_twice_records_each_scan_once_and_flags_a_code_used_twice(client, live):
    tokens, _ = await code_holder(client)
    first = (await my_code(client, tokens))["payload"]
    await next_second()  # code ids are per second
    second = (await my_code(client, tokens))["payload"]
    gate = await terminal(client, "transit")
    now = codes_service.runtime(live.app.ctx.deps).clock()
    batch = {"scans": [
        {"scan_id": "s-1", "payload": first, "scanned_at": _iso(now)},
        {"scan_id": "s-2", "payload": second, "scanned_at": _iso(now)},
        {"scan_id": "s-3", "payload": first, "scanned_at": _iso(now + dt.timedelta(seconds=5))},  # the same code
        {"scan_id": "s-4", "payload": first[:-4] + "AAAA", "scanned_at": _iso(now)},
    ]}
    r = await client.post("/api/v1/scans/batch", json=batch, headers=gate["headers"])
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["recorded"] == 4 and answer["already_recorded"] == 0
    assert answer["flagged"] == ["s-3"]
    outcomes = {i["scan_id"]: (i["outcome"], i["reason"]) for i in answer["items"]}
    assert outcomes["s-1"] == ("accepted", None) and outcomes["s-4"] == ("refused", "code_invalid")

    again = await client.post("/api/v1/scans/batch", json=batch, headers=gate["headers"])
    assert again.status_code == 200
    assert again.json()["recorded"] == 0 and again.json()["already_recorded"] == 4
    assert again.json()["items"] == answer["items"] and again.json()["flagged"] == ["s-3"]
    assert await CodeScan.filter(terminal_id=gate["terminal_id"]).count() == 4

    # The ride was spent offline: an online gate now refuses the same code.
    r = await client.post("/api/v1/scan", json={"payload": first, "scene": "transit"},
                          headers=(await terminal(client, "transit"))["headers"])
    assert r.status_code == 409


async def test_a_bad_batch_is_refused_whole(client):
    gate = await terminal(client, "transit")
    for body in ({"scans": []}, {"scans": [{"scan_id": "x"}]}, {"scans": [{"scan_id": "", "payload": "YM1:AAAAAA",
                                                                          "scanned_at": "yesterday"}]}):
        r = await client.post("/api/v1/scans/batch", json=body, headers=gate["headers"])
        assert r.status_code == 422, r.text
    assert await CodeScan.filter(terminal_id=gate["terminal_id"]).count() == 0


async def test_offline_scans_of_expired_codes_and_future_times_are_refused(client, live):
    tokens, _ = await code_holder(client)
    payload = (await my_code(client, tokens))["payload"]
    gate = await terminal(client, "health", dept="weijian")
    now = codes_service.runtime(live.app.ctx.deps).clock()
    batch = {"scans": [{"scan_id": "late", "payload": payload, "scanned_at": _iso(now + dt.timedelta(minutes=5))},
                       {"scan_id": "ok", "payload": payload, "scanned_at": _iso(now)}]}
    r = await client.post("/api/v1/scans/batch", json=batch, headers=gate["headers"])
    items = {i["scan_id"]: i for i in r.json()["items"]}
    assert items["late"]["outcome"] == "refused" and items["late"]["reason"] == "scanned_in_future"
    assert items["ok"]["outcome"] == "accepted" and r.json()["flagged"] == []


async def test_keys_rotate_with_the_next_one_published_ahead(live):
    ring = Keyring(ttl_seconds=60, skew_seconds=10, period_seconds=3600)
    # Long ago, so the live server's keys (and their private halves) are untouched by this ring's rotation.
    start = dt.datetime(2001, 5, 4, 10, 30, tzinfo=dt.timezone.utc)

    def around(jwks: dict) -> dict:
        return {k["kid"]: k for k in jwks["keys"] if abs(k["nbf"] - start.timestamp()) < 3 * 3600}

    try:
        window = sorted(around(await ring.jwks(start)).values(), key=lambda k: k["nbf"])
        assert [k["status"] for k in window] == ["current", "next"]
        current, upcoming = window
        assert current["exp"] == upcoming["nbf"] and current["publish_until"] == current["exp"] + 70

        later = dt.datetime.fromtimestamp(current["exp"] + 5, dt.timezone.utc)
        statuses = {kid: k["status"] for kid, k in around(await ring.jwks(later)).items()}
        assert statuses[current["kid"]] == "retired" and statuses[upcoming["kid"]] == "current"
        assert list(statuses.values()).count("next") == 1
        kid, _key = await ring.signer(later)
        assert cose.kid_text(kid) == upcoming["kid"]
        assert (await CodeSigningKey.get(kid=current["kid"])).private_key_enc is None  # wiped when it retired

        gone = dt.datetime.fromtimestamp(current["exp"] + 60 + 10 + 1, dt.timezone.utc)
        assert current["kid"] not in around(await ring.jwks(gone))
    finally:
        await CodeSigningKey.filter(not_before__lt=dt.datetime(2002, 1, 1, tzinfo=dt.timezone.utc)).delete()


@given(st.binary(max_size=300))
def test_base45_matches_the_reference_implementation(data):
    text = cose.b45encode(data)
    assert text == base45.b45encode(data).decode()
    assert cose.b45decode(text) == data


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abc", max_size=40))
def test_base45_decode_refuses_what_the_reference_refuses(text):
    try:
        expected = base45.b45decode(text)
    except ValueError:
        expected = None
    try:
        got = cose.b45decode(text)
    except ValueError:
        got = None
    assert got == expected


@given(st.binary(max_size=300), st.binary(max_size=300))
def test_the_signed_structure_is_the_cbor_one(protected, payload):
    assert cose._sig_structure(protected, payload) == cbor2.dumps(["Signature1", protected, b"", payload])


def test_the_signed_structure_is_the_cbor_one_for_long_payloads():
    for size in (65535, 65536):
        payload = bytes(size)
        assert cose._sig_structure(b"\xa0", payload) == cbor2.dumps(["Signature1", b"\xa0", b"", payload])


def test_the_libsodium_key_agrees_with_cryptography():
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    ours = cose.VerifyingKey(public.public_bytes_raw())
    message = b"Signature1 over a code"
    signature = private.sign(message)
    public.verify(signature, message)
    ours.verify(signature, message)
    other = cose.VerifyingKey(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])  # a flipped bit: never the same signature again
    for bad_signature, bad_message, key in ((signature, message + b"!", ours), (tampered, message, ours),
                                            (signature, message, other), (signature[:63], message, ours),
                                            ("not bytes", message, ours)):
        with pytest.raises(InvalidSignature):
            key.verify(bad_signature, bad_message)


def test_a_code_under_another_algorithm_is_refused():
    private = ed25519.Ed25519PrivateKey.generate()
    protected = cbor2.dumps({1: -7, 4: b"kid-1"})  # ES256 named, Ed25519 used
    payload = cbor2.dumps({cose.CLAIM_IAT: 1, cose.CLAIM_EXP: 2, cose.CLAIM_CTI: bytes(16)})
    signature = private.sign(cose._sig_structure(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(cose.COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    with pytest.raises(cose.CodeRefused) as refused:
        cose.open_unverified(cose.PREFIX + cose.b45encode(zlib.compress(message)))
    assert refused.value.reason == "code_invalid"


def test_the_issuer_check_accepts_exactly_the_signatures_the_key_makes():
    private = ed25519.Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    check = IssuerCheck(raw)
    message = b"Signature1 over a code"
    signature = private.sign(message)
    check.verify(signature, message)  # cryptography's signature is the one libsodium makes again
    other = ed25519.Ed25519PrivateKey.generate()
    tampered = signature[:-1] + bytes([signature[-1] ^ 1])  # a flipped bit: never the same signature again
    for bad_signature, bad_message in ((signature, message + b"!"), (tampered, message),
                                       (other.sign(message), message), (signature[:63], message),
                                       (signature + b"\0", message), ("not bytes", message)):
        with pytest.raises(InvalidSignature):
            check.verify(bad_signature, bad_message)


async def test_current_codes_are_checked_by_signing_again_and_older_ones_by_the_public_key(live):
    ring = codes_service.runtime(live.app.ctx.deps).keyring
    now = codes_service.runtime(live.app.ctx.deps).clock()
    kid, _key = await ring.signer(now)
    published = await ring.published(now)
    current = published[cose.kid_text(kid)]
    assert isinstance(current.public, IssuerCheck)
    assert len(published) >= 2  # the next key is published ahead
    assert all(isinstance(k.public, cose.VerifyingKey) for kid_text, k in published.items()
               if kid_text != cose.kid_text(kid))

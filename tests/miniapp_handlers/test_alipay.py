"""The Alipay client against the Alipay sandbox gateway: RSA2 both ways, the phone envelope, messages."""

import asyncio
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from api.core.errors import InvalidLoginCode, UpstreamRejected
from api.core.keys import _pem_private
from miniapp_handlers.alipay import crypto
from miniapp_handlers.alipay.client import AlipayPlatform
from miniapp_handlers.base import InvalidPhoneCredential, MessageRejected, UpstreamInvalid
from tests.factories import random_phone


@pytest.fixture
def alipay(live):
    return live.app.ctx.deps.platforms["alipay"]


async def _codes(client, **body) -> dict:
    r = await client.post("/sandbox/alipay/codes", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _fresh_key() -> str:
    return _pem_private(rsa.generate_private_key(public_exponent=65537, key_size=2048))


async def test_auth_code_gives_the_user_id_once(client, alipay):
    codes = await _codes(client, user_id="2088000000000417")
    ident = await alipay.exchange_login_code(codes["auth_code"])
    assert (ident.platform, ident.platform_uid) == ("alipay", "2088000000000417")
    with pytest.raises(InvalidLoginCode):
        await alipay.exchange_login_code(codes["auth_code"])


async def test_expired_auth_code_is_401(client):
    codes = await _codes(client, ttl_seconds=1)
    await asyncio.sleep(1.3)
    r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": codes["auth_code"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_login_code"


async def test_phone_envelope_opens_only_when_alipay_signed_it(client, alipay):
    phone = random_phone()
    envelope = (await _codes(client, phone=phone))["phone_response"]
    assert await alipay.fetch_phone(envelope) == phone
    assert await alipay.fetch_phone(json.dumps(envelope)) == phone  # the string form too
    forged = crypto.seal_phone_envelope(crypto.phone_answer("13900000000"),
                                        alipay_private_key=crypto.load_private_key(_fresh_key()),
                                        aes_key_b64=alipay._aes_key)
    with pytest.raises(InvalidPhoneCredential):
        await alipay.fetch_phone(forged)
    with pytest.raises(InvalidPhoneCredential):
        await alipay.fetch_phone({"response": envelope["response"]})


async def test_requests_signed_with_another_key_are_refused(live, client):
    settings = live.app.ctx.deps.settings.model_copy(update={"alipay_app_private_key": _fresh_key()})
    impostor = AlipayPlatform(settings)
    try:
        codes = await _codes(client)
        with pytest.raises(UpstreamRejected):
            await impostor.exchange_login_code(codes["auth_code"])
    finally:
        await impostor.close()
    # The code was not spent by the refused request.
    r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": codes["auth_code"]})
    assert r.status_code == 200


async def test_answers_with_a_bad_signature_are_refused(client, alipay):
    codes = await _codes(client)
    await client.put("/sandbox/alipay/faults", json={"fail": "bad_signature"})
    try:
        with pytest.raises(UpstreamRejected):
            await alipay.exchange_login_code(codes["auth_code"])
    finally:
        await client.delete("/sandbox/alipay/faults")


@pytest.mark.parametrize("mode", ["busy", "rate_limit", "down"])
async def test_alipay_trouble_is_503(client, mode):
    await client.put("/sandbox/alipay/faults", json={"fail": mode})
    try:
        codes = await _codes(client)
        r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": codes["auth_code"]})
    finally:
        await client.delete("/sandbox/alipay/faults")
    assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable"


async def test_user_info_share_answers_for_the_token_holder(client, alipay):
    codes = await _codes(client, user_id="2088000000000999")
    token = await alipay.call("oauth_token", alipay._oauth, codes["auth_code"])
    info = await alipay.call("user_info_share", alipay._api, "alipay.user.info.share",
                             auth_token=token.access_token)
    assert info["user_id"] == "2088000000000999" and info["code"] == "10000"
    with pytest.raises(UpstreamRejected):  # aop.invalid-auth-token
        await alipay.call("user_info_share", alipay._api, "alipay.user.info.share", auth_token="nope")


async def test_template_message_is_accepted_and_listed(client, alipay):
    codes = await _codes(client)
    await alipay.exchange_login_code(codes["auth_code"])
    answer = await alipay.send_message(to=codes["user_id"], template_id="ali-tmpl-1", page="pages/case?id=1",
                                       data={"keyword1": "已受理"})
    assert answer["code"] == "10000"
    items = (await client.get("/sandbox/alipay/messages")).json()["items"]
    sent = [m for m in items if m["to_user_id"] == codes["user_id"]]
    assert sent and sent[-1]["user_template_id"] == "ali-tmpl-1"
    assert sent[-1]["data"] == {"keyword1": {"value": "已受理"}}


@pytest.mark.parametrize(("faults", "known", "reason"), [
    ({"fail": "user_refused"}, True, "user_refused"),
    ({"fail": "quota"}, True, "quota"),
    ({}, False, "bad_recipient"),
])
async def test_refused_template_messages_say_why(client, alipay, faults, known, reason):
    codes = await _codes(client)
    if known:
        await alipay.exchange_login_code(codes["auth_code"])
    if faults:
        await client.put("/sandbox/alipay/faults", json=faults)
    try:
        with pytest.raises(MessageRejected) as caught:
            await alipay.send_message(to=codes["user_id"], template_id="t", page=None, data={"k": "v"})
    finally:
        await client.delete("/sandbox/alipay/faults")
    assert caught.value.reason == reason


async def test_gateway_refuses_unsigned_calls(client):
    r = await client.get("/sandbox/alipay/gateway.do", params={"method": "alipay.system.oauth.token", "app_id": "x"})
    assert r.status_code == 200  # like Alipay: the failure is in the signed body
    assert r.json()["error_response"]["sub_code"].startswith("isv.missing-")


async def test_an_answer_of_the_wrong_shape_is_upstream_invalid(client, alipay):
    codes = await _codes(client)
    await alipay.exchange_login_code(codes["auth_code"])
    await client.put("/sandbox/alipay/faults", json={"fail": "malformed"})
    try:
        with pytest.raises(UpstreamInvalid) as caught:
            await alipay.send_message(to=codes["user_id"], template_id="t", page=None, data={"k": "v"})
        fresh = await _codes(client)  # no phone asked: the helper leaves the fault to the gateway
        with pytest.raises(UpstreamInvalid) as login:
            await alipay.exchange_login_code(fresh["auth_code"])
    finally:
        await client.delete("/sandbox/alipay/faults")
    assert caught.value.where == "code" and login.value.where.startswith("user_id")
    assert (await client.get("/sandbox/alipay/messages")).json()["items"] == []


async def test_a_phone_envelope_holding_a_list_is_upstream_invalid_but_a_forged_one_stays_401(client, alipay):
    phone = random_phone()
    await client.put("/sandbox/alipay/faults", json={"fail": "malformed", "remaining": 1})
    try:
        envelope = (await _codes(client, phone=phone))["phone_response"]
    finally:
        await client.delete("/sandbox/alipay/faults")
    with pytest.raises(UpstreamInvalid) as caught:
        await alipay.fetch_phone(envelope)
    assert caught.value.where == "mobile" and phone not in repr(caught.value)
    forged = crypto.seal_phone_envelope({"code": "10000", "mobile": [phone]},
                                        alipay_private_key=crypto.load_private_key(_fresh_key()),
                                        aes_key_b64=alipay._aes_key)
    with pytest.raises(InvalidPhoneCredential):  # not Alipay's: the front end's problem, whatever it holds
        await alipay.fetch_phone(forged)

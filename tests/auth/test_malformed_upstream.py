"""A platform that answers something its API never answers (a list where a string belongs, no JSON) is 502
`upstream_invalid` on the login routes, with the usual error body, and the login writes nothing."""

import contextlib

from api.citizens.models import Citizen, PlatformAccount
from tests.factories import random_phone, wechat_codes, wechat_login


@contextlib.asynccontextmanager
async def faults(client, platform: str, **body):
    r = await client.put(f"/sandbox/{platform}/faults", json={"fail": "malformed", **body})
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        await client.delete(f"/sandbox/{platform}/faults")


async def _rows() -> tuple[int, int]:
    return await Citizen.all().count(), await PlatformAccount.all().count()


def _assert_upstream_invalid(r) -> None:
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert error["code"] == "upstream_invalid" and error["message"] and error["request_id"]
    assert "Traceback" not in r.text and "purePhoneNumber" not in r.text


async def test_wechat_session_answer_of_the_wrong_shape_is_502_and_writes_nothing(client):
    await wechat_login(client)  # the access token is fetched: the fault below meets jscode2session
    before = await _rows()
    async with faults(client, "wechat", remaining=1):
        codes = await wechat_codes(client, openid="o-malformed-session-1")
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
    _assert_upstream_invalid(r)
    assert await _rows() == before
    assert not await PlatformAccount.exists(platform_uid="o-malformed-session-1")


async def test_wechat_phone_number_as_a_list_is_502_and_writes_nothing(client):
    await wechat_login(client)
    before = await _rows()
    phone = random_phone()
    # Both calls of the login answer malformed (they run at once, so `remaining` could not pick one); the client
    # test (tests/miniapp_handlers/test_wechat.py) meets the phone answer alone.
    async with faults(client, "wechat"):
        codes = await wechat_codes(client, phone=phone)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"],
                                                                 "phone_code": codes["phone_code"]})
    _assert_upstream_invalid(r)
    assert phone not in r.text
    assert await _rows() == before


async def test_wechat_access_token_of_the_wrong_shape_is_502_then_the_next_login_works(client, redis):
    await wechat_login(client)
    await redis.delete(*await redis.keys("wechatpy:*access_token*"))  # the next call fetches a token
    before = await _rows()
    async with faults(client, "wechat", remaining=1):
        codes = await wechat_codes(client)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
        _assert_upstream_invalid(r)
        assert await _rows() == before
        assert not await redis.keys("wechatpy:*access_token*")  # the spoiled token was not kept
        again = await wechat_codes(client)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": again["code"]})
    assert r.status_code == 200, r.text


async def test_alipay_oauth_answer_of_the_wrong_shape_is_502_and_writes_nothing(client):
    before = await _rows()
    async with faults(client, "alipay"):
        r = await client.post("/sandbox/alipay/codes", json={"user_id": "2088000000007001"})
        r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": r.json()["auth_code"]})
    _assert_upstream_invalid(r)
    assert await _rows() == before
    assert not await PlatformAccount.exists(platform_uid="2088000000007001")


async def test_alipay_phone_envelope_with_a_list_for_the_mobile_is_502_and_writes_nothing(client):
    before = await _rows()
    phone = random_phone()
    async with faults(client, "alipay", remaining=1):  # the envelope /codes seals takes it; oauth is healthy
        r = await client.post("/sandbox/alipay/codes", json={"user_id": "2088000000007002", "phone": phone})
        codes = r.json()
        r = await client.post("/api/v1/auth/alipay/login",
                              json={"auth_code": codes["auth_code"], "phone_response": codes["phone_response"]})
    _assert_upstream_invalid(r)
    assert phone not in r.text
    assert await _rows() == before

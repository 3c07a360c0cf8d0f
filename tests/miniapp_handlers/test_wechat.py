"""The WeChat client against the WeChat sandbox: shared token, retry once, messages and their refusals."""

import asyncio
import secrets
import time

import pytest

from api.core.errors import InvalidLoginCode, UpstreamRejected, UpstreamUnavailable
from miniapp_handlers.base import InvalidPhoneCredential, MessageRejected, UpstreamInvalid
from miniapp_handlers.wechat.client import WeChatPlatform
from tests.factories import random_phone, wechat_codes


@pytest.fixture
def wechat(live):
    return live.app.ctx.deps.platforms["wechat"]


async def _known_openid(client, wechat) -> str:
    """An openid the sandbox has seen log in (WeChat only messages users of the mini-program)."""
    codes = await wechat_codes(client, openid=f"o{secrets.token_hex(10)}")
    ident = await wechat.exchange_login_code(codes["code"])
    return ident.platform_uid


async def _token_fetches(client) -> int:
    return (await client.get("/sandbox/wechat/stats")).json()["token_fetches"]


async def _with_faults(client, faults: dict):
    r = await client.put("/sandbox/wechat/faults", json=faults)
    assert r.status_code == 200, r.text


async def test_exchange_gives_the_openid_and_unionid(client, wechat):
    codes = await wechat_codes(client, openid="o-client-test-1", unionid="u-client-test-1")
    ident = await wechat.exchange_login_code(codes["code"])
    assert (ident.platform, ident.platform_uid, ident.unionid) == ("wechat", "o-client-test-1", "u-client-test-1")
    with pytest.raises(InvalidLoginCode):
        await wechat.exchange_login_code(codes["code"])  # 40163: used


async def test_phone_code_gives_the_phone_once(client, wechat):
    phone = random_phone()
    codes = await wechat_codes(client, phone=phone)
    assert await wechat.fetch_phone(codes["phone_code"]) == phone
    with pytest.raises(InvalidPhoneCredential):
        await wechat.fetch_phone(codes["phone_code"])


async def test_expired_code_is_401_invalid_login_code(client):
    r = await client.post("/sandbox/wechat/codes", json={"ttl_seconds": 1})
    await asyncio.sleep(1.3)
    r = await client.post("/api/v1/auth/wechat/login", json={"code": r.json()["code"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_login_code"


async def test_risky_user_is_403_and_says_why(client):
    r = await client.post("/sandbox/wechat/codes", json={"risky": True})
    r = await client.post("/api/v1/auth/wechat/login", json={"code": r.json()["code"]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "platform_user_blocked"


async def test_reused_phone_code_is_401_invalid_phone_credential(client):
    phone = random_phone()
    first = await wechat_codes(client, phone=phone)
    assert (await client.post("/api/v1/auth/wechat/login",
                              json={"code": first["code"], "phone_code": first["phone_code"]})).status_code == 200
    second = await wechat_codes(client)
    r = await client.post("/api/v1/auth/wechat/login", json={"code": second["code"], "phone_code": first["phone_code"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_phone_credential"


async def test_the_access_token_is_shared_by_every_worker(live, client, wechat):
    await _known_openid(client, wechat)  # makes sure a token exists
    before = await _token_fetches(client)
    other_worker = WeChatPlatform(live.app.ctx.deps.settings)  # a second client, as another worker would make
    try:
        await _known_openid(client, other_worker)
        await _known_openid(client, wechat)
    finally:
        await other_worker.close()
    assert await _token_fetches(client) == before


async def test_an_invalidated_token_is_renewed_and_the_call_retried_once(client, wechat):
    openid = await _known_openid(client, wechat)
    before = await _token_fetches(client)
    await _with_faults(client, {"fail": "token_invalid", "remaining": 1})
    try:
        answer = await wechat.send_message(to=openid, template_id="tmpl-retry", page="pages/index",
                                           data={"thing1": "办件已受理"})
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert answer["errcode"] == 0
    assert await _token_fetches(client) == before + 1
    sent = (await client.get("/sandbox/wechat/messages")).json()["items"]
    assert any(m["touser"] == openid and m["template_id"] == "tmpl-retry" for m in sent)


async def test_a_token_error_that_persists_is_retried_only_once(client, wechat, redis):
    openid = await _known_openid(client, wechat)
    before = await _token_fetches(client)
    await _with_faults(client, {"fail": "token_invalid", "remaining": 5})
    try:
        with pytest.raises(UpstreamUnavailable):
            await wechat.send_message(to=openid, template_id="tmpl-x", page=None, data={"thing1": "x"})
        left = int(await redis.get("sandbox:wechat:faults:remaining"))
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert left == 3  # two calls: the first and exactly one retry
    assert await _token_fetches(client) == before + 1


@pytest.mark.parametrize(("faults", "to", "data", "reason"), [
    ({"fail": "user_refused"}, None, {"thing1": "ok"}, "user_refused"),
    ({"fail": "quota"}, None, {"thing1": "ok"}, "quota"),
    ({}, "o-never-logged-in", {"thing1": "ok"}, "bad_recipient"),
    ({}, None, {"thing1": "长" * 65}, "bad_data"),
])
async def test_refused_messages_say_why_and_are_not_recorded(client, wechat, faults, to, data, reason):
    openid = await _known_openid(client, wechat)
    before = len((await client.get("/sandbox/wechat/messages")).json()["items"])
    if faults:
        await _with_faults(client, faults)
    try:
        with pytest.raises(MessageRejected) as caught:
            await wechat.send_message(to=to or openid, template_id="tmpl-refused", page=None, data=data)
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert caught.value.reason == reason
    assert len((await client.get("/sandbox/wechat/messages")).json()["items"]) == before


async def test_rate_limited_platform_is_503(client):
    await _with_faults(client, {"fail": "rate_limit"})
    try:
        codes = await wechat_codes(client)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable"


async def test_a_fault_with_remaining_clears_itself(client):
    await _with_faults(client, {"fail": "busy", "remaining": 1})
    codes = await wechat_codes(client)
    assert (await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})).status_code == 503
    codes = await wechat_codes(client)
    assert (await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})).status_code == 200


async def test_a_slow_platform_does_not_block_the_event_loop(client):
    await _with_faults(client, {"latency_ms": 1500})
    try:
        codes = await wechat_codes(client)
        login = asyncio.create_task(client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]}))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        health = await client.get("/healthz")
        assert health.status_code == 200 and time.monotonic() - started < 0.5
        assert (await login).status_code == 200
    finally:
        await client.delete("/sandbox/wechat/faults")


async def test_wrong_app_secret_is_a_refusal_not_a_crash(live, client):
    settings = live.app.ctx.deps.settings.model_copy(update={"wechat_secret": "not-the-secret",
                                                        "wechat_appid": "wx-other-app-0001"})
    other = WeChatPlatform(settings)
    try:
        codes = await wechat_codes(client)
        with pytest.raises(UpstreamRejected):
            await other.exchange_login_code(codes["code"])
    finally:
        await other.close()


async def test_fault_knobs_validate_their_input(client):
    r = await client.put("/sandbox/wechat/faults", json={"fail": "explode"})
    assert r.status_code == 422 and "fail" in r.json()["error"]["fields"]
    assert (await client.get("/sandbox/wechat/faults")).json()["fail"] is None


async def test_a_phone_answer_of_the_wrong_shape_is_upstream_invalid_naming_the_field_not_the_value(client, wechat):
    await _known_openid(client, wechat)  # the access token is fetched: the fault meets the phone call
    phone = random_phone()
    codes = await wechat_codes(client, phone=phone)
    await _with_faults(client, {"fail": "malformed", "remaining": 1})
    try:
        with pytest.raises(UpstreamInvalid) as caught:
            await wechat.fetch_phone(codes["phone_code"])
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert caught.value.status == 502 and caught.value.code == "upstream_invalid"
    assert "phone_info.purePhoneNumber" in caught.value.where
    assert phone not in repr(caught.value) and caught.value.__cause__ is None  # the values stay out of logs


async def test_a_send_answered_with_a_page_is_upstream_invalid_and_not_recorded(client, wechat):
    openid = await _known_openid(client, wechat)
    before = len((await client.get("/sandbox/wechat/messages")).json()["items"])
    await _with_faults(client, {"fail": "malformed", "remaining": 1})
    try:
        with pytest.raises(UpstreamInvalid) as caught:
            await wechat.send_message(to=openid, template_id="tmpl-page", page=None, data={"thing1": "x"})
    finally:
        await client.delete("/sandbox/wechat/faults")
    assert caught.value.where == "body"
    assert isinstance(caught.value, UpstreamUnavailable)  # retried later like an outage by the senders
    assert len((await client.get("/sandbox/wechat/messages")).json()["items"]) == before

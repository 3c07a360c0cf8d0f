"""The sandbox's helpers for tests and benchmarks: bulk users, per-recipient refusals, counters, clearing the log."""

import secrets

import pytest

from miniapp_handlers.base import MessageRejected
from miniapp_handlers.sms.client import SmsClient
from tests.factories import random_phone


@pytest.fixture
def wechat(live):
    return live.app.ctx.deps.platforms["wechat"]


@pytest.fixture
def alipay(live):
    return live.app.ctx.deps.platforms["alipay"]


def _openids(n: int) -> list[str]:
    return [f"o{secrets.token_hex(10)}" for _ in range(n)]


def _user_ids(n: int) -> list[str]:
    return [f"2088{secrets.randbelow(10**12):012d}" for _ in range(n)]


async def _post(client, path: str, body: dict, status: int = 200) -> dict:
    r = await client.post(path, json=body)
    assert r.status_code == status, r.text
    return r.json()


async def _stats(client, platform: str) -> dict:
    r = await client.get(f"/sandbox/{platform}/stats")
    assert r.status_code == 200, r.text
    return r.json()


async def test_registered_openids_get_messages_without_logging_in(client, wechat):
    openids = _openids(3)
    assert await _post(client, "/sandbox/wechat/users", {"openids": openids}) == {"added": 3}
    for openid in openids:
        answer = await wechat.send_message(to=openid, template_id="tmpl-bulk", page=None, data={"thing1": "到账"})
        assert answer["errcode"] == 0
    with pytest.raises(MessageRejected) as caught:
        await wechat.send_message(to=_openids(1)[0], template_id="tmpl-bulk", page=None, data={"thing1": "x"})
    assert caught.value.reason == "bad_recipient"


async def test_registered_alipay_users_get_messages_without_logging_in(client, alipay):
    uids = _user_ids(2)
    assert await _post(client, "/sandbox/alipay/users", {"user_ids": uids}) == {"added": 2}
    for uid in uids:
        assert (await alipay.send_message(to=uid, template_id="t", page=None, data={"k": "v"}))["code"] == "10000"


async def test_ten_thousand_users_in_one_call_and_no_more(client, wechat):
    openids = _openids(10_000)
    assert await _post(client, "/sandbox/wechat/users", {"openids": openids}) == {"added": 10_000}
    answer = await wechat.send_message(to=openids[-1], template_id="tmpl-bulk", page=None, data={"thing1": "x"})
    assert answer["errcode"] == 0
    too_many = await _post(client, "/sandbox/wechat/users", {"openids": _openids(10_001)}, status=422)
    assert "openids" in too_many["error"]["fields"]
    assert "user_ids" in (await _post(client, "/sandbox/alipay/users", {"user_ids": []}, status=422))["error"]["fields"]
    await _post(client, "/sandbox/wechat/users", {"openids": [""]}, status=422)


async def test_a_refusing_openid_gets_43101_and_the_others_do_not(client, wechat):
    refusing, other = _openids(2)
    await _post(client, "/sandbox/wechat/users", {"openids": [refusing, other]})
    assert await _post(client, "/sandbox/wechat/refusals", {"openids": [refusing]}) == {"added": 1}
    with pytest.raises(MessageRejected) as caught:
        await wechat.send_message(to=refusing, template_id="tmpl-refuse", page=None, data={"thing1": "x"})
    assert (caught.value.platform_code, caught.value.reason) == ("43101", "user_refused")
    assert (await wechat.send_message(to=other, template_id="tmpl-refuse", page=None,
                                      data={"thing1": "x"}))["errcode"] == 0
    sent = (await client.get("/sandbox/wechat/messages")).json()["items"]
    assert not any(m["touser"] == refusing for m in sent) and any(m["touser"] == other for m in sent)


async def test_a_refusing_alipay_user_is_not_subscribed(client, alipay):
    refusing, other = _user_ids(2)
    await _post(client, "/sandbox/alipay/users", {"user_ids": [refusing, other]})
    await _post(client, "/sandbox/alipay/refusals", {"user_ids": [refusing]})
    with pytest.raises(MessageRejected) as caught:
        await alipay.send_message(to=refusing, template_id="t", page=None, data={"k": "v"})
    assert (caught.value.platform_code, caught.value.reason) == ("USER_NOT_SUBSCRIBED", "user_refused")
    assert (await alipay.send_message(to=other, template_id="t", page=None, data={"k": "v"}))["code"] == "10000"


async def test_counters_count_accepted_messages_and_delete_starts_from_zero(live, client, wechat, alipay):
    openid, uid = _openids(1)[0], _user_ids(1)[0]
    await _post(client, "/sandbox/wechat/users", {"openids": [openid]})
    await _post(client, "/sandbox/alipay/users", {"user_ids": [uid]})
    for platform in ("wechat", "alipay", "sms"):
        assert (await client.delete(f"/sandbox/{platform}/messages")).status_code == 204
        assert (await _stats(client, platform))["messages_accepted"] == 0
        assert (await client.get(f"/sandbox/{platform}/messages")).json() == {"items": []}
    sms = SmsClient(live.settings)
    try:
        for _ in range(2):
            await wechat.send_message(to=openid, template_id="tmpl-count", page=None, data={"thing1": "x"})
            await alipay.send_message(to=uid, template_id="t", page=None, data={"k": "v"})
            await sms.send(phone=random_phone(), template_code="SMS_COUNT", params={"title": "x"})
        with pytest.raises(MessageRejected):  # a refusal is not counted
            await sms.send(phone="123", template_code="SMS_COUNT", params={"title": "x"})
    finally:
        await sms.close()
    wechat_stats = await _stats(client, "wechat")
    assert wechat_stats["messages_accepted"] == 2 and wechat_stats["token_fetches"] >= 1
    for platform in ("alipay", "sms"):
        assert await _stats(client, platform) == {"messages_accepted": 2}
        assert len((await client.get(f"/sandbox/{platform}/messages")).json()["items"]) == 2


async def test_sms_faults_are_knobs_like_the_others(client):
    r = await client.put("/sandbox/sms/faults", json={"fail": "busy", "remaining": 2})
    assert r.status_code == 200 and r.json()["fail"] == "busy"
    assert (await client.get("/sandbox/sms/faults")).json()["remaining"] == 2
    assert (await client.delete("/sandbox/sms/faults")).status_code == 204
    assert (await client.get("/sandbox/sms/faults")).json()["fail"] is None
    assert (await client.get("/sandbox/fax/faults")).status_code == 404

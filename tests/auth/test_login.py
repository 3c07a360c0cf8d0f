"""One-click login on both platforms through the sandbox, over real HTTP."""

import time

from api.citizens.models import Citizen, PlatformAccount
from miniapp_handlers import close_platforms, create_platforms
from tests.factories import alipay_login, bearer, random_phone, wechat_codes, wechat_login


async def test_wechat_login_with_phone_makes_a_level_one_citizen(client):
    phone = random_phone()
    tokens = await wechat_login(client, phone=phone)
    assert tokens["created"] is True and tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    assert tokens["citizen"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert tokens["citizen"]["assurance_level"] == 1
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    assert me["id"] == tokens["citizen"]["id"]
    assert [p["platform"] for p in me["platforms"]] == ["wechat"]


async def test_login_without_phone_is_level_zero_and_same_openid_is_same_citizen(client):
    first = await wechat_login(client, openid="o-fixed-openid-a1")
    again = await wechat_login(client, openid="o-fixed-openid-a1")
    assert first["citizen"]["assurance_level"] == 0 and first["citizen"]["phone"] is None
    assert again["created"] is False and again["citizen"]["id"] == first["citizen"]["id"]


async def test_same_phone_on_wechat_and_alipay_is_one_citizen(client):
    phone = random_phone()
    wx = await wechat_login(client, phone=phone)
    # Alipay's phone proof is replayable: joining her takes an SMS code to the number (tests/auth/test_phone_otp.py).
    ali = await alipay_login(client, phone=phone)
    assert (await client.get("/sandbox/sms/messages")).json()["items"][-1]["phone"] == phone
    assert ali["created"] is False
    assert ali["citizen"]["id"] == wx["citizen"]["id"]
    me = (await client.get("/api/v1/me", headers=bearer(ali))).json()
    assert sorted(p["platform"] for p in me["platforms"]) == ["alipay", "wechat"]
    assert await Citizen.filter(phone_bidx__not_isnull=True, id=wx["citizen"]["id"]).count() == 1
    assert await PlatformAccount.filter(citizen_id=wx["citizen"]["id"]).count() == 2


async def test_alipay_first_then_wechat_links_to_the_same_citizen(client):
    phone = random_phone()
    ali = await alipay_login(client, phone=phone)
    wx = await wechat_login(client, phone=phone)
    assert ali["created"] is True and wx["created"] is False
    assert wx["citizen"]["id"] == ali["citizen"]["id"]


async def test_empty_account_is_merged_into_the_phone_owner(client):
    shell = await wechat_login(client, openid="o-shell-merge-1")  # no phone: holds nothing
    phone = random_phone()
    owner = await alipay_login(client, phone=phone)
    merged = await wechat_login(client, openid="o-shell-merge-1", phone=phone)
    assert merged["citizen"]["id"] == owner["citizen"]["id"]
    assert not await Citizen.exists(id=shell["citizen"]["id"])


async def test_two_citizens_with_data_are_never_merged_silently(client):
    a_phone, b_phone = random_phone(), random_phone()
    a = await wechat_login(client, openid="o-conflict-a", phone=a_phone)
    b = await alipay_login(client, phone=b_phone)
    codes = await wechat_codes(client, openid="o-conflict-a", phone=b_phone)
    r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"], "phone_code": codes["phone_code"]})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "identity_conflict"
    # Nothing moved: each citizen keeps their own account and phone.
    assert (await PlatformAccount.get(platform="wechat", platform_uid="o-conflict-a")).citizen_id == a["citizen"]["id"]
    assert await Citizen.exists(id=b["citizen"]["id"])


async def test_reused_login_code_is_401(client):
    codes = await wechat_codes(client)
    ok = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
    assert ok.status_code == 200
    again = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_login_code"


async def test_unknown_codes_are_401_on_both_platforms(client):
    r = await client.post("/api/v1/auth/wechat/login", json={"code": "never-issued"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_login_code"
    r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": "never-issued"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_login_code"


async def test_reused_alipay_code_is_401(client):
    r = await client.post("/sandbox/alipay/codes", json={})
    code = r.json()["auth_code"]
    assert (await client.post("/api/v1/auth/alipay/login", json={"auth_code": code})).status_code == 200
    again = await client.post("/api/v1/auth/alipay/login", json={"auth_code": code})
    assert again.status_code == 401 and again.json()["error"]["code"] == "invalid_login_code"


async def test_tampered_alipay_phone_response_is_refused(client):
    r = await client.post("/sandbox/alipay/codes", json={"phone": random_phone()})
    codes = r.json()
    before = await PlatformAccount.filter(platform="alipay").count()
    response = dict(codes["phone_response"])
    response["response"] = response["response"][:-4] + ("AAAA" if not response["response"].endswith("AAAA") else "BBBB")
    r = await client.post("/api/v1/auth/alipay/login",
                          json={"auth_code": codes["auth_code"], "phone_response": response})
    assert r.status_code == 401
    assert await PlatformAccount.filter(platform="alipay").count() == before
    assert r.json()["error"]["code"] in ("invalid_phone_credential", "invalid_login_code")


async def test_malformed_login_body_is_422_with_fields(client):
    r = await client.post("/api/v1/auth/wechat/login", json={"phone_code": "x"})
    assert r.status_code == 422
    assert "code" in r.json()["error"]["fields"]
    r = await client.post("/api/v1/auth/wechat/login", content=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


async def test_sandbox_down_is_503(client):
    await client.put("/sandbox/wechat/faults", json={"fail": "down"})
    try:
        codes = await wechat_codes(client)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "upstream_unavailable"
    finally:
        await client.delete("/sandbox/wechat/faults")


async def test_sandbox_timeout_is_503_within_the_timeout(client, live):
    # The login route's Alipay client with a 1 s timeout for this test (the app's is the production 5 s: a test
    # of the timeout need not wait it out); the test server runs one test at a time.
    deps = live.app.ctx.deps
    settings = deps.settings.model_copy(update={"platform_timeout_seconds": 1.0})
    short, real = create_platforms(settings), deps.platforms
    deps.platforms = {**real, "alipay": short["alipay"]}
    timeout = settings.platform_timeout_seconds
    await client.put("/sandbox/alipay/faults", json={"latency_ms": int(timeout * 1000) + 3000})
    try:
        r = await client.post("/sandbox/alipay/codes", json={})
        started = time.monotonic()
        r = await client.post("/api/v1/auth/alipay/login", json={"auth_code": r.json()["auth_code"]})
        elapsed = time.monotonic() - started
        assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable"
        assert elapsed < timeout + 1.0
    finally:
        deps.platforms = real
        await close_platforms(short)
        await client.delete("/sandbox/alipay/faults")


async def test_sandbox_busy_is_503_not_500(client):
    await client.put("/sandbox/wechat/faults", json={"fail": "busy"})
    try:
        codes = await wechat_codes(client)
        r = await client.post("/api/v1/auth/wechat/login", json={"code": codes["code"]})
        assert r.status_code == 503 and r.json()["error"]["code"] == "upstream_unavailable"
    finally:
        await client.delete("/sandbox/wechat/faults")

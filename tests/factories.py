"""Small factories: people in the population registry, and citizens logged in through the sandbox."""

from __future__ import annotations

import random
import secrets

from api.citizens import idnumber, registry

_REGIONS = ("110101", "310104", "440305", "330106", "510107", "420106", "320102")


def random_phone() -> str:
    """A fresh mainland mobile number."""
    return f"1{random.choice('3456789')}{random.randrange(10**9):09d}"


def random_id_number(born: str | None = None) -> str:
    """A valid 18-digit id number (GB 11643 check digit), born on `born` (YYYYMMDD) or a random day."""
    born = born or f"{random.randrange(1950, 2006)}{random.randrange(1, 13):02d}{random.randrange(1, 29):02d}"
    first17 = f"{random.choice(_REGIONS)}{born}{random.randrange(1000):03d}"
    return first17 + idnumber.check_digit(first17)


async def registered_person(*, name: str = "李四", phone: str | None = None, born: str | None = None,
                            hukou_region: str = "", address: str = "测试路 1 号") -> dict:
    """A person in the population registry (imported the way the CLI imports)."""
    row = {"id_number": random_id_number(born), "name": name, "gender": "", "birth_date": "",
           "phone": phone or random_phone(), "hukou_region": hukou_region, "address": address}
    report = await registry.import_population([row])
    assert report.inserted == 1, report.as_dict()
    return row


def bearer(tokens: dict) -> dict:
    """The Authorization header for a token answer."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def wechat_codes(client, *, phone: str | None = None, openid: str | None = None,
                       unionid: str | None = None) -> dict:
    """Codes from the WeChat sandbox, as wx.login and getPhoneNumber would give them."""
    body = {k: v for k, v in {"phone": phone, "openid": openid, "unionid": unionid}.items() if v}
    r = await client.post("/sandbox/wechat/codes", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def wechat_login(client, *, phone: str | None = None, openid: str | None = None,
                       unionid: str | None = None, expect: int = 200) -> dict:
    """Log in through the WeChat sandbox; the token answer."""
    codes = await wechat_codes(client, phone=phone, openid=openid or f"o{secrets.token_hex(12)}", unionid=unionid)
    body = {"code": codes["code"]}
    if phone:
        body["phone_code"] = codes["phone_code"]
    r = await client.post("/api/v1/auth/wechat/login", json=body)
    assert r.status_code == expect, r.text
    return r.json()


async def alipay_codes(client, *, phone: str | None = None, user_id: str | None = None) -> dict:
    """Codes from the Alipay sandbox, as my.getAuthCode and my.getPhoneNumber would give them."""
    body = {k: v for k, v in {"phone": phone, "user_id": user_id}.items() if v}
    r = await client.post("/sandbox/alipay/codes", json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def sms_code(client, phone: str) -> str:
    """The last one-time code the SMS sandbox took for `phone`."""
    items = (await client.get("/sandbox/sms/messages")).json()["items"]
    codes = [m["params"]["code"] for m in items if m["phone"] == phone and "code" in m["params"]]
    assert codes, "no one-time code was sent to that number"
    return codes[-1]


async def alipay_login(client, *, phone: str | None = None, user_id: str | None = None, expect: int = 200) -> dict:
    """Log in through the Alipay sandbox; the token answer. When the phone must be proved afresh (401
    `phone_otp_required`), as the front end does: an SMS code to the number, then a new auth code with it."""
    user_id = user_id or f"2088{random.randrange(10**12):012d}"
    codes = await alipay_codes(client, phone=phone, user_id=user_id)
    login = {"auth_code": codes["auth_code"]}
    if phone:
        login["phone_response"] = codes["phone_response"]
    r = await client.post("/api/v1/auth/alipay/login", json=login)
    if phone and r.status_code == 401 and r.json()["error"]["code"] == "phone_otp_required":
        sent = await client.post("/api/v1/auth/phone/otp", json={"phone": phone})
        assert sent.status_code == 202, sent.text
        codes = await alipay_codes(client, phone=phone, user_id=user_id)
        r = await client.post("/api/v1/auth/alipay/login", json={
            "auth_code": codes["auth_code"], "phone_response": codes["phone_response"],
            "phone_otp": await sms_code(client, phone)})
    assert r.status_code == expect, r.text
    return r.json()


async def verified_citizen(client, *, name: str = "王五", **person_fields) -> tuple[dict, dict]:
    """A citizen logged in on WeChat with a phone and real name checked (level 2), and their registry row."""
    person = await registered_person(name=name, **person_fields)
    tokens = await wechat_login(client, phone=person["phone"])
    r = await client.post("/api/v1/me/real-name", json={"name": name, "id_number": person["id_number"]},
                          headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return tokens, person

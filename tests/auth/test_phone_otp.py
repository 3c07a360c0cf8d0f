"""A replayable phone proof (Alipay's my.getPhoneNumber envelope) links an account to a citizen, or becomes one's
verified number, only with a fresh SMS code to that number (POST /api/v1/auth/phone/otp)."""

import asyncio
import random

from api.citizens.models import Citizen, PlatformAccount
from api.core import pii
from api.core.models import AuditLog
from tests.auth.test_rate_limits import limits
from tests.factories import alipay_codes, alipay_login, bearer, random_phone, sms_code, verified_citizen, wechat_login

LOGIN = "/api/v1/auth/alipay/login"
OTP = "/api/v1/auth/phone/otp"


def _uid() -> str:
    return f"2088{random.randrange(10**12):012d}"


async def _state(*citizen_ids: str) -> tuple:
    """Everything a login could write: the citizens named (all columns), and the row counts."""
    rows = [await Citizen.filter(id=cid).values() for cid in citizen_ids]
    return rows, await Citizen.all().count(), await PlatformAccount.all().count()


async def _sent(client, phone: str) -> int:
    items = (await client.get("/sandbox/sms/messages")).json()["items"]
    return sum(1 for m in items if m["phone"] == phone)


async def _ask_code(client, phone: str, **kwargs) -> str:
    r = await client.post(OTP, json={"phone": phone}, **kwargs)
    assert r.status_code == 202, r.text
    return await sms_code(client, phone)


async def _login(client, *, user_id: str, phone: str, phone_otp: str | None = None, envelope: dict | None = None):
    codes = await alipay_codes(client, phone=phone, user_id=user_id)
    body = {"auth_code": codes["auth_code"], "phone_response": envelope or codes["phone_response"]}
    if phone_otp is not None:
        body["phone_otp"] = phone_otp
    return await client.post(LOGIN, json=body)


def _refused(r, code: str) -> dict:
    assert r.status_code == 401, r.text
    error = r.json()["error"]
    assert error["code"] == code and "phone_otp" in error["fields"]
    return error


async def test_a_replayed_phone_response_with_another_accounts_auth_code_links_nothing(client):
    victim_tokens, person = await verified_citizen(client, name="钱七")  # level 2 on WeChat
    victim_uid = _uid()
    own = await alipay_login(client, phone=person["phone"], user_id=victim_uid)  # with her SMS code
    victim = own["citizen"]["id"]
    assert victim == victim_tokens["citizen"]["id"] and own["citizen"]["assurance_level"] == 2
    # The envelope is the same bytes every time for the number: whoever saw it once holds it for good.
    envelope = (await alipay_codes(client, phone=person["phone"]))["phone_response"]
    assert envelope == (await alipay_codes(client, phone=person["phone"]))["phone_response"]
    before = await _state(victim)
    logins = await AuditLog.filter(action="citizen.login").count()

    r = await _login(client, user_id=_uid(), phone=person["phone"], envelope=envelope)
    error = _refused(r, "phone_otp_required")
    masked = person["phone"][:3] + "****" + person["phone"][-4:]
    assert masked in error["message"] and masked in error["fields"]["phone_otp"]
    assert person["phone"] not in r.text
    # A code the attacker can get (to a number of their own) or guess proves nothing about hers.
    own_code = await _ask_code(client, attacker_phone := random_phone())
    _refused(await _login(client, user_id=_uid(), phone=person["phone"], envelope=envelope, phone_otp=own_code),
             "invalid_phone_otp")
    _refused(await _login(client, user_id=_uid(), phone=person["phone"], envelope=envelope, phone_otp="123456"),
             "invalid_phone_otp")

    assert await _state(victim) == before
    assert await AuditLog.filter(action="citizen.login").count() == logins
    assert not await Citizen.exists(phone_bidx=pii.cipher().blind_index(attacker_phone, kind="phone"))
    # Her own Alipay account still signs in with her number, no code needed, and nothing was sent for it.
    sent = await _sent(client, person["phone"])
    again = await _login(client, user_id=victim_uid, phone=person["phone"], envelope=envelope)
    assert again.status_code == 200, again.text
    assert again.json()["citizen"]["id"] == victim and again.json()["created"] is False
    assert await _sent(client, person["phone"]) == sent


async def test_with_the_sms_code_to_the_number_a_new_account_links_to_its_owner(client):
    phone = random_phone()
    owner = await wechat_login(client, phone=phone)
    uid = _uid()
    _refused(await _login(client, user_id=uid, phone=phone), "phone_otp_required")
    code = await _ask_code(client, phone)
    r = await _login(client, user_id=uid, phone=phone, phone_otp=code)
    assert r.status_code == 200, r.text
    assert r.json()["citizen"]["id"] == owner["citizen"]["id"] and r.json()["created"] is False
    me = (await client.get("/api/v1/me", headers=bearer(r.json()))).json()
    assert sorted(p["platform"] for p in me["platforms"]) == ["alipay", "wechat"]
    audit = await AuditLog.filter(action="citizen.login", actor_id=owner["citizen"]["id"]).order_by("-created_at")
    assert audit[0].detail == {"platform": "alipay", "phone_proof": "sms_otp", "created": False}
    # Spent: the same code does not link a second account.
    _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=code), "invalid_phone_otp")
    assert await PlatformAccount.filter(citizen_id=owner["citizen"]["id"]).count() == 2


async def test_a_first_alipay_login_sets_a_number_only_with_its_code(client):
    phone, uid = random_phone(), _uid()
    bidx = pii.cipher().blind_index(phone, kind="phone")
    before = await _state()
    _refused(await _login(client, user_id=uid, phone=phone), "phone_otp_required")
    assert await _state() == before and not await Citizen.exists(phone_bidx=bidx)
    r = await _login(client, user_id=uid, phone=phone, phone_otp=await _ask_code(client, phone))
    assert r.status_code == 200, r.text
    assert r.json()["created"] is True and r.json()["citizen"]["assurance_level"] == 1
    # The number is now hers: WeChat with it reaches the same citizen.
    wx = await wechat_login(client, phone=phone)
    assert wx["citizen"]["id"] == r.json()["citizen"]["id"] and wx["created"] is False


async def test_an_account_taking_a_new_number_needs_its_code(client):
    uid = _uid()
    plain = await alipay_login(client, user_id=uid)  # no phone: level 0
    owner_phone = random_phone()
    owner = await wechat_login(client, phone=owner_phone)
    new_phone = random_phone()
    before = await _state(plain["citizen"]["id"], owner["citizen"]["id"])
    for phone in (new_phone, owner_phone):  # a number of nobody's, and one of someone's
        _refused(await _login(client, user_id=uid, phone=phone), "phone_otp_required")
    assert await _state(plain["citizen"]["id"], owner["citizen"]["id"]) == before
    r = await _login(client, user_id=uid, phone=new_phone, phone_otp=await _ask_code(client, new_phone))
    assert r.status_code == 200, r.text
    assert r.json()["citizen"]["id"] == plain["citizen"]["id"] and r.json()["citizen"]["assurance_level"] == 1


async def test_wrong_other_numbers_expired_and_malformed_codes_are_refused(client, live):
    phone, other = random_phone(), random_phone()
    before = await _state()
    code = await _ask_code(client, phone)
    other_code = await _ask_code(client, other)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=wrong), "invalid_phone_otp")
    if other_code != code:
        _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=other_code), "invalid_phone_otp")
    r = await _login(client, user_id=_uid(), phone=phone, phone_otp="12345")
    assert r.status_code == 422 and "phone_otp" in r.json()["error"]["fields"]
    assert await _state() == before
    with limits(live, phone_otp_ttl_seconds=1, phone_otp_resend_seconds=0):
        late = await _ask_code(client, phone)
        await asyncio.sleep(1.5)
        _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=late), "invalid_phone_otp")
    assert await _state() == before
    r = await _login(client, user_id=_uid(), phone=other, phone_otp=other_code)  # the other number's own: good
    assert r.status_code == 200, r.text


async def test_too_many_wrong_tries_burn_the_code_even_in_parallel(client):
    phone = random_phone()
    code = await _ask_code(client, phone)
    wrong = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 9)]
    answers = await asyncio.gather(*(_login(client, user_id=_uid(), phone=phone, phone_otp=w) for w in wrong))
    assert [a.json()["error"]["code"] for a in answers] == ["invalid_phone_otp"] * 8
    before = await _state()
    _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=code), "invalid_phone_otp")
    assert await _state() == before


async def test_asking_answers_the_same_whoever_owns_the_number(client):
    owned = (await verified_citizen(client, name="孙八"))[1]["phone"]
    nobodys = random_phone()
    answers = [await client.post(OTP, json={"phone": p}) for p in (owned, nobodys)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json() == {"expires_in": 300, "resend_after": 60}
    assert await _sent(client, owned) == 1 and await _sent(client, nobodys) == 1


async def test_the_code_is_kept_only_as_a_keyed_hash(client, redis):
    phone = random_phone()
    code = await _ask_code(client, phone)
    keys = await redis.keys("otp:*")
    assert keys and all(phone not in k for k in keys)
    values = [await redis.get(k) for k in keys if await redis.type(k) == "string"]
    assert values and all(code not in (v or "") and phone not in (v or "") for v in values)


async def test_bad_phone_is_422_and_sends_nothing(client):
    before = len((await client.get("/sandbox/sms/messages")).json()["items"])
    for body in ({"phone": "12345"}, {"phone": "2" + "0" * 10}, {}, {"phone": ["13800138000"]}):
        r = await client.post(OTP, json=body)
        assert r.status_code == 422 and "phone" in r.json()["error"]["fields"], r.text
    assert len((await client.get("/sandbox/sms/messages")).json()["items"]) == before


async def test_asking_again_too_soon_is_429_and_sends_nothing(client):
    phone = random_phone()
    await _ask_code(client, phone)
    r = await client.post(OTP, json={"phone": phone})
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert await _sent(client, phone) == 1


async def test_codes_per_number_and_per_address_are_limited(client, live):
    phone = random_phone()
    with limits(live, phone_otp_resend_seconds=0, phone_otp_rate_per_phone=2, phone_otp_rate_per_ip=4):
        statuses = [(await client.post(OTP, json={"phone": phone})).status_code for _ in range(3)]
        assert statuses == [202, 202, 429]
        assert await _sent(client, phone) == 2
        # Two more numbers from the same address reach its limit; another address is not held back by it.
        statuses = [(await client.post(OTP, json={"phone": random_phone()})).status_code for _ in range(2)]
        assert statuses == [202, 429]
        other = await client.post(OTP, json={"phone": random_phone()}, headers={"X-Forwarded-For": "127.98.98.98"})
        assert other.status_code == 202


async def test_a_new_code_replaces_the_old_one(client, live):
    phone = random_phone()
    with limits(live, phone_otp_resend_seconds=0):
        first = await _ask_code(client, phone)
        second = await _ask_code(client, phone)
    if first != second:
        _refused(await _login(client, user_id=_uid(), phone=phone, phone_otp=first), "invalid_phone_otp")
    r = await _login(client, user_id=_uid(), phone=phone, phone_otp=second)
    assert r.status_code == 200, r.text


async def test_wechat_phone_proof_needs_no_code(client):
    phone = random_phone()
    ali = await alipay_login(client, phone=phone)  # Alipay first (with its code)
    sent = await _sent(client, phone)
    wx = await wechat_login(client, phone=phone)  # a new WeChat account joins her: its phone code is single-use
    assert wx["citizen"]["id"] == ali["citizen"]["id"]
    assert await _sent(client, phone) == sent

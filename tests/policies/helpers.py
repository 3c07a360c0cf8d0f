"""Helpers of the policy tests: a policy admin, a crowd of registry people with accounts, waiting for campaigns."""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets

from api.citizens import registry
from api.citizens.models import Citizen, PlatformAccount
from api.core import pii
from api.policies.models import PolicyReach
from notifications.models import InboxMessage, Subscription
from tests.applications.conftest import staff_headers
from tests.factories import random_id_number, random_phone


async def policy_admin(client) -> dict:
    """A policy admin's Authorization header."""
    return await staff_headers(client, roles=("policy_admin",), depts=())


def fresh_region() -> str:
    """A county code no other test uses, so a rule on it matches only this test's people."""
    return f"4{random.randrange(10, 99)}{random.randrange(1000):03d}"


def rule_for(region: str) -> dict:
    """A rule matching the people registered in `region`."""
    return {"all": [{"field": "hukou_region", "op": "=", "value": region}]}


async def crowd(client, *, region: str, count: int, settings, wechat: float = 0.4, alipay: float = 0.2,
                consent: float = 1.0) -> list[dict]:
    """`count` people in the population registry of `region`; a share have citizen accounts on WeChat or Alipay
    (known to the sandbox), WeChat ones with long-term consent for the policy template unless `consent` says
    otherwise. Each person: {bidx, id_number, phone, citizen_id, openid, alipay_uid, consent}."""
    id_numbers: set[str] = set()
    while len(id_numbers) < count:  # distinct: a repeated id number is a rejected row, not a second person
        id_numbers.add(random_id_number())
    rows = [{"id_number": id_number, "name": "测试", "gender": "", "birth_date": "", "phone": random_phone(),
             "hukou_region": region, "address": "测试路"} for id_number in id_numbers]
    report = await registry.import_population(rows)
    assert report.inserted == count, report.as_dict()
    c = pii.cipher()
    people, citizens, accounts, subs = [], [], [], []
    for row in rows:
        bidx = c.blind_index(row["id_number"], kind="id_number")
        person = {"bidx": bidx, "id_number": row["id_number"], "phone": row["phone"], "citizen_id": None,
                  "openid": None, "alipay_uid": None, "consent": False}
        draw = random.random()
        if draw < wechat + alipay:
            citizen = Citizen(id_number_bidx=bidx, assurance_level=2,
                              id_number_enc=c.encrypt(row["id_number"], context="citizen.id_number"))
            citizens.append(citizen)
            person["citizen_id"] = citizen.id
            if draw < wechat:
                person["openid"] = f"o{secrets.token_hex(12)}"
                accounts.append(PlatformAccount(citizen_id=citizen.id, platform="wechat", appid=settings.wechat_appid,
                                                platform_uid=person["openid"]))
                if random.random() < consent:
                    person["consent"] = True
                    subs.append(Subscription(citizen_id=citizen.id, platform="wechat",
                                             template_id=settings.wechat_template_policy, long_term=True))
            else:
                person["alipay_uid"] = f"2088{random.randrange(10**12):012d}"
                accounts.append(PlatformAccount(citizen_id=citizen.id, platform="alipay", appid=settings.alipay_appid,
                                                platform_uid=person["alipay_uid"]))
        people.append(person)
    await Citizen.bulk_create(citizens, batch_size=500)
    await PlatformAccount.bulk_create(accounts, batch_size=500)
    await Subscription.bulk_create(subs, batch_size=500)
    openids = [p["openid"] for p in people if p["openid"]]
    uids = [p["alipay_uid"] for p in people if p["alipay_uid"]]
    if openids:
        assert (await client.post("/sandbox/wechat/users", json={"openids": openids})).status_code == 200
    if uids:
        assert (await client.post("/sandbox/alipay/users", json={"user_ids": uids})).status_code == 200
    return people


async def create_policy(client, admin: dict, *, rule: dict, mode: str = "auto_grant",
                        channels=("wechat", "alipay", "inbox", "sms"), title: str = "高龄老人津贴") -> dict:
    """A draft policy through the admin API."""
    r = await client.post("/api/v1/admin/policies", headers=admin, json={
        "title": title, "summary": "80 周岁以上老人按月发放高龄津贴", "body": "依据省民政厅通知……", "mode": mode,
        "rule": rule, "benefit": {"name": "高龄津贴", "amount": 100, "unit": "元/月"}, "channels": list(channels)})
    assert r.status_code == 201, r.text
    return r.json()


async def publish(client, admin: dict, policy_id: str, *, key: str | None = None) -> str:
    """Publish a policy; the campaign id."""
    headers = {**admin, "Idempotency-Key": key or secrets.token_hex(8)}
    r = await client.post(f"/api/v1/admin/policies/{policy_id}/publish", headers=headers, json={})
    assert r.status_code == 202, r.text
    return r.json()["campaign_id"]


async def wait_for(client, admin: dict, campaign_id: str, *, status: str = "completed", timeout: float = 60) -> dict:
    """Poll the campaign until it reaches `status`; its figures."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
        assert r.status_code == 200, r.text
        figures = r.json()
        if figures["status"] == status:
            return figures
        assert figures["status"] not in ("failed", "cancelled") or status in ("failed", "cancelled"), figures
        assert asyncio.get_running_loop().time() < deadline, figures
        await asyncio.sleep(0.2)


async def sandbox_messages(client, platform: str) -> list[dict]:
    """Every message the sandbox platform accepted."""
    r = await client.get(f"/sandbox/{platform}/messages")
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def policy_inbox_count(policy_id: str, citizen_ids: list[str]) -> int:
    """How many inbox messages a policy's campaigns wrote to these citizens: each opening the citizen's own grant
    (auto_grant), or the policy (notify)."""
    grants = await PolicyReach.filter(policy_id=policy_id, granted=True).values_list("id", flat=True)
    by_grant = await InboxMessage.filter(citizen_id__in=citizen_ids, ref_kind="grant", ref_id__in=grants).count() \
        if grants else 0
    return by_grant + await InboxMessage.filter(citizen_id__in=citizen_ids, ref_kind="policy", ref_id=policy_id).count()


@contextlib.contextmanager
def maker_checker(live, threshold: int):
    """Run with this maker-checker threshold (the app reads its settings per request)."""
    deps = live.app.ctx.deps
    real = deps.settings
    deps.settings = real.model_copy(update={"maker_checker_threshold": threshold})
    try:
        yield
    finally:
        deps.settings = real


async def patch_policy(client, admin: dict, policy_id: str, changes: dict, *, expect: int = 200) -> dict:
    """PATCH a policy; the answer's JSON (a policy, or an error body)."""
    r = await client.patch(f"/api/v1/admin/policies/{policy_id}", headers=admin, json=changes)
    assert r.status_code == expect, r.text
    return r.json()

"""Helpers of the application message tests: who a citizen is on each platform, consent credits, and what the
sandbox platforms and the inbox received, waited for by polling (the event lane polls every 0.2 s)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from api.citizens.models import PlatformAccount
from notifications import outbox, templates
from notifications.models import OutboxDelivery
from tests.factories import bearer
from tests.policies.helpers import sandbox_messages

TIMEOUT_SECONDS = 10.0


@dataclass
class Person:
    """A citizen as the platforms know them: tokens, citizen id, openid, Alipay user id (if linked), phone."""

    tokens: dict
    citizen_id: str
    phone: str
    openid: str | None = None
    alipay_uid: str | None = None

    @property
    def headers(self) -> dict:
        """The citizen's Authorization header."""
        return bearer(self.tokens)


async def person(tokens: dict, phone: str) -> Person:
    """The platform accounts of a logged-in citizen."""
    citizen_id = tokens["citizen"]["id"]
    accounts = {a.platform: a.platform_uid for a in await PlatformAccount.filter(citizen_id=citizen_id)}
    return Person(tokens=tokens, citizen_id=citizen_id, phone=phone, openid=accounts.get("wechat"),
                  alipay_uid=accounts.get("alipay"))


def template_id(live, kind: str, channel: str = "wechat") -> str:
    """The platform template id (SMS: template code) of a message kind in the running app."""
    return templates.of(live.app.ctx.deps).template_id(kind, channel)


async def give_credit(client, who: Person, template: str, *, times: int = 1) -> int:
    """Accept a WeChat one-time subscription `times` times; the credits then left."""
    for _ in range(times):
        r = await client.post("/api/v1/subscriptions", headers=who.headers, json={
            "platform": "wechat", "template_id": template, "result": "accept", "kind": "one_time"})
        assert r.status_code == 200, r.text
    return await credits_left(client, who, template)


async def credits_left(client, who: Person, template: str) -> int:
    """The citizen's one-time credits for a WeChat template, as GET /api/v1/me/subscriptions shows them."""
    r = await client.get("/api/v1/me/subscriptions", headers=who.headers)
    assert r.status_code == 200, r.text
    held = [s for s in r.json()["items"] if s["platform"] == "wechat" and s["template_id"] == template]
    return held[0]["one_time_remaining"] if held else 0


async def received(client, who: Person) -> dict[str, list[dict]]:
    """Every message the sandbox platforms accepted for this citizen, by channel."""
    wechat = [m for m in await sandbox_messages(client, "wechat") if who.openid and m["touser"] == who.openid]
    alipay = [m for m in await sandbox_messages(client, "alipay")
              if who.alipay_uid and who.alipay_uid in (m.get("to_user_id"), m.get("to_open_id"))]
    sms = [m for m in await sandbox_messages(client, "sms") if m["phone"] == who.phone]
    return {"wechat": wechat, "alipay": alipay, "sms": sms}


async def inbox(client, who: Person) -> list[dict]:
    """The citizen's inbox, newest first."""
    r = await client.get("/api/v1/inbox", headers=who.headers, params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def settled(who: Person, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Wait until none of the citizen's outbox rows is still to send (queued, claimed or sending), twice a lane poll
    apart: a row that ends on one channel queues the next one just after."""
    deadline = asyncio.get_running_loop().time() + timeout
    clean = 0
    while True:
        open_rows = OutboxDelivery.filter(citizen_id=who.citizen_id, status__in=list(outbox.OPEN_STATUSES))
        clean = 0 if await open_rows.exists() else clean + 1
        if clean == 2:
            return
        assert asyncio.get_running_loop().time() < deadline, "the event lane did not finish the citizen's rows"
        await asyncio.sleep(0.3 if clean else 0.05)


@dataclass
class Told:
    """What reached a citizen between two snapshots: new sandbox messages by channel and new inbox rows."""

    wechat: list[dict]
    alipay: list[dict]
    sms: list[dict]
    inbox: list[dict]

    def platform_messages(self) -> int:
        """How many platform messages in all."""
        return len(self.wechat) + len(self.alipay) + len(self.sms)


class Watch:
    """Snapshots what a citizen has received, to tell what one action added."""

    def __init__(self, client, who: Person):
        self.client, self.who = client, who
        self.before: dict[str, list[dict]] = {}
        self.inbox_ids: set[str] = set()

    async def start(self) -> Watch:
        """Let earlier messages finish, then take the snapshot."""
        await settled(self.who)
        self.before = await received(self.client, self.who)
        self.inbox_ids = {m["id"] for m in await inbox(self.client, self.who)}
        return self

    async def told(self, *, platform_messages: int, timeout: float = TIMEOUT_SECONDS) -> Told:
        """What arrived since the snapshot, once `platform_messages` platform messages have (or the time is up) and
        the citizen's rows are all finished."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            now = await received(self.client, self.who)
            new = {ch: now[ch][len(self.before[ch]):] for ch in now}
            if sum(map(len, new.values())) >= platform_messages or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        await settled(self.who)
        now = await received(self.client, self.who)
        new = {ch: now[ch][len(self.before[ch]):] for ch in now}
        fresh = [m for m in await inbox(self.client, self.who) if m["id"] not in self.inbox_ids]
        return Told(wechat=new["wechat"], alipay=new["alipay"], sms=new["sms"], inbox=fresh)

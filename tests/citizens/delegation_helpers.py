"""Helpers of the delegation message tests: invitations, WeChat credits, what the outbox and the sandboxes hold."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.citizens.models import PlatformAccount
from api.core.workdays import SHANGHAI
from notifications.models import OutboxDelivery
from tests.factories import bearer
from tests.policies.helpers import sandbox_messages


def later(days: int = 30) -> str:
    """An expiry `days` ahead, as the API takes it."""
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat()


def local_date(iso: str) -> str:
    """The Beijing date of an ISO time, as messages show it."""
    return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).date().isoformat()


async def invite(client, principal: dict, phone: str, scopes=("profile",)) -> dict:
    """The principal invites `phone`; the new delegation."""
    r = await client.post("/api/v1/me/delegations", headers=bearer(principal),
                          json={"agent_phone": phone, "scopes": list(scopes), "expires_at": later()})
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, tokens: dict, delegation_id: str, action: str, expect: int = 200) -> dict:
    """POST /delegations/{id}/{action} (accept, decline, revoke); the answer."""
    r = await client.post(f"/api/v1/delegations/{delegation_id}/{action}", headers=bearer(tokens))
    assert r.status_code == expect, r.text
    return r.json()


async def delegation_template(client) -> str:
    """The WeChat template the delegation messages use, as a front end finds it."""
    r = await client.get("/api/v1/message-templates")
    assert r.status_code == 200, r.text
    (tid,) = [t["template_id"] for t in r.json()["items"] if t["platform"] == "wechat" and t["topic"] == "delegation"]
    return tid


async def give_wechat_credits(client, tokens: dict, count: int = 1) -> None:
    """The citizen accepts the delegation template `count` times (one one-time credit each)."""
    tid = await delegation_template(client)
    for _ in range(count):
        r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
            "platform": "wechat", "template_id": tid, "result": "accept", "kind": "one_time"})
        assert r.status_code == 200, r.text


async def openid(tokens: dict) -> str:
    """The citizen's WeChat openid."""
    return (await PlatformAccount.get(citizen_id=tokens["citizen"]["id"], platform="wechat")).platform_uid


async def event_rows(event_key: str, expected: list[tuple], timeout: float = 10.0) -> list[tuple]:
    """The event's outbox rows as sorted (channel, status, reason) once they equal `expected` (sorted) and none is
    still open, or what they are when `timeout` runs out (the lane polls every 0.2 s)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = sorted((r.channel, r.status, r.reason) for r in await OutboxDelivery.filter(
            dedupe_key__startswith=f"{event_key}:"))
        if rows == sorted(expected) or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def rows_of(tokens: dict) -> list[str]:
    """The dedupe keys of every outbox row of a citizen."""
    return sorted(await OutboxDelivery.filter(citizen_id=tokens["citizen"]["id"]).values_list("dedupe_key", flat=True))


async def inbox(client, tokens: dict) -> list[dict]:
    """The citizen's inbox messages, newest first."""
    r = await client.get("/api/v1/inbox", headers=bearer(tokens), params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def wechat_to(client, tokens: dict) -> list[dict]:
    """The WeChat messages the sandbox accepted for this citizen."""
    me = await openid(tokens)
    return [m for m in await sandbox_messages(client, "wechat") if m["touser"] == me]


async def sms_to(client, phone: str) -> list[dict]:
    """The SMS the sandbox provider took for this number."""
    return [m for m in await sandbox_messages(client, "sms") if m["phone"] == phone]

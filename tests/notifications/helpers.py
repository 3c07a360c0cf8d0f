"""Helpers of the message tests: consent credits, what each sandbox received for one person, waiting for the lane."""

from __future__ import annotations

import asyncio

from api.citizens.models import PlatformAccount
from notifications import outbox
from notifications.models import OutboxDelivery
from tests.factories import bearer
from tests.policies.helpers import sandbox_messages

HANDED_OVER = ("sent", "failed", "uncertain", "expired")  # a platform row that is not skipped and not open
INBOX = ("inbox", "delivered", None)  # the inbox row of an event, as channels_used gives it


async def wechat_template(client, topic: str) -> str:
    """The WeChat template id a front end asks consent for, for the messages of `topic`."""
    r = await client.get("/api/v1/message-templates")
    assert r.status_code == 200, r.text
    (tid,) = {i["template_id"] for i in r.json()["items"] if i["platform"] == "wechat" and i["topic"] == topic}
    return tid


async def accept_one_time(client, tokens: dict, template_id: str) -> None:
    """The citizen accepted one WeChat one-time message of the template (one credit)."""
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": template_id, "result": "accept", "kind": "one_time"})
    assert r.status_code == 200, r.text


async def credits_left(client, tokens: dict, template_id: str) -> int:
    """The citizen's one-time credits left for the template."""
    r = await client.get("/api/v1/me/subscriptions", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return next((s["one_time_remaining"] for s in r.json()["items"] if s["template_id"] == template_id), 0)


async def openid_of(citizen_id: str) -> str:
    """The citizen's WeChat openid."""
    return (await PlatformAccount.get(citizen_id=citizen_id, platform="wechat")).platform_uid


async def wechat_to(client, openid: str) -> list[dict]:
    """The WeChat messages the sandbox accepted for this openid."""
    return [m for m in await sandbox_messages(client, "wechat") if m["touser"] == openid]


async def sms_to(client, phone: str) -> list[dict]:
    """The SMS the sandbox provider accepted for this number."""
    return [m for m in await sandbox_messages(client, "sms") if m["phone"] == phone]


async def inbox(client, tokens: dict) -> list[dict]:
    """The citizen's inbox, newest first."""
    r = await client.get("/api/v1/inbox", headers=bearer(tokens), params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def events_settled(citizen_id: str, *, handed_over: int, timeout: float = 10.0) -> list[OutboxDelivery]:
    """The citizen's event rows once `handed_over` of them reached a platform (or failed there) and none is open
    (the event lane polls every 0.2 s): what a test counts after, so that a late second message cannot hide."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await OutboxDelivery.filter(citizen_id=citizen_id, campaign_id=None)
        done = sum(1 for r in rows if r.status in HANDED_OVER)
        if done >= handed_over and not any(r.status in outbox.OPEN_STATUSES for r in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, [(r.channel, r.status, r.reason) for r in rows]
        await asyncio.sleep(0.1)


def channels_used(rows: list[OutboxDelivery]) -> list[tuple[str, str, str | None]]:
    """(channel, status, reason) of each row, sorted: how one person's messages went."""
    return sorted((r.channel, r.status, r.reason) for r in rows)

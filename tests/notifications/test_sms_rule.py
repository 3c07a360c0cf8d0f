"""SMS is for important messages only (supplements, decisions, grants...), unless the citizen opted into SMS for
every topic; the inbox is always written, and channel opt-outs hold for events too."""

from __future__ import annotations

import asyncio
import secrets

from tortoise.transactions import in_transaction

from notifications import service
from notifications.models import OutboxDelivery
from tests.factories import bearer, verified_citizen
from tests.policies.helpers import sandbox_messages

COMPLETED = {"item_name": "居住证办理", "application_no": "app_sms1", "at": "2026-11-30 10:00"}


async def _tell(citizen_id: str, kind: str) -> str:
    key = f"t:{secrets.token_hex(6)}"
    async with in_transaction():
        assert await service.notify_citizen(citizen_id=citizen_id, kind=kind, params=COMPLETED, event_key=key,
                                            ref={"kind": "application", "id": "app_sms1"})
    return key


async def _settled(event_key: str, expect: set, timeout: float = 10.0) -> list[OutboxDelivery]:
    """The event's rows once they are `expect` ({(channel, status)}) or the time is up, then a moment later: a row
    ended on one channel is final a moment before the next channel's row is queued, so "none open" is no end."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await OutboxDelivery.filter(dedupe_key__startswith=f"{event_key}:").order_by("created_at")
        if {(r.channel, r.status) for r in rows} == expect or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the lane's next polls: nothing more may come
    return await OutboxDelivery.filter(dedupe_key__startswith=f"{event_key}:").order_by("created_at")


async def _sms_to(client, phone: str) -> list[dict]:
    return [m for m in await sandbox_messages(client, "sms") if m["phone"] == phone]


async def test_a_routine_message_is_not_an_sms_unless_the_citizen_asked_for_all(client, live):
    tokens, person = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    # WeChat without a subscription credit: that row is skipped; completion is routine, so SMS is not tried.
    rows = await _settled(await _tell(citizen_id, "application_completed"),
                          {("inbox", "delivered"), ("wechat", "skipped")})
    assert {(r.channel, r.status, r.reason) for r in rows} == {("inbox", "delivered", None),
                                                              ("wechat", "skipped", "no_consent")}
    assert await _sms_to(client, person["phone"]) == []

    r = await client.put("/api/v1/me/notification-preferences", headers=bearer(tokens),
                         json={"sms_for_all_topics": True})
    assert r.status_code == 200 and r.json()["sms_for_all_topics"] is True
    both = {("inbox", "delivered"), ("wechat", "skipped"), ("sms", "sent")}
    rows = await _settled(await _tell(citizen_id, "application_completed"), both)
    assert {(r.channel, r.status) for r in rows} == both
    (sms,) = await _sms_to(client, person["phone"])
    assert sms["template_code"] == "SMS_APPLICATION_PROGRESS_0001" and sms["params"]["progress"] == "已办结"


async def test_an_important_message_takes_sms_but_never_a_channel_opted_out_of(client, live):
    tokens, person = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    both = {("inbox", "delivered"), ("wechat", "skipped"), ("sms", "sent")}
    rows = await _settled(await _tell(citizen_id, "application_approved"), both)
    assert {(r.channel, r.status) for r in rows} == both
    assert len(await _sms_to(client, person["phone"])) == 1

    r = await client.put("/api/v1/me/notification-preferences", headers=bearer(tokens), json={"channels": ["sms"]})
    assert r.status_code == 200
    no_sms = {("inbox", "delivered"), ("wechat", "skipped")}
    rows = await _settled(await _tell(citizen_id, "application_approved"), no_sms)
    assert {(r.channel, r.status) for r in rows} == no_sms
    assert len(await _sms_to(client, person["phone"])) == 1  # still the first one only
    inbox = (await client.get("/api/v1/inbox", headers=bearer(tokens))).json()["items"]
    assert [m["title"] for m in inbox] == ["办件已通过：居住证办理"] * 2

"""A certificate decision tells its holder once: issued, rejected (why) or revoked (why), at request (秒批) or by a
clerk, on the first usable channel, with one inbox message opening the certificate; replays and double clicks send
nothing more."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets

from api.core.workdays import SHANGHAI
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen
from tests.notifications.helpers import (
    INBOX,
    accept_one_time,
    channels_used,
    credits_left,
    events_settled,
    inbox,
    openid_of,
    sms_to,
    wechat_template,
    wechat_to,
)


async def _request(client, tokens, *, type_code="HUKOU", key=None, expect=201) -> dict:
    headers = {**bearer(tokens), "Idempotency-Key": key or secrets.token_hex(12)}
    r = await client.post("/api/v1/certificates", json={"type_code": type_code, "purpose": "就业"}, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


async def _act(client, staff, cert_id: str, action: str, note: str | None = None):
    return await client.post(f"/api/v1/admin/certificates/{cert_id}/actions", headers=staff,
                             json={"action": action, **({"note": note} if note else {})})


def _beijing(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def test_an_instant_certificate_goes_to_wechat_on_the_credit_once_and_a_replay_sends_nothing(client, live):
    tokens, person = await verified_citizen(client, hukou_region="430104")
    other, _ = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    openid = await openid_of(citizen_id)
    template = await wechat_template(client, "certificate")
    await accept_one_time(client, tokens, template)
    key = secrets.token_hex(12)

    cert = await _request(client, tokens, key=key)
    assert cert["status"] == "issued"
    rows = await events_settled(citizen_id, handed_over=1)
    assert channels_used(rows) == [INBOX, ("wechat", "sent", None)]
    (sent,) = await wechat_to(client, openid)
    assert sent["template_id"] == template and sent["page"] == f"pages/certificates/detail?id={cert['id']}"
    assert sent["data"] == {"thing1": {"value": "户籍证明"}, "thing2": {"value": "市公安局"},
                            "phrase3": {"value": "已签发"}, "time4": {"value": _beijing(cert["issued_at"])}}
    assert await credits_left(client, tokens, template) == 0
    assert await sms_to(client, person["phone"]) == []
    (message,) = await inbox(client, tokens)
    assert message["title"] == "证照已签发：户籍证明" and message["ref"] == {"kind": "certificate", "id": cert["id"]}
    assert "市公安局" in message["body"] and person["id_number"] not in message["body"]

    # The same request again (a retry after a lost answer): the first answer, and no second message anywhere.
    assert (await _request(client, tokens, key=key))["id"] == cert["id"]
    assert channels_used(await events_settled(citizen_id, handed_over=1)) == [INBOX, ("wechat", "sent", None)]
    assert len(await wechat_to(client, openid)) == 1 and await sms_to(client, person["phone"]) == []
    assert len(await inbox(client, tokens)) == 1

    # The message opens the certificate for its holder and for no one else.
    assert (await client.get(f"/api/v1/certificates/{cert['id']}", headers=bearer(tokens))).status_code == 200
    assert (await client.get(f"/api/v1/certificates/{cert['id']}", headers=bearer(other))).status_code == 404
    assert await inbox(client, other) == []


async def test_a_refusal_at_request_falls_to_sms_without_a_credit_and_says_why(client, live):
    tokens, person = await verified_citizen(client, hukou_region="110101")  # not of this province: refused
    citizen_id = tokens["citizen"]["id"]
    cert = await _request(client, tokens)
    assert cert["status"] == "rejected"

    rows = await events_settled(citizen_id, handed_over=1)
    assert channels_used(rows) == [INBOX, ("sms", "sent", None), ("wechat", "skipped", "no_consent")]
    assert await wechat_to(client, await openid_of(citizen_id)) == []
    (sms,) = await sms_to(client, person["phone"])
    assert sms["template_code"] == "SMS_CERTIFICATE_0001"
    assert sms["params"] == {"name": "户籍证明", "result": "申请未通过"}
    (message,) = await inbox(client, tokens)
    assert message["title"] == "证照申请未通过：户籍证明"
    assert message["ref"] == {"kind": "certificate", "id": cert["id"]}
    assert cert["reason"] in message["body"]


async def test_a_clerks_approve_reject_and_revoke_each_tell_once_and_a_double_click_nothing(client, live):
    tokens, person = await verified_citizen(client, hukou_region="430104")
    citizen_id = tokens["citizen"]["id"]
    police = await staff_headers(client, depts=("gongan",))
    pending = await _request(client, tokens, type_code="NO_CRIMINAL_RECORD")
    assert pending["status"] == "pending_review"
    assert await inbox(client, tokens) == []  # nothing decided yet: nothing to tell

    # A double click on approve: one decision, one message.
    answers = await asyncio.gather(_act(client, police, pending["id"], "approve"),
                                   _act(client, police, pending["id"], "approve"))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
    await events_settled(citizen_id, handed_over=1)
    assert [m["params"]["result"] for m in await sms_to(client, person["phone"])] == ["已签发"]

    # A revocation needs its reason: without one nothing changes and nothing is sent.
    assert (await _act(client, police, pending["id"], "revoke")).status_code == 422
    assert (await _act(client, police, pending["id"], "revoke", "登记信息有误")).status_code == 200
    assert (await _act(client, police, pending["id"], "revoke", "登记信息有误")).status_code == 409
    await events_settled(citizen_id, handed_over=2)

    second = await _request(client, tokens, type_code="NO_CRIMINAL_RECORD")
    assert (await _act(client, police, second["id"], "reject", "需本人到窗口核验")).status_code == 200
    assert (await _act(client, police, second["id"], "reject", "需本人到窗口核验")).status_code == 409
    rows = await events_settled(citizen_id, handed_over=3)

    assert channels_used(rows) == [INBOX] * 3 + [("sms", "sent", None)] * 3 + [("wechat", "skipped", "no_consent")] * 3
    assert [m["params"]["result"] for m in await sms_to(client, person["phone"])] == ["已签发", "已注销", "申请未通过"]
    items = await inbox(client, tokens)
    messages = {m["title"].removesuffix("：无犯罪记录证明"): m for m in items}
    assert len(items) == 3 and set(messages) == {"证照已签发", "证照已注销", "证照申请未通过"}
    assert messages["证照已注销"]["ref"] == {"kind": "certificate", "id": pending["id"]}
    assert "登记信息有误" in messages["证照已注销"]["body"]
    assert messages["证照申请未通过"]["ref"] == {"kind": "certificate", "id": second["id"]}
    assert "需本人到窗口核验" in messages["证照申请未通过"]["body"]

"""A frozen code is a security notice: the citizen's own freeze (whoever holds a lost phone may have done it) and an
admin's revocation each tell the citizen once, opening their code's status; a repeated freeze tells nothing more."""

from __future__ import annotations

import re

from tests.codes.helpers import super_admin
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

BEIJING_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


async def test_a_freeze_sends_one_notice_a_second_freeze_none_and_a_new_freeze_another(client, live):
    tokens, person = await verified_citizen(client)
    other, _ = await verified_citizen(client)
    me, citizen_id = bearer(tokens), tokens["citizen"]["id"]
    openid = await openid_of(citizen_id)
    template = await wechat_template(client, "code")
    await accept_one_time(client, tokens, template)

    assert (await client.post("/api/v1/codes/me/freeze", headers=me)).status_code == 200
    rows = await events_settled(citizen_id, handed_over=1)
    assert channels_used(rows) == [INBOX, ("wechat", "sent", None)]
    (sent,) = await wechat_to(client, openid)
    assert sent["template_id"] == template and sent["page"] == "pages/code/status"
    assert sent["data"]["thing1"]["value"] == "您的一人一码已冻结"
    assert sent["data"]["thing2"]["value"] == "本人在小程序内申请冻结"
    assert BEIJING_MINUTE.match(sent["data"]["time3"]["value"]), sent
    assert await credits_left(client, tokens, template) == 0
    (message,) = await inbox(client, tokens)
    assert message["title"] == "一人一码已冻结" and "如非本人操作" in message["body"]
    assert message["ref"] == {"kind": "code", "id": citizen_id}

    # Freezing again (a double tap) changes nothing the citizen must know: no second message.
    assert (await client.post("/api/v1/codes/me/freeze", headers=me)).status_code == 200
    assert channels_used(await events_settled(citizen_id, handed_over=1)) == [INBOX, ("wechat", "sent", None)]
    assert len(await wechat_to(client, openid)) == 1 and len(await inbox(client, tokens)) == 1

    # The ref opens the owner's code status, and nobody else's.
    url = f"/api/v1/codes/holders/{citizen_id}"
    r = await client.get(url, headers=me)
    assert r.status_code == 200 and r.json() == {**r.json(), "id": citizen_id, "status": "frozen"}, r.text
    assert (await client.get(url, headers=bearer(other))).status_code == 404
    assert (await client.get(url)).status_code == 401
    op = (await client.get("/openapi.json")).json()["paths"]["/api/v1/codes/holders/{holder_id}"]["get"]
    assert {"200", "401", "404"} <= set(op["responses"]) and op.get("security")

    # Unfrozen and frozen again is a new freeze: one more notice (the credit is spent, so by SMS: it is important).
    assert (await client.post("/api/v1/codes/me/unfreeze", headers=me)).status_code == 200
    assert (await client.post("/api/v1/codes/me/freeze", headers=me)).status_code == 200
    rows = await events_settled(citizen_id, handed_over=2)
    assert channels_used(rows) == [INBOX, INBOX, ("sms", "sent", None), ("wechat", "sent", None),
                                   ("wechat", "skipped", "no_consent")]
    (sms,) = await sms_to(client, person["phone"])
    assert sms["template_code"] == "SMS_CODE_FROZEN_0001" and sms["params"]["state"] == "已冻结"
    assert len(await wechat_to(client, openid)) == 1 and len(await inbox(client, tokens)) == 2
    assert await inbox(client, other) == []


async def test_an_admin_revocation_tells_the_citizen_once_with_the_reason(client, live):
    tokens, person = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    admin = await super_admin(client)
    url = f"/api/v1/admin/codes/holders/{citizen_id}/revoke"
    assert (await client.post(url, json={}, headers=admin)).status_code == 422  # a revocation says why
    assert await inbox(client, tokens) == []

    assert (await client.post(url, json={"reason": "他人冒用，经核实停用"}, headers=admin)).status_code == 200
    assert (await client.post(url, json={"reason": "他人冒用，经核实停用"}, headers=admin)).status_code == 200
    rows = await events_settled(citizen_id, handed_over=1)
    assert channels_used(rows) == [INBOX, ("sms", "sent", None), ("wechat", "skipped", "no_consent")]
    (sms,) = await sms_to(client, person["phone"])
    assert sms["params"]["state"] == "已停用" and BEIJING_MINUTE.match(sms["params"]["at"])
    assert await wechat_to(client, await openid_of(citizen_id)) == []
    (message,) = await inbox(client, tokens)
    assert message["title"] == "一人一码已停用" and "他人冒用，经核实停用" in message["body"]
    assert message["ref"] == {"kind": "code", "id": citizen_id}
    r = await client.get(f"/api/v1/codes/holders/{citizen_id}", headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["reason"] == "他人冒用，经核实停用"

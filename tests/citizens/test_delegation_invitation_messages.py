"""An invitation (亲友代办) reaches the relative it names once: by SMS when the number has no account, in the inbox and
on their platform when it has; after logging in with that phone the relative finds, opens and accepts it, and the
principal is told once."""

from __future__ import annotations

from api.citizens.delegation_messages import SCOPE_WORDS
from api.citizens.models import Delegation
from api.citizens.schemas import DELEGATION_SCOPES
from notifications.models import OutboxDelivery
from tests.citizens.delegation_helpers import (
    act,
    delegation_template,
    event_rows,
    give_wechat_credits,
    inbox,
    invite,
    later,
    local_date,
    rows_of,
    sms_to,
    wechat_to,
)
from tests.factories import bearer, random_phone, verified_citizen, wechat_login
from tests.policies.helpers import sandbox_messages


def test_every_scope_has_words():
    assert set(SCOPE_WORDS) == set(DELEGATION_SCOPES)
    assert len(set(SCOPE_WORDS.values())) == len(SCOPE_WORDS)


async def test_no_account_one_sms_then_login_finds_opens_accepts_and_the_principal_is_told_once(client, live):
    principal, person = await verified_citizen(client, name="陈老伯")
    await give_wechat_credits(client, principal)
    phone = random_phone()
    invitation = await invite(client, principal, phone, ["profile", "applications"])
    dlg = invitation["id"]

    # Exactly one SMS, to that number, with the inviter masked; no row for anyone with an account.
    assert await event_rows(f"delegation_invited:{dlg}", [("sms", "sent", None)]) == [("sms", "sent", None)]
    (sms,) = await sms_to(client, phone)
    assert sms["template_code"] == "SMS_DELEGATION_0001"
    assert sms["params"] == {"inviter": "陈**", "scope": "个人信息、办件申请",
                             "expires": local_date(invitation["expires_at"])}
    assert await OutboxDelivery.filter(dedupe_key__startswith=f"delegation_invited:{dlg}:",
                                       citizen_id__not_isnull=True).count() == 0
    assert await rows_of(principal) == []

    # The relative logs in with that phone: the invitation is theirs (matched by the phone's blind index).
    relative = await wechat_login(client, phone=phone)
    r = await client.get("/api/v1/me/delegations/received", headers=bearer(relative))
    assert r.status_code == 200, r.text
    assert [(i["id"], i["status"], i["principal_name"]) for i in r.json()["items"]] == [(dlg, "pending", "陈**")]
    r = await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(relative))
    assert r.status_code == 200 and r.json()["role"] == "agent" and r.json()["status"] == "pending", r.text
    assert await inbox(client, relative) == []  # nobody had an inbox when it was sent: the SMS was the message

    accepted = await act(client, relative, dlg, "accept")
    assert accepted["status"] == "active" and accepted["principal_id"] == principal["citizen"]["id"]
    assert (await Delegation.get(id=dlg)).agent_id == relative["citizen"]["id"]

    # The principal: one inbox message and one WeChat message, naming the relative by the phone's last digits.
    key = f"delegation_accepted:{dlg}"
    assert await event_rows(key, [("inbox", "delivered", None), ("wechat", "sent", None)]) == [
        ("inbox", "delivered", None), ("wechat", "sent", None)]
    (wechat,) = await wechat_to(client, principal)
    assert wechat["template_id"] == await delegation_template(client)
    assert wechat["page"] == f"pages/delegations/detail?id={dlg}"
    assert {k: v["value"] for k, v in wechat["data"].items()} == {
        "name1": f"尾号{phone[-4:]}", "thing2": "个人信息、办件申请", "phrase3": "已接受",
        "date4": local_date(accepted["accepted_at"])}
    (message,) = await inbox(client, principal)
    assert message["title"] == "代办邀请已接受" and message["ref"] == {"kind": "delegation", "id": dlg}
    assert f"尾号{phone[-4:]}" in message["body"] and phone not in message["body"]
    assert person["name"] not in str(await sandbox_messages(client, "sms"))

    # Accepting again answers as before and tells nobody anything twice.
    assert (await act(client, relative, dlg, "accept"))["status"] == "active"
    assert await rows_of(principal) == [f"{key}:inbox", f"{key}:wechat"]
    assert len(await wechat_to(client, principal)) == 1 and len(await sms_to(client, phone)) == 1
    assert await rows_of(relative) == []


async def test_a_citizen_is_told_in_the_inbox_and_on_wechat_and_gets_no_sms(client, live):
    relative_phone = random_phone()
    relative = await wechat_login(client, phone=relative_phone)
    await give_wechat_credits(client, relative)
    principal, _ = await verified_citizen(client, name="欧阳娜娜")
    stranger = await wechat_login(client, phone=random_phone())
    invitation = await invite(client, principal, relative_phone, DELEGATION_SCOPES)
    dlg = invitation["id"]

    assert await event_rows(f"delegation_invited:{dlg}", [("inbox", "delivered", None), ("wechat", "sent", None)]) \
        == [("inbox", "delivered", None), ("wechat", "sent", None)]
    (wechat,) = await wechat_to(client, relative)
    # Seven scopes do not fit a 20-character `thing`: cut after a whole scope, with an ellipsis.
    assert {k: v["value"] for k, v in wechat["data"].items()} == {
        "name1": "欧阳**", "thing2": "个人信息、办件申请、证明开具…", "phrase3": "待确认",
        "date4": local_date(invitation["expires_at"])}
    assert await sms_to(client, relative_phone) == []
    (message,) = await inbox(client, relative)
    assert message["title"] == "亲友代办邀请" and message["ref"] == {"kind": "delegation", "id": dlg}
    assert message["body"].startswith("欧阳**邀请您代为办理：个人信息、办件申请、证明开具、电子证照")
    assert await rows_of(principal) == [] and await inbox(client, principal) == []

    # The ref opens for the relative (and the principal, whose invitation it is), for nobody else.
    r = await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(relative))
    assert r.status_code == 200 and r.json()["id"] == dlg and r.json()["principal_name"] == "欧阳**", r.text
    r = await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(principal))
    assert r.status_code == 200 and r.json()["role"] == "principal", r.text
    r = await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(stranger))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    assert (await client.get(f"/api/v1/delegations/{dlg}")).status_code == 401
    for unknown in ("dlg_nobody", "x" * 300):
        assert (await client.get(f"/api/v1/delegations/{unknown}", headers=bearer(relative))).status_code == 404


async def test_a_citizen_without_wechat_credit_gets_the_invitation_by_sms_once(client, live):
    relative_phone = random_phone()
    relative = await wechat_login(client, phone=relative_phone)
    principal, _ = await verified_citizen(client, name="李阿姨")
    dlg = (await invite(client, principal, relative_phone))["id"]
    # An invitation is important: with no WeChat consent it falls to SMS; the inbox has it either way.
    expected = [("inbox", "delivered", None), ("sms", "sent", None), ("wechat", "skipped", "no_consent")]
    assert await event_rows(f"delegation_invited:{dlg}", expected) == expected
    assert await wechat_to(client, relative) == []
    (sms,) = await sms_to(client, relative_phone)
    assert sms["params"]["inviter"] == "李**" and sms["params"]["scope"] == "个人信息"
    assert [m["title"] for m in await inbox(client, relative)] == ["亲友代办邀请"]


async def test_a_refused_invitation_is_sent_to_nobody(client, live):
    principal, person = await verified_citizen(client)
    sms_before = len(await sandbox_messages(client, "sms"))
    bad = [({"agent_phone": "12345", "scopes": ["profile"]}, 422),
           ({"agent_phone": random_phone(), "scopes": ["everything"]}, 422),
           ({"agent_phone": random_phone(), "scopes": []}, 422),
           ({"agent_phone": person["phone"], "scopes": ["profile"]}, 409)]  # oneself
    for body, status in bad:
        r = await client.post("/api/v1/me/delegations", headers=bearer(principal), json={**body, "expires_at": later()})
        assert r.status_code == status, r.text
    assert await Delegation.filter(principal_id=principal["citizen"]["id"]).count() == 0
    assert await OutboxDelivery.filter(dedupe_key__startswith="delegation_invited:").count() == 0
    assert len(await sandbox_messages(client, "sms")) == sms_before


async def test_the_delegation_route_is_documented(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"200", "401", "404"} <= set(paths["/api/v1/delegations/{delegation_id}"]["get"]["responses"])

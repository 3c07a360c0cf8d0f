"""The other side of a delegation is told of a decline or a revoke, once: the principal when the relative declines
or steps down, the agent (or the invited citizen) when the principal revokes; the one who acted is not told, and a
repeated action tells nobody again."""

from __future__ import annotations

from api.citizens.models import Delegation
from tests.citizens.delegation_helpers import (
    act,
    event_rows,
    give_wechat_credits,
    inbox,
    invite,
    local_date,
    rows_of,
    wechat_to,
)
from tests.factories import bearer, random_phone, verified_citizen, wechat_login

INVITED = [("inbox", "delivered", None), ("wechat", "sent", None)]  # a relative holding one WeChat credit


async def _relative(client, name: str, credits: int) -> tuple[dict, str]:
    """A verified citizen holding `credits` WeChat credits for the delegation template, and their phone."""
    tokens, person = await verified_citizen(client, name=name)
    await give_wechat_credits(client, tokens, credits)
    return tokens, person["phone"]


async def _invited(client, principal: dict, phone: str, scopes=("applications",)) -> str:
    """An invitation to `phone`, once it reached them (inbox and WeChat)."""
    dlg = (await invite(client, principal, phone, scopes))["id"]
    assert await event_rows(f"delegation_invited:{dlg}", INVITED) == INVITED
    return dlg


async def test_a_decline_tells_the_principal_once_and_a_second_one_nothing(client, live):
    principal, _ = await verified_citizen(client, name="陈老伯")
    await give_wechat_credits(client, principal)
    relative, phone = await _relative(client, "张大爷", credits=1)
    dlg = await _invited(client, principal, phone)

    assert (await act(client, relative, dlg, "decline"))["status"] == "declined"
    key = f"delegation_declined:{dlg}"
    assert await event_rows(key, [("inbox", "delivered", None), ("wechat", "sent", None)]) == [
        ("inbox", "delivered", None), ("wechat", "sent", None)]
    (wechat,) = await wechat_to(client, principal)
    assert wechat["data"]["name1"]["value"] == "张**" and wechat["data"]["phrase3"]["value"] == "已拒绝"
    (message,) = await inbox(client, principal)
    assert (message["title"], message["body"]) == ("代办邀请已被拒绝", "张**拒绝了您的代办邀请：办件申请。")
    assert message["ref"] == {"kind": "delegation", "id": dlg}
    assert (await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(principal))).status_code == 200

    for action in ("decline", "accept"):
        r = await client.post(f"/api/v1/delegations/{dlg}/{action}", headers=bearer(relative))
        assert r.status_code == 409 and r.json()["error"]["code"] == "delegation_not_pending", r.text
    assert await rows_of(principal) == [f"{key}:inbox", f"{key}:wechat"]
    assert len(await wechat_to(client, principal)) == 1
    # The relative is told nothing of their own decline: only the invitation is theirs.
    assert await rows_of(relative) == [f"delegation_invited:{dlg}:inbox", f"delegation_invited:{dlg}:wechat"]
    # Revoking what was declined tells nobody either.
    assert (await act(client, principal, dlg, "revoke"))["status"] == "revoked"
    assert await rows_of(relative) == [f"delegation_invited:{dlg}:inbox", f"delegation_invited:{dlg}:wechat"]


async def test_the_principal_revokes_and_the_agent_is_told_once(client, live):
    principal, _ = await verified_citizen(client, name="陈老伯")
    relative, phone = await _relative(client, "张大爷", credits=2)  # the invitation's and the revoke's
    dlg = await _invited(client, principal, phone, scopes=("profile", "benefits"))
    await act(client, relative, dlg, "accept")
    # The principal has no WeChat credit: told of the accept in the inbox only.
    accepted = [("inbox", "delivered", None), ("wechat", "skipped", "no_consent")]
    assert await event_rows(f"delegation_accepted:{dlg}", accepted) == accepted

    revoked = await act(client, principal, dlg, "revoke")
    assert revoked["status"] == "revoked"
    key = f"delegation_revoked:{dlg}"
    assert await event_rows(key, [("inbox", "delivered", None), ("wechat", "sent", None)]) == [
        ("inbox", "delivered", None), ("wechat", "sent", None)]
    assert [m["data"]["phrase3"]["value"] for m in await wechat_to(client, relative)] == ["待确认", "已撤销"]
    told = (await inbox(client, relative))[0]
    assert told["title"] == "代办授权已撤销" and told["ref"] == {"kind": "delegation", "id": dlg}
    on = local_date((await Delegation.get(id=dlg)).revoked_at.isoformat())
    assert told["body"] == f"陈**于 {on} 撤销了与您之间的代办授权：个人信息、惠民补贴。"
    r = await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(relative))
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text

    # Again: 200, nothing changes, nobody is told twice; the principal is not told of their own revoke.
    assert (await act(client, principal, dlg, "revoke"))["status"] == "revoked"
    assert (await act(client, relative, dlg, "revoke"))["status"] == "revoked"
    assert [k for k in await rows_of(relative) if k.startswith(key)] == [f"{key}:inbox", f"{key}:wechat"]
    assert len(await wechat_to(client, relative)) == 2
    assert [k for k in await rows_of(principal) if k.startswith(key)] == []
    assert [m["title"] for m in await inbox(client, principal)] == ["代办邀请已接受"]


async def test_the_agent_steps_down_and_the_principal_is_told_once(client, live):
    principal, _ = await verified_citizen(client, name="陈老伯")
    relative, phone = await _relative(client, "张大爷", credits=1)
    dlg = await _invited(client, principal, phone)
    await act(client, relative, dlg, "accept")
    stranger = await wechat_login(client, phone=random_phone())
    r = await client.post(f"/api/v1/delegations/{dlg}/revoke", headers=bearer(stranger))
    assert r.status_code == 404, r.text
    assert (await client.get(f"/api/v1/delegations/{dlg}", headers=bearer(relative))).json()["status"] == "active"

    assert (await act(client, relative, dlg, "revoke"))["status"] == "revoked"
    key = f"delegation_revoked:{dlg}"
    told = [("inbox", "delivered", None), ("wechat", "skipped", "no_consent")]
    assert await event_rows(key, told) == told
    assert [(m["title"], m["body"][:4]) for m in await inbox(client, principal)] == [
        ("代办授权已撤销", "张**于"), ("代办邀请已接受", "张**已")]
    assert [k for k in await rows_of(relative) if k.startswith(key)] == []
    assert (await act(client, relative, dlg, "revoke"))["status"] == "revoked"
    assert len([m for m in await inbox(client, principal) if m["title"] == "代办授权已撤销"]) == 1


async def test_revoking_a_pending_invitation_tells_the_invited_citizen(client, live):
    principal, _ = await verified_citizen(client, name="陈老伯")
    relative, phone = await _relative(client, "张大爷", credits=1)
    dlg = await _invited(client, principal, phone)
    assert (await act(client, principal, dlg, "revoke"))["status"] == "revoked"
    key = f"delegation_revoked:{dlg}"
    # Their one credit went to the invitation: the revoke reaches their inbox, WeChat has no consent left.
    told = [("inbox", "delivered", None), ("wechat", "skipped", "no_consent")]
    assert await event_rows(key, told) == told
    assert [m["title"] for m in await inbox(client, relative)] == ["代办授权已撤销", "亲友代办邀请"]
    r = await client.post(f"/api/v1/delegations/{dlg}/accept", headers=bearer(relative))
    assert r.status_code == 409, r.text
    assert await rows_of(principal) == []

"""Invitations and mandates naming me (the agent side of 亲友代办), and declining an invitation."""

import datetime as dt

from api.citizens.models import Delegation
from api.core.models import AuditLog
from tests.factories import bearer, random_phone, verified_citizen, wechat_login


def _later(days: int = 30) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat()


async def _invite(client, principal, agent_phone, scopes=("profile",)) -> dict:
    r = await client.post("/api/v1/me/delegations", headers=bearer(principal),
                          json={"agent_phone": agent_phone, "scopes": list(scopes), "expires_at": _later()})
    assert r.status_code == 201, r.text
    return r.json()


async def _received(client, tokens, **params) -> dict:
    r = await client.get("/api/v1/me/delegations/received", headers=bearer(tokens), params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_received_lists_every_state_naming_me_with_the_principal_masked(client):
    mother, _ = await verified_citizen(client, name="陈老伯")
    father, _ = await verified_citizen(client, name="张大爷")
    phone = random_phone()
    # Invited before I have an account: the invitation waits for my verified phone.
    pending = await _invite(client, mother, phone, ["applications"])
    me = await wechat_login(client, phone=phone)
    active = await _invite(client, father, phone, ["profile", "applications"])
    revoked = await _invite(client, father, phone)
    expired = await _invite(client, mother, phone)
    for invite in (active, revoked):
        assert (await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(me))).status_code == 200
    assert (await client.post(f"/api/v1/delegations/{revoked['id']}/revoke", headers=bearer(father))).status_code == 200
    await Delegation.filter(id=expired["id"]).update(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    # Someone else's invitation is not mine to see.
    await _invite(client, mother, random_phone())

    items = (await _received(client, me))["items"]
    by_id = {i["id"]: i for i in items}
    assert set(by_id) == {pending["id"], active["id"], revoked["id"], expired["id"]}
    assert [by_id[i["id"]]["status"] for i in (pending, active, revoked, expired)] == [
        "pending", "active", "revoked", "expired"]
    assert by_id[pending["id"]]["principal_name"] == "陈**" and by_id[active["id"]]["principal_name"] == "张**"
    assert sorted(by_id[active["id"]]["scopes"]) == ["applications", "profile"]
    assert all(i["role"] == "agent" and i["expires_at"] and "****" in i["agent_phone"] for i in items)
    assert [i["created_at"] for i in items] == sorted((i["created_at"] for i in items), reverse=True)

    # Paged with the one helper: two pages of two, nothing lost or repeated.
    first = await _received(client, me, limit=2)
    second = await _received(client, me, limit=2, cursor=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in items]
    assert second["next_cursor"] is None

    # The principal sees none of these as received; a stranger sees nothing.
    assert (await _received(client, mother))["items"] == []
    assert (await _received(client, await wechat_login(client, phone=random_phone())))["items"] == []


async def test_received_refuses_bad_paging_and_anonymous_callers(client):
    me = await wechat_login(client, phone=random_phone())
    for params in ({"limit": "0"}, {"limit": "abc"}, {"cursor": "not-a-cursor"}):
        r = await client.get("/api/v1/me/delegations/received", headers=bearer(me), params=params)
        assert r.status_code == 422, (params, r.text)
    assert (await client.get("/api/v1/me/delegations/received")).status_code == 401


async def test_only_the_invited_person_declines_once_and_it_is_audited(client):
    principal, _ = await verified_citizen(client, name="李阿姨")
    phone = random_phone()
    invite = await _invite(client, principal, phone)
    invited = await wechat_login(client, phone=phone)
    stranger = await wechat_login(client, phone=random_phone())
    for who in (stranger, principal):
        r = await client.post(f"/api/v1/delegations/{invite['id']}/decline", headers=bearer(who))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    for unknown in ("dlg_does_not_exist", "x" * 300):
        assert (await client.post(f"/api/v1/delegations/{unknown}/decline", headers=bearer(invited))).status_code == 404
    assert (await client.post(f"/api/v1/delegations/{invite['id']}/decline")).status_code == 401
    assert (await Delegation.get(id=invite["id"])).status == "pending"

    r = await client.post(f"/api/v1/delegations/{invite['id']}/decline", headers=bearer(invited))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "declined" and r.json()["declined_at"] and r.json()["principal_name"] == "李**"
    entry = await AuditLog.get(action="delegation.decline", target_id=invite["id"])
    assert entry.actor_id == invited["citizen"]["id"]
    # Declined once: again, or accepting it now, is 409; it no longer lets anyone act.
    for action in ("decline", "accept"):
        r = await client.post(f"/api/v1/delegations/{invite['id']}/{action}", headers=bearer(invited))
        assert r.status_code == 409 and r.json()["error"]["code"] == "delegation_not_pending", r.text
    assert await AuditLog.filter(action="delegation.decline", target_id=invite["id"]).count() == 1
    mine = (await _received(client, invited))["items"]
    assert [(i["id"], i["status"]) for i in mine] == [(invite["id"], "declined")]


async def test_an_accepted_or_expired_invitation_cannot_be_declined(client):
    principal, _ = await verified_citizen(client)
    phone = random_phone()
    agent = await wechat_login(client, phone=phone)
    accepted = await _invite(client, principal, phone)
    assert (await client.post(f"/api/v1/delegations/{accepted['id']}/accept", headers=bearer(agent))).status_code == 200
    expired = await _invite(client, principal, phone)
    await Delegation.filter(id=expired["id"]).update(
        expires_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1))
    for invite in (accepted, expired):
        r = await client.post(f"/api/v1/delegations/{invite['id']}/decline", headers=bearer(agent))
        assert r.status_code == 409 and r.json()["error"]["code"] == "delegation_not_pending", r.text
    assert (await Delegation.get(id=accepted["id"])).status == "active"


async def test_the_routes_are_documented(client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    received = paths["/api/v1/me/delegations/received"]["get"]
    assert {"200", "401", "422"} <= set(received["responses"])
    assert any(p["name"] == "cursor" for p in received.get("parameters", []))
    assert {"200", "404", "409"} <= set(paths["/api/v1/delegations/{delegation_id}/decline"]["post"]["responses"])

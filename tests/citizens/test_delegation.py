"""亲友代办: invitations by phone, acceptance, scopes, expiry, and the audit trail."""

import datetime as dt

from api.citizens.models import Delegation
from api.core.models import AuditLog
from tests.factories import bearer, random_phone, verified_citizen, wechat_login


def _later(days: int = 30) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat()


async def _delegate(client, principal, agent_phone, scopes):
    r = await client.post("/api/v1/me/delegations", headers=bearer(principal),
                          json={"agent_phone": agent_phone, "scopes": scopes, "expires_at": _later()})
    assert r.status_code == 201, r.text
    return r.json()


async def test_agent_acts_within_scope_and_both_show_in_the_audit(client):
    principal, _ = await verified_citizen(client, name="陈老伯")
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    invite = await _delegate(client, principal, agent_phone, ["profile", "applications"])
    assert invite["status"] == "pending" and invite["agent_phone"] == agent_phone[:3] + "****" + agent_phone[-4:]
    r = await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    assert r.status_code == 200 and r.json()["status"] == "active"
    principal_id = principal["citizen"]["id"]
    r = await client.get("/api/v1/me", headers={**bearer(agent), "X-On-Behalf-Of": principal_id})
    assert r.status_code == 200
    assert r.json()["id"] == principal_id and r.json()["name"] == "陈**"
    entry = await AuditLog.filter(action="citizen.profile.read", on_behalf_of=principal_id).first()
    assert entry is not None and entry.actor_id == agent["citizen"]["id"] and entry.actor_type == "agent"


async def test_agent_outside_scope_is_refused(client):
    principal, _ = await verified_citizen(client)
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    invite = await _delegate(client, principal, agent_phone, ["applications"])
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    r = await client.get("/api/v1/me", headers={**bearer(agent), "X-On-Behalf-Of": principal["citizen"]["id"]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "delegation_denied"
    # Routes that cannot be delegated at all (making new delegations) refuse even an in-scope agent.
    r = await client.post("/api/v1/me/delegations",
                          headers={**bearer(agent), "X-On-Behalf-Of": principal["citizen"]["id"]},
                          json={"agent_phone": random_phone(), "scopes": ["profile"], "expires_at": _later()})
    assert r.status_code == 403


async def test_no_delegation_or_revoked_or_expired_is_refused(client):
    principal, _ = await verified_citizen(client)
    stranger = await wechat_login(client, phone=random_phone())
    headers = {**bearer(stranger), "X-On-Behalf-Of": principal["citizen"]["id"]}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 403
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    invite = await _delegate(client, principal, agent_phone, ["profile"])
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    headers = {**bearer(agent), "X-On-Behalf-Of": principal["citizen"]["id"]}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    now = dt.datetime.now(dt.timezone.utc)
    await Delegation.filter(id=invite["id"]).update(expires_at=now - dt.timedelta(minutes=1))
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 403
    await Delegation.filter(id=invite["id"]).update(expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    r = await client.post(f"/api/v1/delegations/{invite['id']}/revoke", headers=bearer(principal))
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 403


async def test_only_the_invited_phone_can_accept(client):
    principal, _ = await verified_citizen(client)
    invite = await _delegate(client, principal, random_phone(), ["profile"])
    someone = await wechat_login(client, phone=random_phone())
    r = await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(someone))
    assert r.status_code == 404
    assert (await Delegation.get(id=invite["id"])).status == "pending"
    r = await client.post("/api/v1/delegations/dlg_does_not_exist/accept", headers=bearer(someone))
    assert r.status_code == 404


async def test_delegating_needs_real_name_and_valid_input(client):
    unverified = await wechat_login(client, phone=random_phone())
    r = await client.post("/api/v1/me/delegations", headers=bearer(unverified),
                          json={"agent_phone": random_phone(), "scopes": ["profile"], "expires_at": _later()})
    assert r.status_code == 403 and r.json()["error"]["code"] == "assurance_level_too_low"
    principal, _ = await verified_citizen(client)
    before = await Delegation.filter(principal_id=principal["citizen"]["id"]).count()
    for bad in ({"agent_phone": "123", "scopes": ["profile"], "expires_at": _later()},
                {"agent_phone": random_phone(), "scopes": ["everything"], "expires_at": _later()},
                {"agent_phone": random_phone(), "scopes": ["profile"], "expires_at": _later(-1)},
                {"agent_phone": random_phone(), "scopes": [], "expires_at": _later()}):
        r = await client.post("/api/v1/me/delegations", headers=bearer(principal), json=bad)
        assert r.status_code == 422, bad
    assert await Delegation.filter(principal_id=principal["citizen"]["id"]).count() == before


async def test_both_sides_list_the_delegation(client):
    principal, _ = await verified_citizen(client)
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    invite = await _delegate(client, principal, agent_phone, ["profile"])
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    mine = (await client.get("/api/v1/me/delegations", headers=bearer(principal))).json()["items"]
    theirs = (await client.get("/api/v1/me/delegations", headers=bearer(agent))).json()["items"]
    assert [d["role"] for d in mine if d["id"] == invite["id"]] == ["principal"]
    assert [d["role"] for d in theirs if d["id"] == invite["id"]] == ["agent"]

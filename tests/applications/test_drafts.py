"""Drafts: started on WeChat, finished on Alipay (or by an agent); nobody else's."""

import datetime as dt

from api.applications.models import Draft
from tests.applications.helpers import ITEM_A, body_a, submit
from tests.factories import alipay_login, bearer, random_phone, registered_person, wechat_login


async def test_started_on_wechat_finished_on_alipay(client, test_catalogue):
    person = await registered_person(name="赵六")
    wx = await wechat_login(client, phone=person["phone"])
    r = await client.post("/api/v1/me/real-name", json={"name": "赵六", "id_number": person["id_number"]},
                          headers=bearer(wx))
    assert r.status_code == 200
    r = await client.post("/api/v1/drafts", headers=bearer(wx),
                          json={"item_code": ITEM_A, "form": {"applicant_name": "赵六"}})
    assert r.status_code == 201
    draft = r.json()
    ali = await alipay_login(client, phone=person["phone"])
    listed = (await client.get("/api/v1/drafts", headers=bearer(ali))).json()["items"]
    assert [d["id"] for d in listed] == [draft["id"]] and listed[0]["form"] == {"applicant_name": "赵六"}
    body = await body_a(client, ali, draft_id=draft["id"])
    await submit(client, ali, body)
    assert not await Draft.exists(id=draft["id"])
    stored = await Draft.all().values_list("content_enc", flat=True)
    assert all("赵六" not in s for s in stored)


async def test_another_citizens_draft_is_404(client, test_catalogue):
    mine = await wechat_login(client, phone=random_phone())
    other = await wechat_login(client, phone=random_phone())
    draft = (await client.post("/api/v1/drafts", headers=bearer(mine), json={"item_code": ITEM_A})).json()
    for method, path in (("GET", f"/api/v1/drafts/{draft['id']}"), ("DELETE", f"/api/v1/drafts/{draft['id']}")):
        assert (await client.request(method, path, headers=bearer(other))).status_code == 404
    r = await client.put(f"/api/v1/drafts/{draft['id']}", json={"item_code": ITEM_A}, headers=bearer(other))
    assert r.status_code == 404
    assert await Draft.exists(id=draft["id"])


async def test_an_agent_with_the_applications_scope_finishes_a_draft(client, test_catalogue):
    principal_person = await registered_person(name="钱老伯")
    principal = await wechat_login(client, phone=principal_person["phone"])
    await client.post("/api/v1/me/real-name", json={"name": "钱老伯", "id_number": principal_person["id_number"]},
                      headers=bearer(principal))
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)).isoformat()
    invite = (await client.post("/api/v1/me/delegations", headers=bearer(principal),
                                json={"agent_phone": agent_phone, "scopes": ["applications"],
                                      "expires_at": expires})).json()
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    draft = (await client.post("/api/v1/drafts", headers=bearer(principal), json={"item_code": ITEM_A})).json()
    on_behalf = {"X-On-Behalf-Of": principal["citizen"]["id"]}
    r = await client.get(f"/api/v1/drafts/{draft['id']}", headers={**bearer(agent), **on_behalf})
    assert r.status_code == 200
    r = await client.get(f"/api/v1/drafts/{draft['id']}", headers=bearer(agent))
    assert r.status_code == 404  # as themselves, the agent has no such draft


async def test_an_agent_submits_for_the_principal_only_within_scope(client, test_catalogue):
    from api.applications.models import Application
    from tests.applications.conftest import upload

    person = await registered_person(name="孙奶奶")
    principal = await wechat_login(client, phone=person["phone"])
    await client.post("/api/v1/me/real-name", json={"name": "孙奶奶", "id_number": person["id_number"]},
                      headers=bearer(principal))
    agent_phone = random_phone()
    agent = await wechat_login(client, phone=agent_phone)
    expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)).isoformat()
    invite = (await client.post("/api/v1/me/delegations", headers=bearer(principal),
                                json={"agent_phone": agent_phone, "scopes": ["profile"], "expires_at": expires})).json()
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    on_behalf = {"X-On-Behalf-Of": principal["citizen"]["id"]}
    r = await client.post("/api/v1/files", files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                          headers={**bearer(agent), **on_behalf})
    assert r.status_code == 403  # "profile" only: no applications
    invite = (await client.post("/api/v1/me/delegations", headers=bearer(principal),
                                json={"agent_phone": agent_phone, "scopes": ["applications"],
                                      "expires_at": expires})).json()
    await client.post(f"/api/v1/delegations/{invite['id']}/accept", headers=bearer(agent))
    f = await upload(client, agent, headers=on_behalf)
    body = await body_a(client, principal)
    body["materials"][0]["file_id"] = f["file_id"]
    app = await submit(client, agent, body, headers=on_behalf)
    row = await Application.get(id=app["id"])
    assert row.citizen_id == principal["citizen"]["id"] and row.submitted_by == agent["citizen"]["id"]
    assert app["timeline"][0]["actor_type"] == "agent"

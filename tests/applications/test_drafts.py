"""Drafts: started on WeChat, finished on Alipay (or by an agent); nobody else's."""

import asyncio
import datetime as dt

from api.applications.models import Application, Draft
from api.core.models import AuditLog
from notifications.models import InboxMessage
from tests.applications.helpers import ITEM_A, ITEM_C, body_a, submit
from tests.applications.test_identity_binding import _agent_for, masked_id, masked_phone
from tests.factories import (
    alipay_login,
    bearer,
    random_id_number,
    random_phone,
    registered_person,
    verified_citizen,
    wechat_login,
)


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
    prefilled = {"applicant_name": "赵*", "applicant_id_number": masked_id(person["id_number"]),
                 "applicant_phone": masked_phone(person["phone"])}
    assert [d["id"] for d in listed] == [draft["id"]] and listed[0]["form"] == prefilled
    assert listed[0]["masked"] is True and draft["form"] == prefilled
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


async def _draft(client, tokens, body: dict, *, expect: int = 201) -> dict:
    r = await client.post("/api/v1/drafts", headers=bearer(tokens), json=body)
    assert r.status_code == expect, r.text
    return r.json()


async def _held(client, tokens, draft_id: str) -> dict:
    """The draft as its owner sees it in clear."""
    r = await client.get(f"/api/v1/drafts/{draft_id}?reveal=true", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_draft_may_be_incomplete_but_what_is_there_must_fit_the_form(client, test_catalogue):
    tokens, person = await verified_citizen(client, name="赵六")
    draft = await _draft(client, tokens, {"item_code": ITEM_A, "form": {"reason": "就业"}})  # required fields missing
    before = await _held(client, tokens, draft["id"])
    assert before["form"] == {"reason": "就业", "applicant_name": "赵六", "applicant_id_number": person["id_number"],
                              "applicant_phone": person["phone"]}
    wrong = {
        "form.reason": {"item_code": ITEM_A, "form": {"reason": "旅游"}},
        "form.unknown_field": {"item_code": ITEM_A, "form": {"unknown_field": "x"}},
        "form.spouse_id_number": {"item_code": ITEM_A, "form": {"spouse_id_number": "110101198506150012"}},
        "form.applicant_id_number": {"item_code": ITEM_A, "form": {"applicant_id_number": random_id_number()}},
        "materials.0.material_code": {"item_code": ITEM_A, "materials": [{"material_code": "M_NOPE",
                                                                          "commitment": True}]},
        "materials.0": {"item_code": ITEM_A, "materials": [{"material_code": "M_PHOTO", "commitment": True,
                                                            "deferred": True}]},
        "delivery.method": {"item_code": ITEM_C, "delivery": {"method": "express"}},
        "item_code": {"item_code": "T99999999999"},
        "bundle_code": {"bundle_code": "B_NOPE"},
    }
    for field, body in wrong.items():
        for method, path in (("POST", "/api/v1/drafts"), ("PUT", f"/api/v1/drafts/{draft['id']}")):
            r = await client.request(method, path, json=body, headers=bearer(tokens))
            assert r.status_code == 422, (field, r.text)
            assert any(f.startswith(field) for f in r.json()["error"]["fields"]), (field, r.text)
    assert await Draft.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    assert await _held(client, tokens, draft["id"]) == before


async def test_a_draft_over_64_kib_is_413_and_changes_nothing(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    draft = await _draft(client, tokens, {"item_code": ITEM_A, "form": {"reason": "就学"}})
    before = await _held(client, tokens, draft["id"])
    huge = {"item_code": ITEM_A, "form": {"reason": "就业", **{f"f{n}": "字" * 100 for n in range(250)}}}
    for method, path in (("POST", "/api/v1/drafts"), ("PUT", f"/api/v1/drafts/{draft['id']}")):
        r = await client.request(method, path, json=huge, headers=bearer(tokens))
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "draft_too_large"
    assert await Draft.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    assert await _held(client, tokens, draft["id"]) == before


async def test_drafts_are_masked_for_an_agent_and_their_reads_are_audited(client, test_catalogue):
    principal, elder = await verified_citizen(client, name="钱老伯")
    agent, _ = await _agent_for(client, principal, name="周小明")
    spouse = random_id_number()
    draft = await _draft(client, principal, {
        "item_code": ITEM_A, "form": {"spouse_id_number": spouse},
        "delivery": {"method": "express", "address": "湖南省长沙市岳麓区麓山南路 1 号"}})
    assert draft["form"]["spouse_id_number"] == masked_id(spouse)  # masked even in the owner's own answer
    on_behalf = {**bearer(agent), "X-On-Behalf-Of": principal["citizen"]["id"]}
    for path in (f"/api/v1/drafts/{draft['id']}", f"/api/v1/drafts/{draft['id']}?reveal=true"):
        r = await client.get(path, headers=on_behalf)
        assert r.status_code == 200, r.text
        seen = r.json()
        assert seen["masked"] is True
        assert seen["form"]["spouse_id_number"] == masked_id(spouse)
        assert seen["form"]["applicant_id_number"] == masked_id(elder["id_number"])
        assert seen["delivery"]["address"] == "湖南省长沙市****"
    listed = (await client.get("/api/v1/drafts", headers=on_behalf)).json()["items"]
    assert listed[0]["form"]["spouse_id_number"] == masked_id(spouse)
    audited = await AuditLog.filter(actor_id=agent["citizen"]["id"], on_behalf_of=principal["citizen"]["id"],
                                    action__startswith="application.draft.")
    assert sorted(a.action for a in audited) == ["application.draft.list", "application.draft.read",
                                                 "application.draft.read"]
    assert all(a.detail.get("revealed") is False for a in audited if a.action == "application.draft.read")
    # The owner: a plain read is not audited, a revealed one is, and shows the values in clear.
    await client.get(f"/api/v1/drafts/{draft['id']}", headers=bearer(principal))
    assert not await AuditLog.filter(actor_id=principal["citizen"]["id"], action="application.draft.read").exists()
    assert (await _held(client, principal, draft["id"]))["form"]["spouse_id_number"] == spouse
    owner_reads = await AuditLog.filter(actor_id=principal["citizen"]["id"], action="application.draft.read")
    assert [a.detail for a in owner_reads] == [{"revealed": True}]
    stored = (await Draft.get(id=draft["id"])).content_enc
    assert spouse not in stored and elder["id_number"] not in stored and "麓山南路" not in stored


async def test_an_agent_finishes_a_draft_from_its_masked_answer(client, test_catalogue):
    principal, elder = await verified_citizen(client, name="钱老伯")
    agent, _ = await _agent_for(client, principal, name="周小明")
    spouse = random_id_number()
    address = "湖南省长沙市岳麓区麓山南路 1 号"
    draft = await _draft(client, principal, {"item_code": ITEM_A, "form": {"spouse_id_number": spouse},
                                             "delivery": {"method": "express", "address": address}})
    on_behalf = {**bearer(agent), "X-On-Behalf-Of": principal["citizen"]["id"]}
    seen = (await client.get(f"/api/v1/drafts/{draft['id']}", headers=on_behalf)).json()
    # The agent sends back what they saw, masked, with the reason added: the masked values stand for what was held.
    r = await client.put(f"/api/v1/drafts/{draft['id']}", headers=on_behalf, json={
        "item_code": ITEM_A, "form": {**seen["form"], "reason": "投亲"}, "delivery": seen["delivery"]})
    assert r.status_code == 200, r.text
    held = await _held(client, principal, draft["id"])
    assert held["form"]["spouse_id_number"] == spouse and held["form"]["reason"] == "投亲"
    assert held["delivery"]["address"] == address
    # ... and submits it the same way.
    body = await body_a(client, principal, draft_id=draft["id"], form=r.json()["form"],
                        delivery=r.json()["delivery"])
    app = await submit(client, agent, body, headers={"X-On-Behalf-Of": principal["citizen"]["id"]})
    clear = (await client.get(f"/api/v1/applications/{app['id']}?reveal=true", headers=bearer(principal))).json()
    assert clear["form"]["spouse_id_number"] == spouse and clear["form"]["applicant_id_number"] == elder["id_number"]
    assert clear["delivery"]["address"] == address
    assert clear["agent"]["id"] == agent["citizen"]["id"]
    assert not await Draft.exists(id=draft["id"])


async def test_a_replayed_submission_from_a_draft_answers_the_first_and_makes_nothing_more(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    draft = await _draft(client, tokens, {"item_code": ITEM_A, "form": {"reason": "就业"}})
    body, key = await body_a(client, tokens, draft_id=draft["id"]), "draft-replay-0001"
    first = await submit(client, tokens, body, key=key)
    assert not await Draft.exists(id=draft["id"])
    again = await submit(client, tokens, body, key=key)  # a retry after a lost answer: the draft is gone by now
    assert again["id"] == first["id"]
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    r = await client.post("/api/v1/applications", json=body,
                          headers={**bearer(tokens), "Idempotency-Key": "other-key-1"})
    assert r.status_code == 404  # a new submission of a spent draft
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 1


async def test_one_draft_submitted_twice_at_once_under_two_keys_is_one_application(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    draft = await _draft(client, tokens, {"item_code": ITEM_A, "form": {"reason": "就业"}})
    body = await body_a(client, tokens, draft_id=draft["id"])
    answers = await asyncio.gather(*(
        client.post("/api/v1/applications", json=body, headers={**bearer(tokens), "Idempotency-Key": f"double-tap-{n}"})
        for n in range(2)))
    assert sorted(r.status_code for r in answers) == [201, 404], [r.text for r in answers]
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 1
    assert await InboxMessage.filter(citizen_id=tokens["citizen"]["id"]).count() == 1

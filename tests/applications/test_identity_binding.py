"""Applications are bound to who submits them: the applicant's identity fields come from the verified identity,
id numbers are checked, and an agent who acts for someone is recorded and shown (masked)."""

import secrets

from api.applications.models import Application
from api.core.models import AuditLog, IdempotencyRecord
from notifications.models import InboxMessage
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, bundle_body, form_a, submit
from tests.citizens import delegation_helpers as delegations
from tests.factories import bearer, random_id_number, random_phone, verified_citizen, wechat_login

ITEM_FOR_OTHER = "T00000000005"


def masked_id(id_number: str) -> str:
    return id_number[:3] + "*" * 11 + id_number[-4:]


def masked_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def wrong_check_digit(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


async def revealed(client, tokens, application_id: str) -> dict:
    r = await client.get(f"/api/v1/applications/{application_id}?reveal=true", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_applicant_fields_are_filled_from_the_verified_identity(client, test_catalogue):
    tokens, person = await verified_citizen(client, name="王五")
    app = await submit(client, tokens, await body_a(client, tokens))  # no name, id number or phone sent
    form = (await revealed(client, tokens, app["id"]))["form"]
    assert (form["applicant_name"], form["applicant_id_number"], form["applicant_phone"]) == (
        "王五", person["id_number"], person["phone"])
    assert app["applicant"] == {"id": tokens["citizen"]["id"], "name": "王*",
                                "id_number": masked_id(person["id_number"]), "phone": masked_phone(person["phone"]),
                                "assurance_level": 2, "real_name_verified": True}
    assert app["agent"] is None
    # What a front end prefilled: the values in clear, or the masked ones GET /me shows.
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    for given in ({"applicant_name": "王五", "applicant_id_number": person["id_number"].lower(),
                   "applicant_phone": f"+86 {person['phone']}"},
                  {"applicant_name": me["name"], "applicant_id_number": me["id_number"],
                   "applicant_phone": me["phone"]}):
        again = await submit(client, tokens, await body_a(client, tokens, form=form_a(**given)))
        form = (await revealed(client, tokens, again["id"]))["form"]
        assert (form["applicant_name"], form["applicant_id_number"], form["applicant_phone"]) == (
            "王五", person["id_number"], person["phone"])


async def test_another_persons_identity_is_422_naming_each_field_and_changes_nothing(client, test_catalogue):
    tokens, person = await verified_citizen(client, name="王五")
    someone_else = {"applicant_name": "李四", "applicant_id_number": random_id_number(),
                    "applicant_phone": random_phone()}
    key = secrets.token_hex(12)
    body = await body_a(client, tokens, form=form_a(**someone_else))
    r = await client.post("/api/v1/applications", json=body, headers={**bearer(tokens), "Idempotency-Key": key})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "identity_mismatch"
    assert set(error["fields"]) == {"form.applicant_name", "form.applicant_id_number", "form.applicant_phone"}
    # One wrong field is enough, and only it is named.
    body_one = await body_a(client, tokens, form=form_a(applicant_id_number=someone_else["applicant_id_number"]))
    r = await client.post("/api/v1/applications", json=body_one, headers=bearer(tokens))
    assert r.status_code == 422 and set(r.json()["error"]["fields"]) == {"form.applicant_id_number"}
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 0
    assert await InboxMessage.filter(citizen_id=tokens["citizen"]["id"]).count() == 0
    assert not await IdempotencyRecord.exists(key=key)
    # The key was not spent on the refusal: the right body under it makes the application.
    app = await submit(client, tokens, await body_a(client, tokens), key=key)
    assert (await revealed(client, tokens, app["id"]))["form"]["applicant_id_number"] == person["id_number"]


async def test_id_numbers_in_forms_are_checksum_checked(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    spouse = random_id_number()
    for bad, why in ((wrong_check_digit(spouse), "校验位"), (spouse[:10] + "1302" + spouse[14:], "出生日期"),
                     ("991101198506150011", "行政区划")):
        body = await body_a(client, tokens, form=form_a(spouse_id_number=bad))
        r = await client.post("/api/v1/applications", json=body, headers=bearer(tokens))
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "form_invalid"
        assert why in r.json()["error"]["fields"]["form.spouse_id_number"]
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 0
    app = await submit(client, tokens, await body_a(client, tokens, form=form_a(spouse_id_number=spouse)))
    assert (await revealed(client, tokens, app["id"]))["form"]["spouse_id_number"] == spouse


async def test_a_form_about_someone_else_keeps_what_was_typed_but_checks_it(client, test_catalogue):
    tokens, _ = await verified_citizen(client, name="王五")
    guide = (await client.get(f"/api/v1/items/{ITEM_FOR_OTHER}")).json()
    assert guide["form_schema"]["x-subject"] == "other"
    mother = {"applicant_name": "张桂英", "applicant_id_number": random_id_number(), "relation": "子女"}
    body = {"item_code": ITEM_FOR_OTHER, "form": mother, "materials": [], "delivery": {"method": "pickup"},
            "applicant_region": "430104"}
    r = await client.post("/api/v1/applications", json={**body, "form": {
        **mother, "applicant_id_number": wrong_check_digit(mother["applicant_id_number"])}}, headers=bearer(tokens))
    assert r.status_code == 422 and "form.applicant_id_number" in r.json()["error"]["fields"]
    app = await submit(client, tokens, body)
    form = (await revealed(client, tokens, app["id"]))["form"]
    assert form["applicant_name"] == "张桂英" and form["applicant_id_number"] == mother["applicant_id_number"]
    assert app["applicant"]["id"] == tokens["citizen"]["id"] and app["applicant"]["name"] == "王*"


async def test_an_unverified_element_is_taken_as_typed_on_an_item_that_needs_no_real_name(client, test_catalogue):
    phone = random_phone()
    tokens = await wechat_login(client, phone=phone)  # level 1: a verified phone, no real name
    low = {"item_code": "T00000000004", "form": {"applicant_name": "李四"}, "materials": [],
           "delivery": {"method": "pickup"}, "applicant_region": "430104"}
    app = await submit(client, tokens, low)
    assert (await revealed(client, tokens, app["id"]))["form"]["applicant_name"] == "李四"
    assert app["applicant"]["real_name_verified"] is False and app["applicant"]["assurance_level"] == 1
    assert app["applicant"]["phone"] == masked_phone(phone)


async def _agent_for(client, principal: dict, *, name: str) -> tuple[dict, dict]:
    agent, agent_person = await verified_citizen(client, name=name)
    invitation = await delegations.invite(client, principal, agent_person["phone"], scopes=("applications",))
    await delegations.act(client, agent, invitation["id"], "accept")
    return agent, agent_person


async def test_an_agent_is_recorded_and_shown_masked_to_staff_and_to_the_citizen(client, test_catalogue):
    principal, elder = await verified_citizen(client, name="钱老伯")
    agent, helper = await _agent_for(client, principal, name="周小明")
    on_behalf = {"X-On-Behalf-Of": principal["citizen"]["id"]}
    # The agent's own identity is not the applicant's: refused, nothing made.
    own = await body_a(client, principal, form=form_a(applicant_id_number=helper["id_number"]))
    r = await client.post("/api/v1/applications", json=own, headers={**bearer(agent), **on_behalf})
    assert r.status_code == 422 and r.json()["error"]["code"] == "identity_mismatch"
    assert await Application.filter(citizen_id=principal["citizen"]["id"]).count() == 0

    app = await submit(client, agent, await body_a(client, principal), headers=on_behalf)
    shown_agent = {"id": agent["citizen"]["id"], "name": "周**", "id_number": masked_id(helper["id_number"]),
                   "phone": masked_phone(helper["phone"]), "assurance_level": 2, "real_name_verified": True}
    assert app["agent"] == shown_agent
    assert app["applicant"]["id"] == principal["citizen"]["id"] and app["applicant"]["name"] == "钱**"

    staff = await staff_headers(client)
    r = await client.get(f"/api/v1/admin/applications/{app['id']}", headers=staff)
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["applicant"]["id_number"] == masked_id(elder["id_number"]) and case["agent"] == shown_agent
    assert case["form"]["applicant_id_number"] == elder["id_number"]  # the form in clear is the principal's
    assert case["form"]["applicant_name"] == "钱老伯"
    mine = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(principal))).json()
    assert mine["agent"] == shown_agent and mine["applicant"] == case["applicant"]

    # A case the citizen submitted themselves has no agent.
    own_app = await submit(client, principal, await body_a(client, principal))
    r = await client.get(f"/api/v1/admin/applications/{own_app['id']}", headers=staff)
    assert r.json()["agent"] is None and r.json()["applicant"]["id"] == principal["citizen"]["id"]


async def test_a_supplement_cannot_put_another_identity_on_the_form(client, test_catalogue):
    tokens, person = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "request_supplement")
    before = await revealed(client, tokens, app["id"])
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"form": {"applicant_id_number": random_id_number()}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "identity_mismatch"
    after = await revealed(client, tokens, app["id"])
    assert after["form"] == before["form"] and after["status"] == "supplement_requested"
    assert after["timeline"] == before["timeline"]
    # The masked value the answer showed, sent back, is the value held: the supplement goes through.
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"form": {"applicant_id_number": masked_id(person["id_number"]), "reason": "就学"}})
    assert r.status_code == 200, r.text
    after = await revealed(client, tokens, app["id"])
    assert after["form"]["applicant_id_number"] == person["id_number"] and after["form"]["reason"] == "就学"


async def test_the_staff_read_of_an_agents_case_is_audited(client, test_catalogue):
    principal, _ = await verified_citizen(client, name="钱老伯")
    agent, _ = await _agent_for(client, principal, name="周小明")
    app = await submit(client, agent, await body_a(client, principal),
                       headers={"X-On-Behalf-Of": principal["citizen"]["id"]})
    staff = await staff_headers(client)
    assert (await client.get(f"/api/v1/admin/applications/{app['id']}", headers=staff)).status_code == 200
    assert await AuditLog.filter(action="application.read", target_id=app["id"], actor_type="admin").count() == 1


async def test_a_bundles_merged_form_is_bound_too(client, test_catalogue):
    tokens, _ = await verified_citizen(client, name="王五")
    body = await bundle_body(client, tokens)
    r = await client.post("/api/v1/applications", json={**body, "form": {**body["form"], "applicant_name": "李四"}},
                          headers=bearer(tokens))
    assert r.status_code == 422 and set(r.json()["error"]["fields"]) == {"form.applicant_name"}
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 0
    app = await submit(client, tokens, {**body, "form": {k: v for k, v in body["form"].items()
                                                         if k != "applicant_name"}})
    assert (await revealed(client, tokens, app["id"]))["form"]["applicant_name"] == "王五"
    assert await Application.filter(citizen_id=tokens["citizen"]["id"]).count() == 3  # the bundle and its 2 cases

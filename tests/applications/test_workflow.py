"""The workflow: staff moves, the clock, supplements, concurrency, departments, withdrawal, notifications."""

import asyncio
import datetime as dt

import pytest

from api.applications import workflow
from api.applications.models import Application
from api.core import workdays
from notifications.models import InboxMessage, OutboxDelivery
from tests.applications.conftest import staff_headers, upload
from tests.applications.helpers import act, body_a, bundle_body, submit
from tests.applications.messaging import person as person_of
from tests.applications.messaging import received, settled
from tests.factories import bearer, verified_citizen


async def _submitted(client):
    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    return tokens, app


async def test_the_whole_road_from_submission_to_delivery(client, test_catalogue):
    tokens, person = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    staff = await staff_headers(client)
    accepted = await act(client, staff, app["id"], "accept")
    assert accepted["status"] == "accepted"
    assert accepted["due_date"] == workdays.add_working_days(workdays.today(), 5).isoformat()
    r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions", json={"action": "approve"},
                          headers=staff)
    assert r.status_code == 409 and r.json()["error"]["code"] == "materials_owed"  # 容缺 material still owed
    photo = await upload(client, tokens)
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"materials": [{"material_code": "M_PHOTO", "file_id": photo["file_id"]}]})
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert not any(m["owed"] for m in r.json()["materials"])
    await act(client, staff, app["id"], "approve")
    await act(client, staff, app["id"], "complete")
    r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions", json={"action": "ship"}, headers=staff)
    assert r.status_code == 422 and r.json()["error"]["code"] == "tracking_no_required"
    await act(client, staff, app["id"], "ship", carrier="顺丰速运", tracking_no="SF1234567890")
    mine = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(tokens))).json()
    assert mine["status"] == "shipped"
    assert (mine["delivery"]["carrier"], mine["delivery"]["tracking_no"]) == ("顺丰速运", "SF1234567890")
    assert [t["to_status"] for t in mine["timeline"]] == ["submitted", "accepted", "accepted", "approved",
                                                        "completed", "shipped"]
    assert all(t["at"] for t in mine["timeline"])
    inbox = (await client.get("/api/v1/inbox", headers=bearer(tokens))).json()["items"]
    told = ["结果已寄出", "办件已办结", "办件已通过", "办件已受理", "已提交"]  # newest first
    assert [m["title"] for m in inbox] == [f"{t}：测试居住登记" for t in told]
    assert all(m["ref"] == {"kind": "application", "id": app["id"]} for m in inbox)
    # The citizen is on WeChat only and granted no subscription: each event's WeChat row ends without consent, and
    # only the approval, an important message, goes on to SMS. Nothing lost, nothing doubled.
    who = await person_of(tokens, person["phone"])
    await settled(who)
    got = await received(client, who)
    assert (got["wechat"], got["alipay"]) == ([], [])
    assert [(m["template_code"], m["params"]) for m in got["sms"]] == [
        ("SMS_APPLICATION_RESULT_0001", {"item": "测试居住登记", "result": "已通过"})]
    rows = await OutboxDelivery.filter(citizen_id=who.citizen_id).exclude(channel="inbox")
    assert sorted((r.channel, r.status, r.reason) for r in rows) == [
        ("sms", "sent", None), *[("wechat", "skipped", "no_consent")] * 4]


async def test_every_move_the_workflow_does_not_allow_is_409(client, test_catalogue):
    for action, moves in workflow.STAFF_MOVES.items():
        for status in ("submitted", "accepted", "supplement_requested", "supplemented", "approved", "denied",
                       "rejected", "completed", "shipped", "delivered", "withdrawn"):
            if status in moves:
                assert workflow.next_status(workflow.STAFF_MOVES, action, status) == moves[status]
            else:
                with pytest.raises(workflow.InvalidTransition):
                    workflow.next_status(workflow.STAFF_MOVES, action, status)
    _, app = await _submitted(client)
    staff = await staff_headers(client)
    for action in ("approve", "deny", "complete", "ship", "deliver"):
        r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions",
                              json={"action": action, "note": "x", "tracking_no": "SF1234567890"}, headers=staff)
        assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition", action
    assert (await Application.get(id=app["id"])).status == "submitted"


async def test_two_staff_acting_at_once_cannot_both_win(client, test_catalogue):
    _, app = await _submitted(client)
    one, two = await staff_headers(client), await staff_headers(client, who="second")
    results = await asyncio.gather(
        client.post(f"/api/v1/admin/applications/{app['id']}/actions", json={"action": "accept"}, headers=one),
        client.post(f"/api/v1/admin/applications/{app['id']}/actions",
                    json={"action": "reject", "note": "材料不全"}, headers=two))
    assert sorted(r.status_code for r in results) == [200, 409]
    row = await Application.get(id=app["id"])
    assert row.status in ("accepted", "rejected") and row.version == 1


async def test_the_clock_pauses_while_a_supplement_is_owed(client, test_catalogue):
    tokens, app = await _submitted(client)
    staff = await staff_headers(client)
    accepted = await act(client, staff, app["id"], "accept")
    asked = await act(client, staff, app["id"], "request_supplement", note="请补充居住证明原件")
    assert asked["sla_state"] == "paused"
    mine = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(tokens))).json()
    assert mine["status"] == "supplement_requested" and mine["sla_state"] == "paused"
    # The request went out four calendar days ago; the applicant answers today.
    asked_on = workdays.today() - dt.timedelta(days=4)
    await Application.filter(id=app["id"]).update(paused_on=asked_on)
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"materials": [{"material_code": "M_RESIDENCE_PROOF",
                                               "file_id": (await upload(client, tokens))["file_id"]}]})
    assert r.status_code == 200 and r.json()["status"] == "supplemented"
    paused = workdays.working_days_between(asked_on, workdays.today())
    expected = workdays.add_working_days(dt.date.fromisoformat(accepted["due_date"]), paused)
    assert r.json()["due_date"] == expected.isoformat() and r.json()["sla_state"] != "paused"


async def test_supplement_is_refused_when_nothing_is_open(client, test_catalogue):
    tokens, app = await _submitted(client)
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "reject", note="不属于本部门受理范围")
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"form": {"reason": "就学"}})
    assert r.status_code == 409


async def test_a_reviewer_of_one_department_cannot_touch_another(client, test_catalogue):
    _, app = await _submitted(client)  # a gongan case
    other = await staff_headers(client, depts=("weijian",))
    r = await client.post(f"/api/v1/admin/applications/{app['id']}/actions", json={"action": "accept"},
                          headers=other)
    assert r.status_code == 404
    assert (await client.get(f"/api/v1/admin/applications/{app['id']}", headers=other)).status_code == 404
    queue = (await client.get("/api/v1/admin/applications?limit=100", headers=other)).json()["items"]
    assert all(c["dept"] == "weijian" for c in queue)
    assert (await Application.get(id=app["id"])).status == "submitted"
    own = await staff_headers(client, depts=("gongan",))
    queue = (await client.get("/api/v1/admin/applications?status=submitted&limit=100", headers=own)).json()
    assert all(c["dept"] == "gongan" and c["status"] == "submitted" for c in queue["items"])


async def test_a_bundle_follows_its_sub_cases(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await bundle_body(client, tokens))
    cases = {s["dept"]: s["id"] for s in app["sub_cases"]}
    health, insurance = (await staff_headers(client, depts=("weijian",)),
                         await staff_headers(client, depts=("yibao",)))
    await act(client, health, cases["weijian"], "accept")
    view = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(tokens))).json()
    assert view["status"] == "submitted"  # as far as the slowest sub-case
    await act(client, insurance, cases["yibao"], "request_supplement", note="请补充户口簿")
    view = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(tokens))).json()
    assert view["status"] == "supplement_requested"
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=bearer(tokens),
                          json={"materials": [{"material_code": "M_HOUSEHOLD_REGISTER",
                                               "file_id": (await upload(client, tokens))["file_id"]}]})
    assert r.status_code == 200
    statuses = {s["dept"]: s["status"] for s in r.json()["sub_cases"]}
    assert statuses == {"weijian": "accepted", "yibao": "supplemented"}
    await act(client, insurance, cases["yibao"], "accept")
    for staff, case in ((health, cases["weijian"]), (insurance, cases["yibao"])):
        await act(client, staff, case, "approve")
        await act(client, staff, case, "complete")
    view = (await client.get(f"/api/v1/applications/{app['id']}", headers=bearer(tokens))).json()
    assert view["status"] == "completed"


async def test_withdraw_before_a_decision_only(client, test_catalogue):
    tokens, app = await _submitted(client)
    r = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    r = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=bearer(tokens))
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_transition"
    tokens, app = await _submitted(client)
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "accept")
    await Application.filter(id=app["id"]).update(materials=[])  # nothing owed
    await act(client, staff, app["id"], "approve")
    r = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=bearer(tokens))
    assert r.status_code == 409


async def test_inbox_messages_are_the_citizens_own(client, test_catalogue):
    tokens, app = await _submitted(client)
    other, _ = await verified_citizen(client)
    message = (await client.get("/api/v1/inbox", headers=bearer(tokens))).json()["items"][0]
    assert (await client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(other))).status_code == 404
    r = await client.post(f"/api/v1/inbox/{message['id']}/read", headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["read_at"]
    assert (await InboxMessage.get(id=message["id"])).read_at is not None

"""Each staff action that tells the applicant: one inbox row and exactly one platform message on the first usable
channel, with the real data in its fields; nothing for the applicant's own moves; nothing twice."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from tortoise.transactions import in_transaction

from api.applications import moves
from api.applications.models import Application, TimelineEntry
from api.core import workdays
from notifications.models import OutboxDelivery
from tests.applications.conftest import staff_headers, upload
from tests.applications.helpers import act, body_a, bundle_body, submit
from tests.applications.messaging import Watch, credits_left, give_credit, person, settled, template_id
from tests.factories import verified_citizen

ITEM = "测试居住登记"
DUE = (workdays.today() + dt.timedelta(days=14)).isoformat()


async def _applicant(client):
    tokens, row = await verified_citizen(client)
    return await person(tokens, row["phone"])


async def _nothing_owed(client, who) -> dict:
    """ITEM_A's application with the photo uploaded rather than deferred, so it can be approved."""
    body = await body_a(client, who.tokens)
    body["materials"][2] = {"material_code": "M_PHOTO", "file_id": (await upload(client, who.tokens))["file_id"]}
    return await submit(client, who.tokens, body)


def _at(answer: dict) -> str:
    """The time of the case's last move as a message shows it."""
    at = dt.datetime.fromisoformat(answer["timeline"][-1]["at"])
    return at.astimezone(workdays.SHANGHAI).strftime("%Y-%m-%d %H:%M")


# action: (the staff actions before it, its body, the message kind, the WeChat fields, the inbox title)
ACTIONS = {
    "accept": ([], {}, "application_accepted",
               lambda no, at: {"thing1": ITEM, "character_string2": no, "phrase3": "已受理", "time4": at},
               f"办件已受理：{ITEM}"),
    "request_supplement": (
        [], {"note": "照片须为白底二寸证件照", "materials": ["M_PHOTO", "M_EXTRA"], "supplement_due": DUE},
        "supplement_requested",
        # The 25 characters of "what" are cut at the clause mark, with an ellipsis.
        lambda no, at: {"thing1": ITEM, "thing2": "近期免冠照片、其他补充材料…", "date3": DUE, "phrase4": "待补正"},
        f"请补充材料：{ITEM}"),
    "reject": ([], {"note": "不属于本部门受理范围"}, "application_rejected",
               lambda no, at: {"thing1": ITEM, "character_string2": no, "phrase3": "不予受理",
                               "thing5": "不属于本部门受理范围"},
               f"办件不予受理：{ITEM}"),
    "approve": (["accept"], {}, "application_approved",
                lambda no, at: {"thing1": ITEM, "character_string2": no, "phrase3": "已通过", "time4": at},
                f"办件已通过：{ITEM}"),
    "deny": (["accept"], {"note": "经核查不符合登记条件"}, "application_denied",
             lambda no, at: {"thing1": ITEM, "character_string2": no, "phrase3": "未通过",
                             "thing5": "经核查不符合登记条件"},
             f"办件未通过：{ITEM}"),
    "complete": (["accept", "approve"], {}, "application_completed",
                 lambda no, at: {"thing1": ITEM, "character_string2": no, "phrase3": "已办结", "time4": at},
                 f"办件已办结：{ITEM}"),
    "ship": (["accept", "approve", "complete"], {"carrier": "顺丰速运", "tracking_no": "SF1234567890"},
             "application_shipped",
             lambda no, at: {"thing1": ITEM, "thing2": "顺丰速运", "character_string3": "SF1234567890"},
             f"结果已寄出：{ITEM}"),
}


@pytest.mark.parametrize("action", list(ACTIONS))
async def test_each_action_sends_one_message_on_the_first_usable_channel(client, live, test_catalogue, action):
    before, body, kind, fields, title = ACTIONS[action]
    who = await _applicant(client)
    app = await _nothing_owed(client, who)
    staff = await staff_headers(client)
    for step in before:
        await act(client, staff, app["id"], step)
    await settled(who)  # the earlier moves' messages must not find the credit given next
    template = template_id(live, kind)
    assert await give_credit(client, who, template) == 1
    watch = await Watch(client, who).start()

    answer = await act(client, staff, app["id"], action, **body)
    told = await watch.told(platform_messages=1)

    assert (len(told.wechat), told.alipay, told.sms) == (1, [], []), told
    (message,) = told.wechat
    assert message["template_id"] == template
    assert {k: v["value"] for k, v in message["data"].items()} == fields(app["id"], _at(answer))
    assert message["page"] == f"pages/applications/detail?id={app['id']}"
    (row,) = told.inbox
    assert row["title"] == title and row["ref"] == {"kind": "application", "id": app["id"]}
    assert await credits_left(client, who, template) == 0
    if action in ("reject", "deny"):
        assert body["note"] in row["body"]  # the clerk's reason, whole, in the inbox
    if action == "request_supplement":
        assert "近期免冠照片、其他补充材料：照片须为白底二寸证件照" in row["body"] and DUE in row["body"]
    if action == "ship":
        assert "顺丰速运" in row["body"] and "SF1234567890" in row["body"]
    history = (await client.get("/api/v1/me/messages", headers=who.headers, params={"limit": 100})).json()["items"]
    assert sorted(i["channel"] for i in history if i["title"] == title) == ["inbox", "wechat"]


async def test_the_applicants_own_moves_tell_them_nothing(client, live, test_catalogue):
    who = await _applicant(client)
    app = await submit(client, who.tokens, await body_a(client, who.tokens))
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "request_supplement", note="请补交照片", materials=["M_PHOTO"])
    await settled(who)
    # Credit on every application template: a message of these moves would show on WeChat.
    for kind in ("application_accepted", "supplement_requested", "application_approved", "application_shipped"):
        await give_credit(client, who, template_id(live, kind))
    rows_before = await OutboxDelivery.filter(citizen_id=who.citizen_id).count()

    watch = await Watch(client, who).start()
    r = await client.post(f"/api/v1/applications/{app['id']}/supplement", headers=who.headers, json={
        "materials": [{"material_code": "M_PHOTO", "file_id": (await upload(client, who.tokens))["file_id"]}]})
    assert r.status_code == 200 and r.json()["status"] == "supplemented"
    r = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=who.headers)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    told = await watch.told(platform_messages=0)

    assert (told.wechat, told.alipay, told.sms, told.inbox) == ([], [], [], [])
    assert await OutboxDelivery.filter(citizen_id=who.citizen_id).count() == rows_before


async def test_a_bundles_message_names_and_opens_the_bundle(client, live, test_catalogue):
    tokens, row = await verified_citizen(client)
    who = await person(tokens, row["phone"])
    app = await submit(client, tokens, await bundle_body(client, tokens))
    case = next(s for s in app["sub_cases"] if s["dept"] == "weijian")
    assert case["id"] != app["id"]
    await give_credit(client, who, template_id(live, "application_accepted"))
    watch = await Watch(client, who).start()

    await act(client, await staff_headers(client, depts=("weijian",)), case["id"], "accept")
    told = await watch.told(platform_messages=1)

    (message,) = told.wechat
    assert message["data"]["character_string2"]["value"] == app["id"]  # the application number is the bundle's
    assert message["data"]["thing1"]["value"] == case["title"]  # the part that moved
    assert message["page"] == f"pages/applications/detail?id={app['id']}"
    (inbox_row,) = told.inbox
    assert inbox_row["ref"] == {"kind": "application", "id": app["id"]}
    r = await client.get(f"/api/v1/applications/{app['id']}", headers=who.headers)
    assert r.status_code == 200 and r.json()["sub_cases"]


async def test_a_double_click_and_a_replayed_event_send_nothing_twice(client, live, test_catalogue):
    who = await _applicant(client)
    app = await submit(client, who.tokens, await body_a(client, who.tokens))
    staff = await staff_headers(client)
    template = template_id(live, "application_accepted")
    assert await give_credit(client, who, template, times=2) == 2  # a second message would find a credit
    watch = await Watch(client, who).start()

    url = f"/api/v1/admin/applications/{app['id']}/actions"
    clicks = await asyncio.gather(*(client.post(url, json={"action": "accept"}, headers=staff) for _ in range(2)))
    assert sorted(r.status_code for r in clicks) == [200, 409]
    replay = await client.post(url, json={"action": "accept"}, headers=staff)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "invalid_transition"
    # The event told again, as a retried job would: its key is taken, nothing is written.
    case = await Application.get(id=app["id"])
    entry = await TimelineEntry.get(application_id=app["id"], action="accept")
    async with in_transaction():
        assert await moves.tell_applicant(case, top=case, to_status="accepted", note=None, at=entry.at,
                                          event_key=f"timeline:{entry.id}") is False
    told = await watch.told(platform_messages=2, timeout=2.0)  # waits the whole time for a second one

    assert (len(told.wechat), told.alipay, told.sms, len(told.inbox)) == (1, [], [], 1), told
    assert await credits_left(client, who, template) == 1

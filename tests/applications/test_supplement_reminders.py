"""The supplement reminder: while the clerk's clock is paused on the applicant, one warning when the supplement is
due within 2 working days (or today), once per case and due date, never for a case no longer waiting."""

from __future__ import annotations

import datetime as dt

from api.applications import supplements
from api.core import workdays
from tests.applications.conftest import staff_headers, upload
from tests.applications.helpers import act, body_a, submit
from tests.applications.messaging import Watch, person
from tests.factories import bearer, verified_citizen, wechat_login

ITEM = "测试居住登记"


async def test_one_warning_per_case_and_due_date_and_none_once_answered(client, live, test_catalogue):
    tokens, row = await verified_citizen(client)
    who = await person(tokens, row["phone"])
    staff = await staff_headers(client)
    due = workdays.today() + dt.timedelta(days=30)
    later_due = due + dt.timedelta(days=15)
    cases = {}
    for name, asked_due in (("waiting", due), ("answered", due), ("later", later_due)):
        cases[name] = (await submit(client, tokens, await body_a(client, tokens)))["id"]
        await act(client, staff, cases[name], "request_supplement", note="照片须为白底", materials=["M_PHOTO"],
                  supplement_due=asked_due.isoformat())
    r = await client.post(f"/api/v1/applications/{cases['answered']}/supplement", headers=who.headers, json={
        "materials": [{"material_code": "M_PHOTO", "file_id": (await upload(client, tokens))["file_id"]}]})
    assert r.status_code == 200 and r.json()["status"] == "supplemented"
    watch = await Watch(client, who).start()

    assert await supplements.warn_due_soon(today=due - dt.timedelta(days=10)) == {"due_soon": 0, "warned": 0}
    assert await supplements.warn_due_soon(today=due - dt.timedelta(days=1)) == {"due_soon": 1, "warned": 1}
    assert await supplements.warn_due_soon(today=due - dt.timedelta(days=1)) == {"due_soon": 1, "warned": 0}
    assert await supplements.warn_due_soon(today=due) == {"due_soon": 1, "warned": 0}  # the same due date
    told = await watch.told(platform_messages=1)

    # On WeChat without a credit: the reminder is important, so it goes by SMS.
    assert (told.wechat, told.alipay) == ([], [])
    assert [(m["template_code"], m["params"]) for m in told.sms] == [
        ("SMS_SUPPLEMENT_DUE_0001", {"item": ITEM, "due": due.isoformat()})]
    (reminder,) = told.inbox
    assert reminder["title"] == f"补正即将到期：{ITEM}"
    assert reminder["ref"] == {"kind": "application", "id": cases["waiting"]}
    assert due.isoformat() in reminder["body"] and "近期免冠照片：照片须为白底" in reminder["body"]
    stranger = await wechat_login(client)
    assert (await client.get(f"/api/v1/applications/{cases['waiting']}", headers=bearer(stranger))).status_code == 404

    # Asked again, with a new due date: a new reminder, along with the other case due that day.
    await act(client, staff, cases["answered"], "request_supplement", note="照片须为白底", materials=["M_PHOTO"],
              supplement_due=later_due.isoformat())
    watch = await Watch(client, who).start()
    assert await supplements.warn_due_soon(today=later_due) == {"due_soon": 2, "warned": 2}
    told = await watch.told(platform_messages=2)
    assert sorted(m["params"]["due"] for m in told.sms) == [later_due.isoformat()] * 2
    assert sorted(m["ref"]["id"] for m in told.inbox) == sorted([cases["answered"], cases["later"]])

"""The deadline scan: warning on the last working day, overdue after it, the department told once."""

import datetime as dt

from api.applications import staff as staff_service
from api.applications.models import Application
from api.core import workdays
from notifications.models import StaffNotice
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, submit
from tests.factories import verified_citizen


async def test_scan_marks_warning_and_overdue_and_tells_the_department_once(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    due_today = await submit(client, tokens, await body_a(client, tokens))
    late = await submit(client, tokens, await body_a(client, tokens))
    staff = await staff_headers(client)
    for app in (due_today, late):
        await act(client, staff, app["id"], "accept")
    today = workdays.today()
    await Application.filter(id=due_today["id"]).update(due_date=today)
    await Application.filter(id=late["id"]).update(due_date=today - dt.timedelta(days=1))
    await staff_service.scan_deadlines()
    await staff_service.scan_deadlines()  # a second run changes nothing and tells nobody again
    assert (await Application.get(id=due_today["id"])).sla_state == "warning"
    assert (await Application.get(id=late["id"])).sla_state == "overdue"
    assert await StaffNotice.filter(ref_id=due_today["id"]).count() == 1
    assert await StaffNotice.filter(ref_id=late["id"], dept="gongan").count() == 1
    queue = (await client.get("/api/v1/admin/applications?sla_state=overdue&limit=100", headers=staff)).json()
    assert late["id"] in [c["id"] for c in queue["items"]]
    notices = (await client.get("/api/v1/admin/notices", headers=staff)).json()["items"]
    assert any(n["ref"]["id"] == late["id"] for n in notices)


async def test_an_overdue_case_gives_its_department_one_notice_and_no_other_department_any(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))  # a gongan case
    own, other = await staff_headers(client), await staff_headers(client, depts=("weijian",))
    await act(client, own, app["id"], "accept")
    await Application.filter(id=app["id"]).update(due_date=workdays.today() - dt.timedelta(days=1))

    assert await staff_service.scan_deadlines() == {"changed": 1, "notified": 1}
    assert await staff_service.scan_deadlines() == {"changed": 0, "notified": 0}

    notices = (await client.get("/api/v1/admin/notices?limit=100", headers=own)).json()["items"]
    about = [n for n in notices if n["ref"] == {"kind": "application", "id": app["id"]}]
    assert len(about) == 1 and about[0]["dept"] == "gongan" and about[0]["title"] == "办件已超期：测试居住登记"
    theirs = (await client.get("/api/v1/admin/notices?limit=100", headers=other)).json()["items"]
    assert all(n["dept"] == "weijian" for n in theirs) and not any(n["ref"]["id"] == app["id"] for n in theirs)

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

"""The audit log read and exported by auditors: filters by actor, object, action and time; the CSV is the list's
rows; bad filters are 422; both are themselves audited."""

import csv
import datetime as dt
import io
import urllib.parse

from api.core.models import AuditLog
from tests.admin.helpers import new_staff, staff_login
from tests.factories import bearer

BEIJING = dt.timezone(dt.timedelta(hours=8))


async def _auditor(client) -> dict:
    return bearer((await staff_login(client, await new_staff(roles=("auditor",), depts=()))).json())


def _q(**params) -> str:
    return urllib.parse.urlencode(params)


async def test_the_export_holds_the_filtered_entries_of_the_list_and_is_audited(client):
    name = await new_staff()
    for _ in range(3):
        await staff_login(client, name, "wrong-password-1")
    auditor = await _auditor(client)
    since = (dt.datetime.now(BEIJING) - dt.timedelta(minutes=5)).isoformat()
    query = _q(action="admin.login.failed", actor_id=f"username:{name}", since=since)
    listed = await client.get(f"/api/v1/admin/audit-logs?{query}", headers=auditor)
    assert listed.status_code == 200 and len(listed.json()["items"]) == 3
    r = await client.get(f"/api/v1/admin/audit-logs.csv?{query}", headers=auditor)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [row["id"] for row in rows] == [item["id"] for item in listed.json()["items"]]
    assert all(row["created_at"].endswith("+08:00") and row["detail"] == '{"code": "invalid_credentials"}'
               for row in rows)
    export = await AuditLog.filter(action="admin.audit.export").order_by("-created_at").first()
    assert export.detail["filters"] == {"action": "admin.login.failed", "actor_id": f"username:{name}",
                                        "since": dt.datetime.fromisoformat(since).isoformat()}


async def test_a_time_window_narrows_and_a_bad_filter_is_a_422(client):
    name = await new_staff()
    await staff_login(client, name, "wrong-password-1")
    auditor = await _auditor(client)
    later = (dt.datetime.now(BEIJING) + dt.timedelta(minutes=1)).isoformat()
    for path in ("/api/v1/admin/audit-logs", "/api/v1/admin/audit-logs.csv"):
        r = await client.get(f"{path}?{_q(actor_id=f'username:{name}', since=later)}", headers=auditor)
        assert r.status_code == 200
        assert (r.json()["items"] == []) if path.endswith("logs") else (r.text.count("\n") == 1)
        r = await client.get(f"{path}?{_q(actor_id=f'username:{name}', until=later)}", headers=auditor)
        assert r.status_code == 200 and (len(r.json()["items"]) == 1 if path.endswith("logs")
                                         else r.text.count("\n") == 2)
        for bad in ({"since": "yesterday"}, {"since": "2026-11-30T10:00:00"}, {"until": "1999-12-31T00:00:00+08:00"}):
            r = await client.get(f"{path}?{_q(**bad)}", headers=auditor)
            assert r.status_code == 422 and set(r.json()["error"]["fields"]) == set(bad), r.text


async def test_only_auditors_and_super_admins_read_or_export_it(client):
    reviewer = bearer((await staff_login(client, await new_staff())).json())
    before = await AuditLog.filter(action="admin.audit.export").count()
    for path in ("/api/v1/admin/audit-logs", "/api/v1/admin/audit-logs.csv"):
        assert (await client.get(path, headers=reviewer)).status_code == 403
        assert (await client.get(path)).status_code == 401
    assert await AuditLog.filter(action="admin.audit.export").count() == before


async def test_a_time_window_given_in_utc_narrows_the_same(client):
    name = await new_staff()
    await staff_login(client, name, "wrong-password-1")
    auditor = await _auditor(client)
    now = dt.datetime.now(dt.timezone.utc)
    # The same moments as Beijing times, written in UTC ("Z"): on SQLite the stored times are Beijing text.
    before, after = now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=1)
    for window, expected in (({"since": before}, 1), ({"since": after}, 0), ({"until": after}, 1),
                             ({"until": before}, 0)):
        given = {k: v.isoformat().replace("+00:00", "Z") for k, v in window.items()}
        r = await client.get(f"/api/v1/admin/audit-logs?{_q(actor_id=f'username:{name}', **given)}", headers=auditor)
        assert r.status_code == 200 and len(r.json()["items"]) == expected, (given, r.text)

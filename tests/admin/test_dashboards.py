"""The staff console's dashboards of cases, SLA states and ratings: exact counts of known rows, Beijing days, and
each staff member's departments."""

import datetime as dt

from api.applications.models import Application
from api.core import workdays
from tests.admin.dashboard_helpers import beijing, case, dashboard, rating, rectification, staff
from tests.applications.helpers import body_a, submit
from tests.factories import bearer, verified_citizen

MARCH = {"from": "2026-03-01", "to": "2026-03-03"}
STATUSES = ["submitted", "supplement_requested", "supplemented", "accepted", "approved", "denied", "rejected",
            "withdrawn", "completed", "shipped", "delivered"]


def _counts(body: dict, key: str) -> dict:
    return {s[key]: s["counts"] for s in body["series"] if s["total"]}


async def test_cases_per_day_by_status_count_beijing_days_and_the_callers_departments(client):
    for _ in range(2):
        await case(at=beijing("2026-03-01"))
    await case(status="accepted", at=beijing("2026-03-01", 23, 30))  # 15:30 UTC: still the 1st in Beijing
    await case(status="completed", at=beijing("2026-03-02", 0, 30))  # 16:30 UTC on the 1st: the 2nd in Beijing
    await case(at=beijing("2026-02-28", 23, 59))
    await case(at=beijing("2026-03-04", 0, 0))
    await case(dept="weijian", at=beijing("2026-03-03"))
    parent = await case(dept=None, at=beijing("2026-03-02"))  # a bundle: its sub-case counts, the parent does not
    await case(parent_id=parent.id, at=beijing("2026-03-02"))
    late = await case()  # its time written in UTC, as an update writes it: 01:00 on the 3rd in Beijing
    await Application.filter(id=late.id).update(created_at=dt.datetime(2026, 3, 2, 17, tzinfo=dt.timezone.utc))

    body = await dashboard(client, "applications", await staff(client, "reviewer", ["gongan"]), **MARCH)
    assert (body["from"], body["to"], body["days"]) == ("2026-03-01", "2026-03-03",
                                                        ["2026-03-01", "2026-03-02", "2026-03-03"])
    assert [s["status"] for s in body["series"]] == STATUSES
    assert _counts(body, "status") == {"submitted": [2, 1, 1], "accepted": [1, 0, 0], "completed": [0, 1, 0]}
    assert body["total"] == 6
    for role in ("super_admin", "auditor"):
        body = await dashboard(client, "applications", await staff(client, role), **MARCH)
        assert _counts(body, "status") == {"submitted": [2, 1, 2], "accepted": [1, 0, 0], "completed": [0, 1, 0]}
        assert body["total"] == 7, role
    body = await dashboard(client, "applications", await staff(client, "reviewer", ["weijian"]), **MARCH)
    assert _counts(body, "status") == {"submitted": [0, 0, 1]} and body["total"] == 1


async def test_an_application_submitted_through_the_api_counts_today_by_default(client, test_catalogue):
    tokens, _ = await verified_citizen(client)
    await submit(client, tokens, await body_a(client, tokens))  # a gongan case
    body = await dashboard(client, "applications", await staff(client, "reviewer", ["gongan"]))
    today = workdays.today()
    assert body["to"] == today.isoformat() and body["from"] == (today - dt.timedelta(days=29)).isoformat()
    assert len(body["days"]) == 30 and body["days"][-1] == today.isoformat()
    assert _counts(body, "status") == {"submitted": [0] * 29 + [1]}
    assert (await dashboard(client, "applications", await staff(client, "reviewer", ["yibao"])))["total"] == 0


async def test_sla_shares_per_department_of_the_open_cases(client):
    at = beijing("2026-03-02")
    for state, status in (("on_track", "submitted"), ("on_track", "accepted"), ("warning", "accepted"),
                          ("overdue", "supplemented"), ("paused", "supplement_requested")):
        await case(status=status, sla_state=state, at=at)
    await case(status="completed", sla_state="overdue", at=at)  # decided: not open
    await case(status="accepted", sla_state="overdue", at=beijing("2026-02-27"))  # submitted before the range
    await case(dept="weijian", status="accepted", sla_state="overdue", at=at)

    body = await dashboard(client, "sla", await staff(client, "reviewer", ["gongan"]), **MARCH)
    assert (body["depts"], body["dept_names"], body["open"]) == (["gongan"], ["市公安局"], [5])
    assert {s["state"]: (s["counts"], s["shares"]) for s in body["series"]} == {
        "on_track": ([2], [0.4]), "warning": ([1], [0.2]), "overdue": ([1], [0.2]), "paused": ([1], [0.2])}
    body = await dashboard(client, "sla", await staff(client, "auditor"), **MARCH)
    assert (body["depts"], body["open"]) == (["gongan", "weijian"], [5, 1])
    overdue = next(s for s in body["series"] if s["state"] == "overdue")
    assert (overdue["counts"], overdue["shares"]) == ([1, 1], [0.2, 1.0])
    assert body["total"] == {"open": 6, "counts": {"on_track": 2, "warning": 1, "overdue": 2, "paused": 1},
                             "shares": {"on_track": 0.3333, "warning": 0.1667, "overdue": 0.3333, "paused": 0.1667}}
    # A department with no open case still has its place, with zero shares.
    body = await dashboard(client, "sla", await staff(client, "reviewer", ["yibao"]), **MARCH)
    assert (body["depts"], body["open"], body["total"]["open"]) == (["yibao"], [0], 0)
    assert all(s["counts"] == [0] and s["shares"] == [0.0] for s in body["series"])


async def test_ratings_by_score_and_day_and_the_open_rectifications(client):
    done = [await case(status="completed") for _ in range(4)]
    await rating(done[0], 5, beijing("2026-03-01"))
    await rating(done[1], 5, beijing("2026-03-03", 23, 59))
    await rating(done[2], 2, beijing("2026-03-02"))
    await rating(done[3], 1, beijing("2026-03-04"))  # after the range
    parent = await case(dept=None, status="completed")  # a bundle's rating counts for its sub-cases' departments
    await case(dept="weijian", status="completed", parent_id=parent.id)
    await rating(parent, 4, beijing("2026-03-02"))
    await rectification(done[2], dept="gongan")
    await rectification(done[3], dept="gongan", due=workdays.today() - dt.timedelta(days=1))
    await rectification(done[0], dept="gongan", status="closed")
    await rectification(parent, dept="weijian")

    body = await dashboard(client, "ratings", await staff(client, "reviewer", ["gongan"]), **MARCH)
    assert [(s["score"], s["level"]) for s in body["series"]] == [
        (1, "非常不满意"), (2, "不满意"), (3, "基本满意"), (4, "满意"), (5, "非常满意")]
    assert _counts(body, "score") == {2: [0, 1, 0], 5: [1, 0, 1]}
    assert (body["total"], body["average"], body["bad"]) == (3, 4.0, 1)
    assert body["rectifications"] == {"open": 2, "overdue": 1}
    body = await dashboard(client, "ratings", await staff(client, "reviewer", ["weijian"]), **MARCH)
    assert _counts(body, "score") == {4: [0, 1, 0]} and body["rectifications"] == {"open": 1, "overdue": 0}
    body = await dashboard(client, "ratings", await staff(client, "super_admin"), **MARCH)
    assert (body["total"], body["average"], body["bad"]) == (4, 4.0, 1)
    assert body["rectifications"] == {"open": 3, "overdue": 1}
    body = await dashboard(client, "ratings", await staff(client, "reviewer", ["yibao"]), **MARCH)
    assert (body["total"], body["average"], body["rectifications"]) == (0, None, {"open": 0, "overdue": 0})


async def test_who_may_read_the_case_dashboards(client):
    tokens, _ = await verified_citizen(client)
    writer = await staff(client, "policy_admin")
    for name in ("applications", "sla", "ratings", "certificates"):
        assert (await dashboard(client, name, writer, expect=403))["error"]["code"] == "forbidden"
        await dashboard(client, name, bearer(tokens), expect=401)
        await dashboard(client, name, {}, expect=401)

"""The clerk's queue: overdue undecided cases first, then every other case, each by due date; the cross-province
filter."""

import base64
import datetime as dt
import json

from tests.admin.dashboard_helpers import case, staff

QUEUE = "/api/v1/admin/applications"


async def _walk(client, headers, *, limit: int, **query) -> list[str]:
    """Every case id of the queue, page after page."""
    ids, cursor = [], None
    for _ in range(50):
        params = {**query, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = await client.get(QUEUE, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the queue never ended")


async def _cases() -> dict[str, str]:
    made = {
        "on_track": await case(status="submitted", due=dt.date(2026, 3, 5), cross_province=True),
        "overdue_2nd": await case(status="accepted", sla_state="overdue", due=dt.date(2026, 3, 2)),
        "overdue_1st": await case(status="supplemented", sla_state="overdue", due=dt.date(2026, 3, 1),
                                  cross_province=True),
        "decided_late": await case(status="completed", sla_state="overdue", due=dt.date(2026, 2, 20)),
        "warning": await case(status="accepted", sla_state="warning", due=dt.date(2026, 3, 3)),
        "same_day": await case(status="submitted", due=dt.date(2026, 3, 3)),
        "other_dept": await case(dept="weijian", status="accepted", sla_state="overdue", due=dt.date(2026, 3, 4)),
    }
    return {name: row.id for name, row in made.items()}


async def test_overdue_undecided_cases_come_first_then_all_by_due_date_on_every_page_size(client):
    ids = await _cases()
    same_day = sorted([ids["warning"], ids["same_day"]])
    clerk = await staff(client, "reviewer", ["gongan"])
    expected = [ids["overdue_1st"], ids["overdue_2nd"], ids["decided_late"], *same_day, ids["on_track"]]
    for limit in (1, 2, 3, 100):
        assert await _walk(client, clerk, limit=limit) == expected, limit
    boss = await staff(client, "super_admin")
    assert await _walk(client, boss, limit=2) == [ids["overdue_1st"], ids["overdue_2nd"], ids["other_dept"],
                                                  ids["decided_late"], *same_day, ids["on_track"]]
    assert await _walk(client, clerk, limit=2, status="accepted") == [ids["overdue_2nd"], ids["warning"]]


async def test_the_cross_province_filter(client):
    ids = await _cases()
    clerk = await staff(client, "reviewer", ["gongan"])
    for value in ("true", "TRUE", "1"):
        assert await _walk(client, clerk, limit=1, cross_province=value) == [ids["overdue_1st"], ids["on_track"]]
    same_day = sorted([ids["warning"], ids["same_day"]])
    assert await _walk(client, clerk, limit=2, cross_province="false") == [ids["overdue_2nd"], ids["decided_late"],
                                                                          *same_day]
    assert await _walk(client, clerk, limit=5, cross_province="true", sla_state="overdue") == [ids["overdue_1st"]]
    for bad in ("yes", "2", "true ", "false1"):
        r = await client.get(QUEUE, params={"cross_province": bad}, headers=clerk)
        assert r.status_code == 422 and list(r.json()["error"]["fields"]) == ["cross_province"], (bad, r.text)


async def test_a_cursor_naming_no_lane_is_422(client):
    clerk = await staff(client, "reviewer", ["gongan"])
    for lane in (2, 7):
        cursor = base64.urlsafe_b64encode(json.dumps({"lane": lane, "due_date": "2026-03-01", "id": "app_x"})
                                          .encode()).decode()
        r = await client.get(QUEUE, params={"cursor": cursor}, headers=clerk)
        assert r.status_code == 422 and list(r.json()["error"]["fields"]) == ["cursor"], r.text


async def test_openapi_documents_the_queue_filters_and_order(client):
    spec = (await client.get("/openapi.json")).json()
    route = spec["paths"][QUEUE]["get"]
    assert {"dept", "status", "sla_state", "cross_province"} <= {p["name"] for p in route["parameters"]}
    assert "已超期" in route["description"] and "到期日" in route["description"]

"""The working-day calendar: years an admin loads (route and command line), due dates across their holidays, and a
year nobody loaded refused loudly (submission 503, /readyz 503), never guessed as Monday to Friday."""

import asyncio
import copy
import datetime as dt
import json
import secrets
import time

import pytest

from api.admin import calendar
from api.admin.models import WorkCalendarYear
from api.applications.models import Application
from api.catalog import service as catalog_service
from api.core import workdays
from api.core.models import AuditLog, IdempotencyRecord
from notifications.models import InboxMessage
from tests.applications.catalogue_fixture import CATALOGUE
from tests.applications.conftest import staff_headers
from tests.applications.helpers import body_a
from tests.core.test_cli import _run as run_cli
from tests.factories import bearer, verified_citizen

CALENDAR = "/api/v1/admin/calendar"
DAY = dt.timedelta(days=1)


def _year_with_october_first_on_a_wednesday() -> int:
    """A year well past any the session loads whose October falls as in 2031 (the dates below are 2031's)."""
    year = workdays.today().year + 3
    while dt.date(year, 10, 1).weekday() != 2:
        year += 1
    return year


def _national_day(year: int) -> dict:
    """A notice of the 2031 shape: 1-7 October off (Wednesday to Tuesday), Sunday 28 September and Saturday
    11 October worked, and New Year's Day."""
    holidays = [dt.date(year, 1, 1)] + [dt.date(year, 10, d) for d in range(1, 8)]
    return {"source": f"测试：{year} 年国庆节安排", "days": [
        *({"date": d.isoformat(), "kind": "holiday", "name": "国庆节" if d.month == 10 else "元旦"} for d in holidays),
        {"date": f"{year}-09-28", "kind": "workday", "name": "国庆节调休上班"},
        {"date": f"{year}-10-11", "kind": "workday", "name": "国庆节调休上班"}]}


def _new_years_day_only(year: int) -> dict:
    return {"source": f"测试：{year} 年", "days": [{"date": f"{year}-01-01", "kind": "holiday", "name": "元旦"}]}


async def _boss(client) -> dict:
    return await staff_headers(client, roles=("super_admin",), depts=())


async def test_a_year_loaded_through_the_route_counts_its_holidays_and_make_up_days(client):
    year = _year_with_october_first_on_a_wednesday()
    boss = await _boss(client)
    with pytest.raises(workdays.CalendarMissing):
        workdays.add_working_days(dt.date(year, 9, 30), 5)
    assert (await client.get(f"{CALENDAR}/{year}", headers=boss)).status_code == 404

    r = await client.put(f"{CALENDAR}/{year}", json=_national_day(year), headers=boss)
    assert r.status_code == 200, r.text
    loaded = r.json()
    assert (loaded["year"], loaded["origin"], loaded["holidays"], loaded["workdays"]) == (year, "loaded", 8, 2)
    assert loaded["days"][0] == {"date": f"{year}-01-01", "kind": "holiday", "name": "元旦"}

    # Tuesday 30 September + 5: 8, 9, 10, Saturday 11 (worked), 13 October.
    assert workdays.add_working_days(dt.date(year, 9, 30), 5) == dt.date(year, 10, 13)
    assert workdays.add_working_days(dt.date(year, 9, 26), 1) == dt.date(year, 9, 28)  # Friday → the worked Sunday
    assert workdays.working_days_between(dt.date(year, 9, 30), dt.date(year, 10, 13)) == 5
    assert not workdays.is_working_day(dt.date(year, 1, 1))
    with pytest.raises(workdays.CalendarMissing) as missing:  # the year after is still nobody's
        workdays.add_working_days(dt.date(year, 12, 29), 5)
    assert missing.value.year == year + 1

    years = (await client.get(CALENDAR, headers=await staff_headers(client))).json()  # any staff member reads it
    entry = next(y for y in years["items"] if y["year"] == year)
    assert entry["origin"] == "loaded" and entry["source"] == f"测试：{year} 年国庆节安排"
    assert entry["loaded_by"] == loaded["loaded_by"] and entry["loaded_by"].startswith("adm_")
    assert (await client.get(f"{CALENDAR}/{year}", headers=boss)).json()["days"] == loaded["days"]
    audit = await AuditLog.get(action="admin.calendar.load", target_id=str(year))
    assert audit.actor_id == loaded["loaded_by"] and audit.detail["holidays"] == 8 and audit.detail["before"] is None

    # Loaded again, the year is replaced whole: the October holidays are gone.
    r = await client.put(f"{CALENDAR}/{year}", json=_new_years_day_only(year), headers=boss)
    assert r.status_code == 200 and r.json()["holidays"] == 1
    assert workdays.add_working_days(dt.date(year, 9, 30), 5) == dt.date(year, 10, 7)
    audits = await AuditLog.filter(action="admin.calendar.load", target_id=str(year)).order_by("created_at")
    assert [a.detail["before"] for a in audits] == [None, {"source": f"测试：{year} 年国庆节安排", "holidays": 8,
                                                           "workdays": 2}]


async def test_the_built_in_years_are_listed_and_read_in_the_load_format(client):
    boss = await _boss(client)
    years = (await client.get(CALENDAR, headers=boss)).json()
    builtin = {y["year"]: y for y in years["items"] if y["origin"] == "builtin"}
    assert set(builtin) == set(range(workdays.BUILTIN_FIRST_YEAR, workdays.BUILTIN_LAST_YEAR + 1))
    assert all(y["source"] == workdays.BUILTIN_SOURCE and y["holidays"] > 0 for y in builtin.values())
    assert years["missing"] == [] and years["horizon_working_days"] == 20  # the test catalogue's longest limit
    r = await client.get(f"{CALENDAR}/{workdays.BUILTIN_LAST_YEAR}", headers=boss)
    assert r.status_code == 200
    days = r.json()["days"]
    assert {"date": f"{workdays.BUILTIN_LAST_YEAR}-01-01", "kind": "holiday", "name": "元旦"} in days
    assert any(d["kind"] == "workday" for d in days)
    assert (await client.get(f"{CALENDAR}/2099", headers=boss)).status_code == 404
    assert (await client.get(f"{CALENDAR}/{'9' * 40}", headers=boss)).status_code == 404
    assert (await client.get(f"{CALENDAR}/abc", headers=boss)).status_code == 404
    assert (await client.get(CALENDAR)).status_code == 401


async def test_a_bad_calendar_is_refused_and_changes_nothing(client):
    year = _year_with_october_first_on_a_wednesday()
    boss = await _boss(client)
    good = _national_day(year)
    cases = [
        ({**good, "days": [*good["days"], {"date": f"{year + 1}-01-01", "kind": "holiday", "name": "元旦"}]},
         "days.10.date"),  # another year's day
        ({**good, "days": [*good["days"], {"date": f"{year}-10-01", "kind": "holiday", "name": "国庆节"}]},
         "days.10.date"),  # twice
        ({**good, "days": [*good["days"], {"date": f"{year}-10-13", "kind": "workday", "name": "周一"}]},
         "days.10.date"),  # a make-up working day on a Monday
        ({**good, "days": [d for d in good["days"] if d["kind"] == "workday"]}, "days"),  # no holiday at all
        ({**good, "year": year + 1}, "year"),
        ({**good, "days": []}, "days"),
        ({**good, "source": ""}, "source"),
        ({"days": good["days"]}, "source"),
        ({**good, "days": [{"date": f"{year}-02-30", "kind": "holiday", "name": "x"}]}, "days.0.date"),
        ({**good, "days": [{"date": f"{year}-01-01", "kind": "rest", "name": "元旦"}]}, "days.0.kind"),
    ]
    for body, field in cases:
        r = await client.put(f"{CALENDAR}/{year}", json=body, headers=boss)
        assert r.status_code == 422, (field, r.text)
        assert field in r.json()["error"]["fields"], (field, r.json())
    r = await client.put(f"{CALENDAR}/1999", json=_new_years_day_only(1999), headers=boss)
    assert r.status_code == 422 and "year" in r.json()["error"]["fields"]
    for headers in (await staff_headers(client), await staff_headers(client, roles=("auditor",), depts=())):
        assert (await client.put(f"{CALENDAR}/{year}", json=good, headers=headers)).status_code == 403
    assert (await client.put(f"{CALENDAR}/{year}", json=good)).status_code == 401

    assert not await WorkCalendarYear.filter(year=year).exists()
    assert not await AuditLog.filter(action="admin.calendar.load").exists()
    assert not workdays.year_known(year)


async def _long_limit_catalogue(redis) -> None:
    """The test catalogue with ITEM_A's limits at 365 working days: a due date reaches more than a year ahead."""
    data = copy.deepcopy(CATALOGUE)
    item = next(i for i in data["items"] if i["code"] == "T00000000001")
    item["legal_days"] = item["promised_days"] = 365
    await catalog_service.load_catalogue(data=data, redis=redis)
    catalog_service._checked_at = 0.0  # this process reads the new version now, not in two seconds
    await calendar.update_horizon(redis=redis)


async def _only_built_in_years() -> None:
    await WorkCalendarYear.all().delete()
    await calendar.refresh()


def _first_missing(after: dt.date) -> int:
    return max(workdays.BUILTIN_LAST_YEAR + 1, after.year)


async def test_a_due_date_in_a_year_nobody_loaded_is_503_and_writes_nothing_until_the_year_is_loaded(client, redis):
    await _long_limit_catalogue(redis)
    await _only_built_in_years()
    boss = await _boss(client)
    tokens, _ = await verified_citizen(client)
    body = await body_a(client, tokens)
    headers = {**bearer(tokens), "Idempotency-Key": secrets.token_hex(12)}

    year = _first_missing(workdays.today() + DAY)
    for _ in range(3):  # 365 working days from today reach two or three years: each is named until loaded
        r = await client.post("/api/v1/applications", json=body, headers=headers)
        if r.status_code != 503:
            break
        error = r.json()["error"]
        assert error["code"] == "calendar_missing" and str(year) in error["message"], r.text
        assert r.headers["Retry-After"] == "3600"
        assert not await Application.exists() and not await IdempotencyRecord.exists()
        assert not await InboxMessage.exists()
        loaded = await client.put(f"{CALENDAR}/{year}", json=_new_years_day_only(year), headers=boss)
        assert loaded.status_code == 200, loaded.text
        year += 1
    assert r.status_code == 201, r.text
    assert r.json()["due_date"] == workdays.add_working_days(workdays.today(), 365).isoformat()
    again = await client.post("/api/v1/applications", json=body, headers=headers)  # the same key: the same case
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    assert await Application.filter(parent_id=None).count() == 1


async def test_readyz_names_the_year_the_horizon_needs_until_it_is_loaded(client, redis):
    await _long_limit_catalogue(redis)
    await _only_built_in_years()
    boss = await _boss(client)
    today = workdays.today()
    year = today.year if not workdays.year_known(today.year) else workdays.BUILTIN_LAST_YEAR + 1
    for _ in range(3):
        r = await client.get("/readyz")
        if r.json()["checks"]["calendar"] == "ok":
            break
        assert r.json()["checks"]["calendar"] == f"missing {year}", r.text
        # Today's own year missing takes the process out of service; a later one is said, and served through.
        ready = year != today.year
        assert r.status_code == (200 if ready else 503) and r.json()["checks"]["database"] == "ok"
        assert r.json()["status"] == ("ready" if ready else "not_ready")
        listed = (await client.get(CALENDAR, headers=boss)).json()
        assert listed["missing"] == [year] and listed["horizon_working_days"] == 365
        assert (await client.put(f"{CALENDAR}/{year}", json=_new_years_day_only(year), headers=boss)).status_code == 200
        year += 1
    assert r.status_code == 200 and r.json()["checks"]["calendar"] == "ok"


async def test_a_due_date_skips_holidays_loaded_over_this_years_built_in_ones(client):
    today = workdays.today()
    ahead = [d for d in (today + DAY * n for n in range(1, 15)) if d.weekday() < 5][:3]
    new_years = {dt.date(y, 1, 1) for y in (today.year, today.year + 1)}
    holidays = set(ahead) | new_years
    makeup = next(d for d in (ahead[-1] + DAY * n for n in range(1, 15)) if d.weekday() == 5 and d not in holidays)
    boss = await _boss(client)
    for year in sorted({today.year, (today + DAY * 40).year}):
        days = [{"date": d.isoformat(), "kind": "holiday", "name": "测试假日"}
                for d in sorted(holidays) if d.year == year]
        if makeup.year == year:
            days.append({"date": makeup.isoformat(), "kind": "workday", "name": "测试调休上班"})
        r = await client.put(f"{CALENDAR}/{year}", json={"source": "测试", "days": days}, headers=boss)
        assert r.status_code == 200, r.text

    def works(day: dt.date) -> bool:
        return day == makeup or (day.weekday() < 5 and day not in holidays)

    expected, left = today, 5
    while left:
        expected += DAY
        left -= works(expected)
    tokens, _ = await verified_citizen(client)
    r = await client.post("/api/v1/applications", json=await body_a(client, tokens),
                          headers={**bearer(tokens), "Idempotency-Key": secrets.token_hex(12)})
    assert r.status_code == 201, r.text
    assert r.json()["due_date"] == expected.isoformat()


async def test_the_command_line_loads_a_year_every_process_picks_up(live, tmp_path):
    year = _year_with_october_first_on_a_wednesday()
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps({"year": year, **_national_day(year)}, ensure_ascii=False), encoding="utf-8")
    code, out, err = await run_cli(live, "load-calendar", str(path))
    assert code == 0, err
    assert json.loads(out) == {"year": year, "created": True, "holidays": 8, "workdays": 2,
                               "source": f"测试：{year} 年国庆节安排"}
    # Another process wrote it: this one installs it at its next look (every few seconds), without a restart.
    deadline = time.monotonic() + 3 * calendar.RECHECK_SECONDS
    while not workdays.year_known(year) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert workdays.add_working_days(dt.date(year, 9, 30), 5) == dt.date(year, 10, 13)
    assert await AuditLog.exists(action="admin.calendar.load", actor_type="system", actor_id="cli",
                                 target_id=str(year))

    bad = {"year": year, "source": "错的", "days": [{"date": f"{year}-10-13", "kind": "workday", "name": "周一"}]}
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    code, _, err = await run_cli(live, "load-calendar", str(path))
    assert code == 2 and "days.0.date" in err and "days" in err
    assert (await WorkCalendarYear.get(year=year)).source == f"测试：{year} 年国庆节安排"


async def test_loads_of_one_year_at_once_leave_one_year_and_an_audit_row_per_load_that_landed(client):
    year = _year_with_october_first_on_a_wednesday()
    boss = await _boss(client)
    answers = await asyncio.gather(*(client.put(f"{CALENDAR}/{year}", json=_national_day(year), headers=boss)
                                     for _ in range(4)))
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 409} and 200 in statuses, [r.text for r in answers]
    assert all(r.json()["error"]["code"] == "calendar_load_conflict" for r in answers if r.status_code == 409)
    assert await WorkCalendarYear.filter(year=year).count() == 1
    assert await AuditLog.filter(action="admin.calendar.load").count() == statuses.count(200)
    assert workdays.add_working_days(dt.date(year, 9, 30), 5) == dt.date(year, 10, 13)

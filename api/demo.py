"""Demo data for `make run`: synthetic people (Faker zh_CN, valid id numbers) and a staff account."""

from __future__ import annotations

import random

from faker import Faker

from api.admin import calendar
from api.admin import service as admin_service
from api.admin.schemas import CalendarLoad
from api.catalog import loader
from api.citizens import idnumber, registry
from api.core import workdays
from api.core.settings import Settings

DEMO_ADMIN = ("admin", "demo-admin-2026")
DEMO_REVIEWER = ("reviewer", "demo-reviewer-2026", ("gongan", "weijian", "yibao", "renshe"))
DEMO_PERSON = {"id_number": "110101199003074477", "name": "张三", "phone": "13800138000"}


def synthetic_people(count: int, *, seed: int = 2026) -> list[dict]:
    """`count` synthetic population rows, the same ones on every run."""
    fake = Faker("zh_CN")
    Faker.seed(seed)
    rnd = random.Random(seed)
    rows = [{**DEMO_PERSON, "gender": "男", "birth_date": "1990-03-07", "hukou_region": "110101",
             "address": "北京市东城区东华门街道 1 号"}]
    while len(rows) < count:
        id_number = fake.ssn(min_age=1, max_age=95)
        if not idnumber.is_valid(id_number):
            continue
        rows.append({
            "id_number": id_number, "name": fake.name(), "gender": idnumber.gender(id_number),
            "birth_date": idnumber.birth_date(id_number).isoformat(),
            "phone": f"1{rnd.choice('3456789')}{rnd.randrange(10**9):09d}",
            "hukou_region": id_number[:6], "address": fake.address(),
        })
    return rows


async def seed(settings: Settings, *, people: int = 200) -> None:
    """Fill the population registry and create the demo admin; print how to log in."""
    report = await registry.import_population(synthetic_people(people))
    # The demo person's cards, so their one-person code (GET /api/v1/codes/me) shows every scene.
    idn = DEMO_PERSON["id_number"]
    await registry.import_rows("health_card", [{"id_number": idn, "health_card_no": "HC110101900307"}])
    await registry.import_rows("transit", [{"id_number": idn, "ride_account": "RA0101900307", "standing": "good"}])
    await registry.import_rows("social_insurance", [{"id_number": idn, "card_no": "SS110101900307",
                                                     "status": "正常参保", "insured_since": "2012-07-01"}])
    catalogue = await loader.load_file(settings=settings)
    placeholders = await _placeholder_calendar_years()
    await admin_service.create_or_update(username=DEMO_REVIEWER[0], password=DEMO_REVIEWER[1], roles=["reviewer"],
                                         depts=list(DEMO_REVIEWER[2]))
    await admin_service.create_or_update(username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], roles=["super_admin"],
                                         depts=[])
    base = settings.public_base_url
    print(f"population: {report.inserted} inserted, {report.updated} updated")
    print(f"catalogue: {catalogue['items']} items, {catalogue['bundles']} bundles ({base}/api/v1/items?q=出生)")
    if placeholders:
        print(f"working days of {', '.join(map(str, placeholders))}: a demo placeholder (New Year's Day only, not the "
              "State Council's notice); production loads the notice: python server.py load-calendar FILE")
    print(f"admin: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  (POST {base}/api/v1/admin/auth/login)")
    print(f"reviewer: {DEMO_REVIEWER[0]} / {DEMO_REVIEWER[1]}  (departments: {', '.join(DEMO_REVIEWER[2])})")
    print("WeChat login through the sandbox:")
    print(f"  curl -s -XPOST {base}/sandbox/wechat/codes -d '{{\"phone\": \"{DEMO_PERSON['phone']}\"}}'")
    print(f"  curl -s -XPOST {base}/api/v1/auth/wechat/login "
          "-d '{\"code\": \"<code>\", \"phone_code\": \"<phone_code>\"}'")
    print(f"Real name for the demo person: {DEMO_PERSON['name']} {DEMO_PERSON['id_number']}"
          f" (POST {base}/api/v1/me/real-name)")


async def _placeholder_calendar_years() -> list[int]:
    """The years past the built-in calendar through next year that no one loaded get a placeholder for the demo:
    New Year's Day alone (the one holiday the law fixes to a date), so that a demo application due in January is
    not refused. Clearly labelled, never over a loaded year, and seed-demo refuses production."""
    await calendar.refresh()  # the years loaded already, read from the database
    known = set(workdays.loaded_years())
    years = [y for y in range(workdays.BUILTIN_LAST_YEAR + 1, workdays.today().year + 2) if y not in known]
    for year in years:
        await calendar.load_year(year=year, body=CalendarLoad(
            source="演示数据：仅元旦（并非国务院通知，生产环境须导入正式通知）",
            days=[{"date": f"{year}-01-01", "kind": "holiday", "name": "元旦"}]))
    return years

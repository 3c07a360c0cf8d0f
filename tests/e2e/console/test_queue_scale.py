"""The clerk's queue with 10,000 cases: the queue page and a case page are usable in under a second.

One case is submitted through the API (an upload, a pledge, a deferral); 9,999 more of the same department are
written beside it in bulk, with due dates and SLA states spread as a real queue's are. The clerk then works in the
browser: open the queue, filter it, page on, open a case. Each time is from the click (or the address typed) until
the answer is on screen; the figures are written to test-output/console/timings.json (speed proper is
bench/console_queue.py's, through the API).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import statistics
import time

from api.applications.models import Application
from tests.admin.helpers import new_staff
from tests.applications.helpers import body_a, submit
from tests.e2e.console.conftest import SHOTS, login, shoot
from tests.factories import verified_citizen

CASES = 10_000
# The goal is under 1 s (the note gives the figures of a quiet machine); the suite runs beside other tests on two
# cores, so the test fails only past twice that: a queue read whole or a page that waits on the wrong thing.
LIMIT_SECONDS = 2.0
SLA_STATES = ("on_track",) * 6 + ("warning", "overdue", "paused")


async def _fill_queue(client) -> str:
    """The one real case's id, after 9,999 copies of it (other ids, dates and states) joined it."""
    tokens, _ = await verified_citizen(client)
    case_id = (await submit(client, tokens, await body_a(client, tokens)))["id"]
    real = await Application.get(id=case_id)
    fields = {f: getattr(real, f) for f in real._meta.fields_db_projection if f not in ("id", "parent_id")}
    today = dt.date.today()
    rows = []
    for i in range(CASES - 1):
        state = SLA_STATES[i % len(SLA_STATES)]
        rows.append(Application(**{**fields, "id": f"app_{secrets.token_hex(10)}", "sla_state": state,
                                   "status": "accepted" if i % 3 else "submitted",
                                   "due_date": today + dt.timedelta(days=(i % 40) - (10 if state == "overdue" else 0)),
                                   "cross_province": i % 5 == 0}))
    await Application.bulk_create(rows, batch_size=1000)
    assert await Application.filter(dept=real.dept).count() == CASES
    return case_id


async def _seconds(page, action, selector: str) -> float:
    started = time.perf_counter()
    await action()
    await page.wait_for_selector(selector, state="visible")
    return time.perf_counter() - started


async def _home(page) -> None:
    await page.goto("/console/#/")
    await page.wait_for_selector("[data-test=menu-queue]")


async def test_queue_and_case_pages_answer_within_a_second_with_ten_thousand_cases(client, page):
    case_id = await _fill_queue(client)
    clerk = await new_staff(roles=("reviewer",), depts=("gongan",))
    await login(page, clerk)
    times: dict[str, list[float]] = {"queue (menu)": [], "queue (page load)": [], "next page": [],
                                     "case (click)": [], "case (page load)": []}
    for _ in range(3):
        await _home(page)
        times["queue (menu)"].append(await _seconds(page, lambda: page.click("[data-test=menu-queue]"),
                                                    "[data-test=case-row]"))
        first = await page.locator("[data-test=case-row]").first.get_attribute("data-id")
        times["next page"].append(await _seconds(
            page, lambda: page.click("[data-test=page-next]"),
            f"[data-test=case-row]:not([data-id='{first}'])"))
        times["case (click)"].append(await _seconds(page, lambda: page.locator("[data-test=case-row]").first.click(),
                                                    "[data-test=case-title]"))
        # A fresh load of the page's address (the browser's cache holds the assets, as at a clerk's desk).
        await page.goto("about:blank")
        times["queue (page load)"].append(await _seconds(page, lambda: page.goto("/console/#/cases"),
                                                         "[data-test=case-row]"))
        await page.goto("about:blank")
        times["case (page load)"].append(await _seconds(page, lambda: page.goto(f"/console/#/cases/{case_id}"),
                                                        "[data-test=case-title]"))
    await page.goto("/console/#/cases")
    await page.wait_for_selector("[data-test=case-row]")
    await shoot(page, "queue-10000")
    assert await page.locator("[data-test=case-row]").count() <= 50  # paged on the server
    medians = {k: round(statistics.median(v), 3) for k, v in times.items() if v}
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "timings.json").write_text(json.dumps({"cases": CASES, "median_seconds": medians, "runs": times},
                                                   ensure_ascii=False, indent=2))
    print("console timings with", CASES, "cases (median s):", medians)
    slow = {k: v for k, v in medians.items() if v >= LIMIT_SECONDS}
    assert not slow, f"slower than {LIMIT_SECONDS}s: {slow}"
    assert not page.errors

"""The dashboards in a real browser: seven ECharts cards for a super admin with the figures the API gives, and each
other role sees only the cards the API lets it read (a 403 hides the card)."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import expect

from api.core import workdays
from tests.admin.dashboard_helpers import DASHBOARDS, beijing, case, certificate, messages, rating, rectification, scans
from tests.admin.helpers import new_staff, staff_login
from tests.e2e.console.conftest import login, shoot
from tests.factories import bearer, registered_person
from tests.policies.helpers import create_policy, fresh_region, publish, rule_for, wait_for

# Nothing wider than the 1366-pixel office screen: the page never scrolls sideways.
NO_SIDEWAYS = "() => [...document.querySelectorAll('.el-main, body')].every(e => e.scrollWidth <= e.clientWidth)"


async def _seed(client, headers: dict) -> None:
    """A little of everything each dashboard counts, today (Beijing)."""
    today = workdays.today().isoformat()
    for status in ("submitted", "accepted", "submitted"):
        await case(dept="gongan", status=status, at=beijing(today, 9))
    await case(dept="minzheng", status="submitted", at=beijing(today, 10), sla_state="overdue")
    for score in (5, 4, 1):  # one rating per case
        done = await case(dept="gongan", status="completed", at=beijing(today, 8))
        await rating(done, score, beijing(today, 11))
    await rectification(done, dept="gongan")
    await certificate("HUKOU", "gongan", issued_at=beijing(today, 9))
    await certificate("RESIDENCE", "gongan", issued_at=beijing(today, 10))
    for hour, count in ((8, 3), (9, 6), (12, 2), (17, 5)):
        await scans("transit", beijing(today, hour), count)
        await scans("service", beijing(today, hour + 1), count // 2 + 1)
    for channel, status, count, reason in (("wechat", "sent", 5, None), ("alipay", "sent", 2, None),
                                           ("wechat", "skipped", 1, "no_consent"), ("sms", "sent", 3, None),
                                           ("sms", "failed", 1, "bad_recipient"), ("inbox", "delivered", 8, None),
                                           ("sms", "sent", 1, "settled"), ("sms", "uncertain", 1, "told_in_inbox")):
        await messages(channel, status, beijing(today, 10), count, reason=reason)
    region = fresh_region()
    for _ in range(2):
        await registered_person(hukou_region=region)
    policy = await create_policy(client, headers, rule=rule_for(region), channels=("sms",), title="看板测试政策")
    await wait_for(client, headers, await publish(client, headers, policy["id"]))


async def _staff(client, roles, depts=()) -> tuple[str, dict]:
    name = await new_staff(roles=roles, depts=depts)
    return name, bearer((await staff_login(client, name)).json())


async def _cards(page) -> set[str]:
    return {name for name in DASHBOARDS if await page.locator(f"[data-test=dash-{name}]").count()}


async def test_a_super_admin_sees_every_chart_with_the_figures_of_the_api(page, client):
    name, headers = await _staff(client, ("super_admin",))
    await _seed(client, headers)
    await login(page, name)
    await page.click("[data-test=menu-dashboards]")
    for dashboard in DASHBOARDS:
        await expect(page.locator(f"[data-test=chart-{dashboard}] canvas").first).to_be_visible()
    assert await _cards(page) == set(DASHBOARDS)

    answers = {}
    for dashboard in DASHBOARDS:
        r = await client.get(f"/api/v1/admin/dashboards/{dashboard}", headers=headers)
        assert r.status_code == 200, r.text
        answers[dashboard] = r.json()
    assert answers["applications"]["total"] >= 4 and answers["scans"]["total"] > 0
    assert answers["messages"]["total"] >= 22 and answers["messages"]["told_in_inbox_only"] >= 1
    for dashboard in ("applications", "certificates", "scans", "messages"):
        await expect(page.locator(f"[data-test=dash-{dashboard}-total]")).to_have_text(str(answers[dashboard]["total"]))
    await expect(page.locator("[data-test=dash-ratings-bad]")).to_have_text(str(answers["ratings"]["bad"]))
    await expect(page.locator("[data-test=dash-ratings-open]")).to_have_text(
        str(answers["ratings"]["rectifications"]["open"]))
    await expect(page.locator("[data-test=dash-sla-open]")).to_have_text(str(answers["sla"]["total"]["open"]))
    await expect(page.locator("[data-test=dash-campaigns-count]")).to_have_text(str(len(answers["campaigns"]["items"])))
    nowhere = str(answers["messages"]["told_nowhere"])
    await expect(page.locator("[data-test=dash-messages-nowhere]")).to_have_text(nowhere)
    await expect(page.locator(".el-loading-mask")).to_have_count(0)
    await page.wait_for_timeout(600)  # the charts' entry animation
    assert await page.evaluate(NO_SIDEWAYS)
    await shoot(page, "dashboards")
    await page.locator(".el-main").evaluate("e => e.scrollTo(0, e.scrollHeight)")
    await page.wait_for_timeout(300)
    await shoot(page, "dashboards-bottom")

    # A range with none of today's rows: the page asks the API again and shows its zero.
    first = (workdays.today() - dt.timedelta(days=60)).isoformat()
    last = (workdays.today() - dt.timedelta(days=31)).isoformat()
    inputs = page.locator("[data-test=dash-range] input")
    await inputs.nth(0).fill(first)
    await inputs.nth(1).fill(last)
    await inputs.nth(1).press("Enter")
    await expect(page.locator("[data-test=dash-applications-total]")).to_have_text("0")
    await expect(page.locator("[data-test=dash-scans-total]")).to_have_text("0")
    assert not page.errors


async def test_a_reviewer_sees_only_the_charts_its_role_may_read(page, client):
    name, headers = await _staff(client, ("reviewer",), ("gongan",))
    await login(page, name)
    await page.click("[data-test=menu-dashboards]")
    for dashboard in ("applications", "sla", "ratings", "certificates"):
        await expect(page.locator(f"[data-test=chart-{dashboard}] canvas").first).to_be_visible()
    await expect(page.locator("[data-test=dash-scans]")).to_have_count(0)
    await expect(page.locator("[data-test=dash-campaigns]")).to_have_count(0)
    assert await _cards(page) == {"applications", "sla", "ratings", "certificates"}
    for dashboard, status in (("scans", 403), ("campaigns", 403), ("messages", 403), ("applications", 200)):
        r = await client.get(f"/api/v1/admin/dashboards/{dashboard}", headers=headers)
        assert r.status_code == status, (dashboard, r.text)
    await expect(page.locator("[data-test=menu-policies]")).to_have_count(0)
    await expect(page.locator(".el-loading-mask")).to_have_count(0)
    assert await page.evaluate(NO_SIDEWAYS)
    await shoot(page, "dashboards-reviewer")
    assert not page.errors


async def test_a_policy_admin_sees_only_the_campaign_funnels_and_the_messages(page, client):
    name, _ = await _staff(client, ("policy_admin",))
    await login(page, name)
    await page.click("[data-test=menu-dashboards]")
    await expect(page.locator("[data-test=chart-campaigns] canvas").first).to_be_visible()
    await expect(page.locator("[data-test=dash-applications]")).to_have_count(0)
    await expect(page.locator("[data-test=chart-messages] canvas").first).to_be_visible()
    assert await _cards(page) == {"campaigns", "messages"}
    assert not page.errors

"""Two controls the other browser tests do not reach: a maker cancels the campaign that waits for a second admin, and
a super admin unlocks an account the lock-out closed."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.admin.helpers import PASSWORD, new_staff, staff_login
from tests.e2e.console.conftest import login
from tests.factories import bearer, registered_person
from tests.policies.helpers import create_policy, fresh_region, maker_checker, rule_for


async def test_the_maker_cancels_a_campaign_waiting_for_approval_and_nothing_is_sent(page, client, live):
    region = fresh_region()
    for _ in range(3):
        await registered_person(name="王五", born="19500301", hukou_region=region)
    maker = await new_staff(roles=("policy_admin",), depts=())
    headers = bearer((await staff_login(client, maker)).json())
    policy = await create_policy(client, headers, rule=rule_for(region), channels=("sms",),
                                 title="取消待批测试")
    with maker_checker(live, 2):
        await login(page, maker)
        await page.goto(f"/console/#/policies/{policy['id']}")
        await page.click("[data-test=policy-publish]")
        await page.click("[data-test=publish-confirm]")
        await page.wait_for_url(re.compile(r".*#/campaigns/cmp_[A-Za-z0-9_-]+$"))
        campaign_id = page.url.rsplit("/", 1)[1]
        status = page.locator("[data-test=campaign-status]")
        await expect(status).to_have_attribute("data-status", "awaiting_approval")
        await expect(page.locator("[data-test=campaign-pause]")).to_have_count(0)  # nothing runs yet
        await page.click("[data-test=campaign-cancel]")
        await page.locator(".el-message-box__btns .el-button--primary").click()
        await expect(status).to_have_attribute("data-status", "cancelled")
        await expect(page.locator("[data-test=campaign-cancel]")).to_have_count(0)
    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=headers)).json()
    assert figures["status"] == "cancelled" and not figures["granted"], figures
    assert (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=headers)).json()["status"] == "draft"
    assert not page.errors


async def test_a_super_admin_unlocks_an_account_the_lock_out_closed(page, new_page, client):
    clerk = await new_staff(roles=("reviewer",))
    for _ in range(5):
        assert (await staff_login(client, clerk, "not-the-password-at-all")).status_code == 401
    assert (await staff_login(client, clerk)).status_code == 423
    await login(page, await new_staff(roles=("super_admin",), depts=()))
    await page.click("[data-test=menu-staff]")
    row = page.locator(f"[data-test=staff-row][data-username='{clerk}']")
    await expect(row.locator("[data-test=staff-unlock]")).to_be_visible()
    await row.locator("[data-test=staff-unlock]").click()
    await expect(row.locator("[data-test=staff-unlock]")).to_have_count(0)
    theirs = await new_page()
    await login(theirs, clerk, PASSWORD)
    await expect(theirs.locator("[data-test=menu-queue]")).to_be_visible()
    assert not page.errors

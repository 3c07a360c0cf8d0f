"""The console's shell: login, the lock-out, menus by role, a role change taking effect at once, logout."""

from playwright.async_api import expect

from api.admin import service as admin_service
from tests.admin.helpers import new_staff
from tests.e2e.console.conftest import login, shoot

MENUS = ("queue", "certificates", "policies", "campaigns", "imports", "staff", "terminals", "audit", "dashboards")


async def _menus(page) -> set[str]:
    return {m for m in MENUS if await page.locator(f"[data-test=menu-{m}]").count()}


async def test_a_reviewer_sees_the_case_menus_and_no_policy_menu(page):
    name = await new_staff(roles=("reviewer",), depts=("gongan",))
    await login(page, name)
    assert await _menus(page) == {"queue", "certificates", "dashboards"}
    await expect(page.locator("[data-test=who]")).to_contain_text(name)
    await page.goto("/console/#/policies")  # typed by hand: the guard sends a reviewer home
    await expect(page.locator("[data-test=menu-policies]")).to_have_count(0)
    await page.wait_for_url("**/console/#/")
    assert not page.errors


async def test_a_super_admin_sees_every_menu(page):
    name = await new_staff(roles=("super_admin",), depts=())
    await login(page, name)
    assert await _menus(page) == set(MENUS)
    await shoot(page, "home-super-admin")


async def test_a_wrong_password_is_refused_and_five_lock_the_account(page):
    name = await new_staff(roles=("reviewer",))
    await page.goto("/console/")
    await page.fill("[data-test=username]", name)
    for _ in range(5):
        await page.fill("[data-test=password]", "not-the-password-at-all")
        await page.click("[data-test=login]")
        await expect(page.locator(".el-alert")).to_be_visible()
    await page.fill("[data-test=password]", "correct-horse-battery")
    await page.click("[data-test=login]")
    await expect(page.locator(".el-alert")).to_contain_text("锁定")
    await expect(page.locator("[data-test=menu]")).to_have_count(0)


async def test_a_role_change_takes_effect_at_the_next_page(page):
    name = await new_staff(roles=("policy_admin",), depts=())
    await login(page, name)
    assert "policies" in await _menus(page)
    await admin_service.create_or_update(username=name, password="correct-horse-battery", roles=["reviewer"],
                                         depts=["gongan"])
    await page.click("[data-test=menu-dashboards]")
    await expect(page.locator("[data-test=menu-policies]")).to_have_count(0)
    await expect(page.locator("[data-test=menu-queue]")).to_have_count(1)


async def test_logout_ends_the_session(page):
    name = await new_staff(roles=("reviewer",))
    await login(page, name)
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('gov-console-session')).access")
    await page.click("[data-test=logout]")
    await page.wait_for_selector("[data-test=login]")
    status = await page.evaluate("""async (t) => (await fetch('/api/v1/admin/me',
        {headers: {Authorization: 'Bearer ' + t}})).status""", token)
    assert status == 401

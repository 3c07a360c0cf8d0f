"""The super admin's pages in a real browser: staff accounts (create, the new account signs in, disable ends its
session), scanning terminals (the secret shown once), the audit log (filters, CSV export)."""

import re
import secrets

from playwright.async_api import expect

from tests.admin.helpers import PASSWORD, new_staff
from tests.applications.conftest import staff_headers
from tests.e2e.console.conftest import login, shoot


async def test_super_admin_creates_an_account_that_signs_in_then_disables_it(page, new_page, client):
    admin = await new_staff(roles=("super_admin",), depts=())
    await login(page, admin)
    await page.click("[data-test=menu-staff]")
    await page.click("[data-test=staff-create]")
    name = f"a_clerk_{secrets.token_hex(3)}"  # sorts before the other tests' staff_* accounts
    await page.fill("[data-test=staff-username]", name)
    await page.fill("[data-test=staff-password]", "short")
    await page.click("[data-test=staff-roles] [data-role=reviewer]")
    await page.click("[data-test=staff-depts]")
    await page.click(".el-select-dropdown__item:has-text('gongan')")
    await page.keyboard.press("Escape")
    await page.click("[data-test=staff-save]")
    await expect(page.locator(".el-message--error")).to_be_visible()  # the API's password rule, in Chinese
    await expect(page.locator("[data-test=staff-dialog]")).to_contain_text("12")
    await page.fill("[data-test=staff-password]", PASSWORD)
    await page.click("[data-test=staff-save]")
    row = page.locator(f"[data-test=staff-row][data-username='{name}']")
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("审核人员")
    await expect(row.locator("[data-test=staff-state]")).to_have_text("在用")
    await shoot(page, "staff")

    theirs = await new_page()
    await login(theirs, name)
    await expect(theirs.locator("[data-test=menu-queue]")).to_be_visible()

    await row.locator("[data-test=staff-disable]").click()
    await page.click(".el-message-box .el-button--primary")
    await expect(row.locator("[data-test=staff-state]")).to_have_text("已停用")
    listed = (await client.get("/api/v1/admin/staff", params={"disabled": "true", "limit": 100},
                               headers=await staff_headers(client, roles=("super_admin",), depts=()))).json()
    assert name in [s["username"] for s in listed["items"]]
    # The disabled account's next page load is refused: back to the login page.
    await theirs.click("[data-test=menu-certificates]")
    await theirs.wait_for_selector("[data-test=login]")
    await expect(theirs.locator("[data-test=menu]")).to_have_count(0)
    assert not page.errors


async def test_super_admin_registers_a_terminal_and_sees_its_secret_once(page, client):
    await login(page, await new_staff(roles=("super_admin",), depts=()))
    await page.click("[data-test=menu-terminals]")
    await page.click("[data-test=terminal-register]")
    label = f"市民中心闸机 {secrets.token_hex(2)}"
    await page.fill("[data-test=terminal-name]", label)
    await page.click("[data-test=terminal-scene] .el-radio:has-text('公共交通')")
    await page.click("[data-test=terminal-dept]")
    await page.click(".el-select-dropdown__item:has-text('gongan')")
    await page.click("[data-test=terminal-save]")
    dialog = page.locator("[data-test=terminal-secret-dialog]")
    await expect(dialog).to_contain_text("只显示这一次")
    secret = (await page.locator("[data-test=terminal-secret]").inner_text()).strip()
    terminal_id = (await page.locator("[data-test=terminal-new-id]").inner_text()).strip()
    assert len(secret) >= 20
    await shoot(page, "terminal-secret")
    await page.click("[data-test=terminal-secret-close]")
    row = page.locator(f"[data-test=terminal-row][data-id='{terminal_id}']")
    await expect(row).to_contain_text(label)
    await expect(row).to_contain_text("公共交通")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_text(secret)).to_have_count(0)  # gone with the dialog
    assert secret not in await page.content()
    await shoot(page, "terminals")
    # The secret works for the terminal, and no list shows it again.
    headers = await staff_headers(client, roles=("super_admin",), depts=())
    listed = (await client.get("/api/v1/admin/terminals", params={"limit": 100}, headers=headers)).json()["items"]
    mine = next(t for t in listed if t["terminal_id"] == terminal_id)
    assert mine["secret"] is None and mine["scene"] == "transit"
    r = await client.post("/api/v1/scan", json={"payload": "x", "scene": "transit"},
                          headers={"Authorization": f"Terminal {terminal_id}:{secret}"})
    wrong = await client.post("/api/v1/scan", json={"payload": "x", "scene": "transit"},
                              headers={"Authorization": f"Terminal {terminal_id}:{secret[:-2]}xx"})
    assert r.status_code != 401 and wrong.status_code == 401
    await row.locator("[data-test=terminal-disable]").click()
    await page.click(".el-message-box .el-button--primary")
    await expect(row.locator("[data-test=terminal-status]")).to_have_text("已停用")
    r = await client.post("/api/v1/scan", json={"payload": "x", "scene": "transit"},
                          headers={"Authorization": f"Terminal {terminal_id}:{secret}"})
    assert r.status_code in (401, 403)


async def test_super_admin_filters_the_audit_log_and_exports_it(page, client):
    admin = await new_staff(roles=("super_admin",), depts=())
    headers = await staff_headers(client, roles=("super_admin",), depts=())
    made = f"a_audit_{secrets.token_hex(3)}"
    r = await client.post("/api/v1/admin/staff", headers=headers,
                          json={"username": made, "password": PASSWORD, "roles": ["auditor"], "depts": []})
    assert r.status_code == 201, r.text
    await login(page, admin)
    await page.click("[data-test=menu-audit]")
    await expect(page.locator("[data-test=audit-table] .el-table__row").first).to_be_visible()
    await page.click("[data-test=audit-action]")
    await page.keyboard.type("admin.staff.create")
    await page.click(".el-select-dropdown__item:has-text('新建账号')")
    await page.fill("[data-test=audit-target-id]", r.json()["id"])
    await page.click("[data-test=audit-apply]")
    await page.wait_for_url(re.compile(r"action=admin\.staff\.create"))
    rows = page.locator("[data-test=audit-table] .el-table__row")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(made)
    await expect(rows.first.locator("[data-test=audit-row-action]")).to_have_attribute("data-action",
                                                                                         "admin.staff.create")
    await shoot(page, "audit-log")
    async with page.expect_download() as info:
        await page.click("[data-test=audit-export]")
    text = (await (await info.value).path()).read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 2 and made in lines[1] and "admin.staff.create" in lines[1]
    # The export itself is audited with its filters.
    exports = (await client.get("/api/v1/admin/audit-logs", params={"action": "admin.audit.export"},
                                headers=headers)).json()["items"]
    assert exports[0]["detail"]["filters"]["action"] == "admin.staff.create"
    assert not page.errors

"""Certificate review in a real browser: a pending request in the department's queue, approved, issued; the holder
sees the issued certificate through the API."""

import secrets

from playwright.async_api import expect

from tests.admin.helpers import new_staff
from tests.e2e.console.conftest import login, shoot
from tests.factories import bearer, verified_citizen


async def _pending(client):
    tokens, _ = await verified_citizen(client, name="赵六", hukou_region="430104")
    r = await client.post("/api/v1/certificates", json={"type_code": "NO_CRIMINAL_RECORD", "purpose": "就业"},
                          headers={**bearer(tokens), "Idempotency-Key": secrets.token_hex(12)})
    assert r.status_code == 201 and r.json()["status"] == "pending_review", r.text
    return tokens, r.json()


async def test_a_reviewer_approves_a_pending_certificate_and_the_holder_gets_it(page, client):
    tokens, cert = await _pending(client)
    clerk = await new_staff(roles=("reviewer",), depts=("gongan",))
    await login(page, clerk)
    await page.click("[data-test=menu-certificates]")
    row = page.locator(f"[data-test=cert-row][data-id='{cert['id']}']")
    await expect(row).to_be_visible()
    await expect(row).to_contain_text("无犯罪记录证明")
    await shoot(page, "certificate-queue")
    await row.click()
    await expect(page.locator("[data-test=cert-status]")).to_have_text("待审核")
    await expect(page.locator("[data-test=cert-holder]")).to_contain_text("赵*")
    await expect(page.locator("[data-test=cert-facts]")).to_contain_text("公民身份号码")
    await expect(page.locator("[data-test=action-revoke]")).to_have_count(0)
    await shoot(page, "certificate-review")
    await page.click("[data-test=action-approve]")
    await page.fill("[data-test=cert-note]", "经核查无犯罪记录")
    await page.click("[data-test=cert-confirm]")
    await expect(page.locator("[data-test=cert-status]")).to_have_text("已出具")
    await expect(page.locator("[data-test=action-approve]")).to_have_count(0)
    await expect(page.locator("[data-test=action-revoke]")).to_be_visible()
    mine = (await client.get(f"/api/v1/certificates/{cert['id']}", headers=bearer(tokens))).json()
    assert mine["status"] == "issued" and mine["verify_url"] and mine["reason"] == "经核查无犯罪记录"
    # Off the waiting list.
    await page.goto("/console/#/certificates")
    await expect(page.locator("[data-test=cert-queue]")).to_be_visible()
    await expect(page.locator(f"[data-test=cert-row][data-id='{cert['id']}']")).to_have_count(0)
    assert not page.errors


async def test_a_rejection_needs_a_reason_and_another_department_sees_nothing(page, new_page, client):
    tokens, cert = await _pending(client)
    outsider = await new_staff(roles=("reviewer",), depts=("minzheng",))
    await login(page, outsider)
    await page.goto(f"/console/#/certificates/{cert['id']}")
    await expect(page.locator("[data-test=cert-not-found]")).to_be_visible()
    clerk_page = await new_page()
    await login(clerk_page, await new_staff(roles=("reviewer",), depts=("gongan",)))
    await clerk_page.goto(f"/console/#/certificates/{cert['id']}")
    await clerk_page.click("[data-test=action-reject]")
    await clerk_page.click("[data-test=cert-confirm]")
    await expect(clerk_page.locator(".el-message--warning")).to_contain_text("理由")
    await clerk_page.fill("[data-test=cert-note]", "申请材料与登记不符")
    await clerk_page.click("[data-test=cert-confirm]")
    await expect(clerk_page.locator("[data-test=cert-status]")).to_have_text("未通过")
    mine = (await client.get(f"/api/v1/certificates/{cert['id']}", headers=bearer(tokens))).json()
    assert mine["status"] == "rejected" and mine["reason"] == "申请材料与登记不符"

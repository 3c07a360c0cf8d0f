"""The clerk's pages in a real browser: the queue of their departments, a case with its material shown inline, a
supplement request the citizen then sees; another department's clerk sees neither the case nor its material."""

import io
import re

from playwright.async_api import expect
from reportlab.pdfgen import canvas

from api.applications.models import Application
from tests.admin.helpers import new_staff
from tests.applications.conftest import staff_headers, upload
from tests.applications.helpers import body_a, submit
from tests.e2e.console.conftest import login, shoot
from tests.factories import bearer, verified_citizen


def _pdf() -> bytes:
    """A one-page PDF with something on it, as a scanned identity card would be."""
    out = io.BytesIO()
    sheet = canvas.Canvas(out, pagesize=(420, 260))
    sheet.setTitle("ID card")
    sheet.rect(20, 20, 380, 220)
    sheet.setFont("Helvetica", 18)
    sheet.drawString(40, 200, "RESIDENT IDENTITY CARD (TEST)")
    sheet.drawString(40, 160, "No. 110***********123X")
    sheet.showPage()
    sheet.save()
    return out.getvalue()


async def _case(client) -> tuple[dict, str]:
    """A citizen's fresh application to 公安 (ITEM_A: an uploaded PDF, a pledge, a deferral); tokens and case id."""
    tokens, _ = await verified_citizen(client, name="王小明")
    body = await body_a(client, tokens)
    body["materials"][0]["file_id"] = (await upload(client, tokens, data=_pdf(), name="身份证.pdf"))["file_id"]
    case = await submit(client, tokens, body)
    return tokens, case["id"]


async def _token(page) -> str:
    return await page.evaluate("JSON.parse(sessionStorage.getItem('gov-console-session')).access")


async def test_a_clerk_opens_a_case_views_its_pdf_and_asks_for_a_supplement_the_citizen_sees(page, client):
    tokens, case_id = await _case(client)
    clerk = await new_staff(roles=("reviewer",), depts=("gongan",))
    await login(page, clerk)
    await page.click("[data-test=menu-queue]")
    row = page.locator(f"[data-test=case-row][data-id='{case_id}']")
    await expect(row).to_be_visible()
    await expect(row.locator("[data-test=case-applicant]")).to_have_text("王**")  # masked
    await shoot(page, "queue")
    await row.click()
    await expect(page.locator("[data-test=case-title]")).to_have_text("测试居住登记")
    await expect(page.locator("[data-test=case-status]")).to_have_text("已提交")
    # The pledge and the deferral are marked; the applicant is masked until the audited reveal.
    await expect(page.locator("[data-test=material][data-code=M_RESIDENCE_PROOF] [data-test=tag-commitment]")
                 ).to_be_visible()
    deferred = page.locator("[data-test=material][data-code=M_PHOTO] [data-test=tag-deferred]")
    await expect(deferred).to_contain_text("容缺")
    await expect(page.locator("[data-test=applicant-name]")).to_have_text("王**")
    await expect(page.locator("[data-test=case-form] [data-field=applicant_name]")).to_have_text("王**")
    # Only the moves the API allows are offered.
    buttons = await page.locator("[data-test=case-actions] button").evaluate_all(
        "bs => bs.map(b => b.dataset.test)")
    allowed = (await client.get(f"/api/v1/admin/applications/{case_id}",
                                headers=await staff_headers(client, depts=("gongan",)))).json()["allowed_actions"]
    assert buttons == [f"action-{a}" for a in allowed] and "action-approve" not in buttons

    auditor = await staff_headers(client, roles=("auditor",), depts=())
    reads = {"action": "application.material.read", "target_id": case_id}
    assert (await client.get("/api/v1/admin/audit-logs", params=reads, headers=auditor)).json()["items"] == []
    await page.click("[data-test=material][data-code=M_ID_CARD] [data-test=view-material]")
    frame = page.locator("[data-test=material-frame]")
    await expect(frame).to_have_attribute("src", re.compile(r"^blob:"))
    logged = (await client.get("/api/v1/admin/audit-logs", params=reads, headers=auditor)).json()["items"]
    assert len(logged) == 1 and logged[0]["detail"] == {"material_code": "M_ID_CARD"}
    await page.wait_for_timeout(800)  # the PDF viewer draws the page
    await shoot(page, "case")

    await page.click("[data-test=reveal-applicant]")
    await page.click(".el-message-box .el-button--primary")
    await expect(page.locator("[data-test=applicant-name]")).to_have_text("王小明")
    await expect(page.locator("[data-test=case-form] [data-field=applicant_name]")).to_have_text("王小明")
    revealed = {"action": "application.applicant.reveal", "target_id": case_id}
    assert len((await client.get("/api/v1/admin/audit-logs", params=revealed, headers=auditor)).json()["items"]) == 1

    await page.click("[data-test=action-request_supplement]")
    dialog = page.locator(".el-dialog[data-test=action-dialog], [data-test=action-dialog]").first
    await expect(dialog).to_be_visible()
    await page.click("[data-test=action-confirm]")  # nothing chosen, no note: refused in the page
    await expect(page.locator("[data-test=action-dialog] .el-alert")).to_be_visible()
    await page.click("[data-test=supplement-material][data-code=M_PHOTO]")
    await page.fill("[data-test=action-note]", "照片不清晰，请重新上传近期免冠照片")
    await page.click("[data-test=action-confirm]")
    await expect(page.locator("[data-test=case-status]")).to_have_text("待补正")
    await expect(page.locator("[data-test=case-supplement]")).to_contain_text("照片不清晰")
    await expect(page.locator("[data-test=action-request_supplement]")).to_have_count(0)

    mine = (await client.get(f"/api/v1/applications/{case_id}", headers=bearer(tokens))).json()
    assert mine["status"] == "supplement_requested"
    assert mine["supplement"]["materials"] == ["M_PHOTO"] and "照片不清晰" in mine["supplement"]["what"]
    assert not page.errors


async def test_another_departments_clerk_sees_neither_the_case_nor_its_material(page, client):
    _, case_id = await _case(client)
    outsider = await new_staff(roles=("reviewer",), depts=("weijian",))
    await login(page, outsider)
    await page.click("[data-test=menu-queue]")
    await expect(page.locator("[data-test=queue-empty]")).to_be_visible()
    await expect(page.locator(f"[data-test=case-row][data-id='{case_id}']")).to_have_count(0)
    await page.goto(f"/console/#/cases/{case_id}")
    await expect(page.locator("[data-test=case-not-found]")).to_be_visible()
    await expect(page.locator("[data-test=case-title]")).to_have_count(0)
    status = await page.evaluate("""async ([id, t]) => (await fetch(
        `/api/v1/admin/applications/${id}/materials/M_ID_CARD/file`,
        {headers: {Authorization: 'Bearer ' + t}})).status""",
                                 [case_id, await _token(page)])
    assert status == 404


async def test_the_queue_colours_overdue_and_warning_cases_and_filters_by_sla_state(page, client):
    _, late = await _case(client)
    _, soon = await _case(client)
    _, fine = await _case(client)
    await Application.filter(id=late).update(sla_state="overdue")
    await Application.filter(id=soon).update(sla_state="warning")
    clerk = await new_staff(roles=("reviewer",), depts=("gongan",))
    await login(page, clerk)
    await page.goto("/console/#/cases")
    await expect(page.locator(f"[data-test=case-row][data-id='{late}']")).to_have_class(re.compile("row-overdue"))
    await expect(page.locator(f"[data-test=case-row][data-id='{soon}']")).to_have_class(re.compile("row-warning"))
    await expect(page.locator(f"[data-test=case-row][data-id='{fine}']")).to_have_class(re.compile("row-on_track"))
    ids = await page.locator("[data-test=case-row]").evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert ids[0] == late  # the overdue undecided case first
    await Application.filter(id=fine).update(cross_province=True)
    await page.click("[data-test=filter-cross]")
    await page.click(".el-select-dropdown__item:has-text('仅跨省通办')")
    await page.click("[data-test=filter-apply]")
    await expect(page.locator("[data-test=case-row]")).to_have_count(1)
    await expect(page.locator(f"[data-test=case-row][data-id='{fine}']")).to_contain_text("跨省")
    await page.goto("/console/#/cases")
    await expect(page.locator(f"[data-test=case-row][data-id='{late}']")).to_be_visible()
    await page.click("[data-test=filter-sla]")
    await page.click(".el-select-dropdown__item:has-text('已超期')")
    await page.click("[data-test=filter-apply]")
    await expect(page.locator(f"[data-test=case-row][data-id='{soon}']")).to_have_count(0)
    await expect(page.locator(f"[data-test=case-row][data-id='{late}']")).to_be_visible()
    slas = await page.locator("[data-test=case-row]").evaluate_all("rs => rs.map(r => r.dataset.sla)")
    assert set(slas) == {"overdue"}
    assert "sla_state=overdue" in page.url

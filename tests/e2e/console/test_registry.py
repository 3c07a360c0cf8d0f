"""Registry imports in a real browser: a CSV with a bad row is uploaded, its progress followed to the end, the
rejected row shown with its file line number and downloadable; the API holds the same."""

import re

from playwright.async_api import expect

from tests.admin.helpers import new_staff
from tests.applications.conftest import staff_headers
from tests.e2e.console.conftest import login, shoot
from tests.factories import random_id_number, random_phone

NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊")
HEADER = "id_number,name,gender,birth_date,phone,hukou_region,address"


def _csv(bad_line: int, rows: int = 6) -> tuple[bytes, str]:
    """A population CSV of `rows` data rows whose file line `bad_line` (the header is line 1) has an id number with
    a wrong check digit; the CSV and that id number."""
    lines = [HEADER]
    bad = None
    for n in range(2, rows + 2):
        number = random_id_number()
        if n == bad_line:
            bad = number[:-1] + ("1" if number[-1] != "1" else "2")
            number = bad
        lines.append(f"{number},{NAMES[n % len(NAMES)]},,,{random_phone()},430104,长沙市岳麓区测试路 {n} 号")
    return ("\n".join(lines) + "\n").encode(), bad


async def test_an_import_with_a_bad_row_shows_the_rejection_with_its_line_number(page, client, tmp_path):
    data, bad = _csv(bad_line=4)
    path = tmp_path / "population.csv"
    path.write_bytes(data)
    admin = await new_staff(roles=("policy_admin",), depts=())
    await login(page, admin)
    await page.click("[data-test=menu-imports]")
    await expect(page.locator("[data-test=import-upload]")).to_be_disabled()
    await page.set_input_files("[data-test=import-file]", str(path))
    await expect(page.locator("[data-test=import-file-name]")).to_contain_text("population.csv")
    await page.click("[data-test=import-upload]")
    await expect(page.locator("[data-test=import-status]")).to_have_text("已完成")
    await expect(page.locator("[data-test=import-progress]")).to_have_attribute("aria-valuenow", "100")
    await expect(page.locator("[data-test=import-rejected]")).to_have_text("1")
    table = page.locator("[data-test=rejections] .el-table__body")
    await expect(table.locator("tr")).to_have_count(1)
    await expect(table.locator("tr td").first).to_have_text("4")
    await expect(table).to_contain_text("身份证号")
    assert bad not in await page.content()  # the id number masked
    await expect(page.locator("[data-test=import-file-name]")).to_have_text("未选择文件")
    await shoot(page, "imports")

    async with page.expect_download() as info:
        await page.click("[data-test=rejections-download]")
    download = await info.value
    text = (await download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[1].startswith("4,") and bad not in text

    job_id = (await page.locator("[data-test=import-job] .card-head .muted").inner_text()).strip()
    headers = await staff_headers(client, roles=("policy_admin",), depts=())
    job = (await client.get(f"/api/v1/admin/imports/{job_id}", headers=headers)).json()
    assert (job["status"], job["inserted"] + job["updated"], job["rejected"]) == ("completed", 5, 1)
    rejected = (await client.get(f"/api/v1/admin/imports/{job_id}/rejections", headers=headers)).json()["items"]
    assert [r["line"] for r in rejected] == [4]
    # The recent imports list has it too.
    await expect(page.locator("[data-test=imports]")).to_contain_text(job_id)
    assert not page.errors


async def test_a_file_that_is_not_a_csv_of_the_dataset_is_refused_with_the_apis_message(page, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    await login(page, await new_staff(roles=("super_admin",), depts=()))
    await page.goto("/console/#/imports")
    await page.set_input_files("[data-test=import-file]", str(path))
    await page.click("[data-test=import-upload]")
    await expect(page.locator(".el-message--error")).to_contain_text(re.compile("表头|列"))
    await expect(page.locator("[data-test=import-status]")).to_have_count(0)

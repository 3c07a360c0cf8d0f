"""The policy admin's pages in a real browser: a rule built without JSON, its live audience and one person checked,
publishing through the confirmation dialog to a completed campaign, maker-checker approval by a second admin, and a
published policy edited into version 2."""

from __future__ import annotations

import json
import re

from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import expect

from api.admin.models import AdminAccount
from tests.admin.helpers import new_staff, staff_login
from tests.e2e.console.conftest import login, shoot
from tests.factories import bearer, registered_person
from tests.policies.helpers import create_policy, fresh_region, maker_checker, publish, rule_for, wait_for

# Nothing wider than the 1366-pixel office screen: the page never scrolls sideways.
NO_SIDEWAYS = "() => [...document.querySelectorAll('.el-main, body')].every(e => e.scrollWidth <= e.clientWidth)"

CAMPAIGN_TIMEOUT = 60_000


async def _admin(client) -> tuple[str, dict]:
    """A fresh policy admin: username and API headers."""
    name = await new_staff(roles=("policy_admin",), depts=())
    return name, bearer((await staff_login(client, name)).json())


async def _pick(page, select, option: str) -> None:
    """Chooses `option` in an Element Plus select (its dropdown lives at the end of <body>)."""
    item = page.locator(".el-select-dropdown__item:visible", has_text=re.compile(f"^{re.escape(option)}$"))
    for _ in range(3):  # a dropdown opened while another one closes may close again: open it once more
        await select.click()
        try:
            await item.click(timeout=3000)
            return
        except PlaywrightTimeout:
            await page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option}")


def _value(condition):
    """The value input of a rule condition (on Element Plus inputs data-test lands on the <input>, on a number input
    on its wrapper)."""
    return condition.locator("input[data-test=cond-value], [data-test=cond-value] input").first


async def _people(region: str, *, old: int, young: int) -> tuple[list[str], list[str]]:
    """People registered in `region`: `old` born in 1950, `young` in 2000; their id numbers."""
    olds = [(await registered_person(name="王五", born="19500301", hukou_region=region))["id_number"]
            for _ in range(old)]
    youngs = [(await registered_person(name="赵六", born="20000301", hukou_region=region))["id_number"]
              for _ in range(young)]
    return olds, youngs


async def test_an_admin_builds_a_rule_sees_the_audience_checks_a_person_and_publishes_to_completion(page, client):
    region = fresh_region()
    olds, youngs = await _people(region, old=3, young=2)
    name, headers = await _admin(client)
    await login(page, name)
    await page.click("[data-test=menu-policies]")
    await page.click("[data-test=policy-new]")
    await page.fill("[data-test=policy-title]", "浏览器测试高龄津贴")
    await page.fill("[data-test=policy-summary]", "60 周岁以上老人按月发放津贴")
    await page.fill("[data-test=policy-body]", "依据省民政厅通知，符合条件的老人免申即享。")
    for channel in ("wechat", "alipay", "inbox", "sms"):  # from wechat+alipay+inbox to sms alone
        await page.click(f"[data-test=channel-{channel}]")

    # The rule, picked from the attribute catalogue: no JSON typed.
    conditions = page.locator("[data-test=rule-condition]")
    await _pick(page, conditions.nth(0).locator("[data-test=cond-field]"), "户籍所在地（行政区划代码）")
    await _pick(page, conditions.nth(0).locator("[data-test=cond-op]"), "等于")
    await _value(conditions.nth(0)).fill(region)
    await expect(page.locator("[data-test=audience-count]")).to_have_text("5")
    await page.click("[data-test=add-condition]")
    await _pick(page, conditions.nth(1).locator("[data-test=cond-field]"), "年龄（周岁）")
    await _pick(page, conditions.nth(1).locator("[data-test=cond-op]"), "大于或等于")
    await _value(conditions.nth(1)).fill("60")
    await _value(conditions.nth(1)).blur()
    await expect(page.locator("[data-test=audience-count]")).to_have_text(str(len(olds)))
    await expect(page.locator("[data-test=audience-sample] tbody tr")).to_have_count(len(olds))
    sample = await page.locator("[data-test=audience-sample]").inner_text()
    assert all(i not in sample for i in olds) and "*" in sample  # masked as the API gives it

    # Check one person: the calculator's reasons, condition by condition.
    await page.fill("input[data-test=check-id]", olds[0])
    await page.click("[data-test=check-run]")
    await expect(page.locator("[data-test=check-eligible]")).to_have_text("符合")
    await expect(page.locator("[data-test=reason-passed]")).to_have_count(2)
    await page.fill("input[data-test=check-id]", youngs[0])
    await page.click("[data-test=check-run]")
    await expect(page.locator("[data-test=check-eligible]")).to_have_text("不符合")
    await expect(page.locator("[data-test=reason-failed]")).to_have_count(1)
    assert youngs[0] not in await page.locator("[data-test=check-result]").inner_text()
    assert await page.evaluate(NO_SIDEWAYS)
    await shoot(page, "policy-editor")
    expected = {"all": [{"field": "hukou_region", "op": "=", "value": region},
                        {"field": "age", "op": ">=", "value": 60}]}
    await page.locator(".rule-tabs .el-tabs__item", has_text="JSON").click()
    shown = page.locator("textarea[data-test=rule-json], [data-test=rule-json] textarea").first
    assert json.loads(await shown.input_value()) == expected
    await page.locator(".rule-tabs .el-tabs__item", has_text="构建器").click()

    await page.click("[data-test=policy-save]")
    await page.wait_for_url(re.compile(r".*#/policies/pol_[A-Za-z0-9_-]+$"))
    policy_id = page.url.rsplit("/", 1)[1]
    saved = (await client.get(f"/api/v1/admin/policies/{policy_id}", headers=headers)).json()
    assert saved["rule"] == expected, saved["rule"]
    assert (saved["status"], saved["channels"], saved["title"]) == ("draft", ["sms"], "浏览器测试高龄津贴")
    await expect(page.locator("[data-test=policy-status]")).to_have_text("草稿")

    await page.click("[data-test=policy-publish]")
    dialog = page.locator("[data-test=publish-dialog]")
    await expect(dialog.locator("[data-test=publish-audience]")).to_have_text(str(len(olds)))
    await expect(dialog.locator("[data-test=publish-channels]")).to_have_text("短信")
    await expect(dialog.locator("[data-test=publish-needs-approval]")).to_have_count(0)
    await page.click("[data-test=publish-confirm]")
    await page.wait_for_url(re.compile(r".*#/campaigns/cmp_[A-Za-z0-9_-]+$"))
    campaign_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("[data-test=campaign-status]")).to_have_attribute("data-status", "completed",
                                                                                timeout=CAMPAIGN_TIMEOUT)
    figures = (await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=headers)).json()
    assert figures["policy_id"] == policy_id and figures["matched"] == len(olds) == figures["granted"]
    assert figures["sent"]["total"] + figures["delivered"]["total"] == len(olds), figures
    await expect(page.locator("[data-test=stat-matched] .stat-value")).to_have_text(str(len(olds)))
    await expect(page.locator("[data-test=stat-sent] .stat-value")).to_have_text(str(len(olds)))
    await expect(page.locator("[data-test=channel-row-sms]")).to_have_count(1)
    for key, figure in (("settled", "uncertain_settled"), ("uncertain", "uncertain"),
                        ("inbox-only", "told_in_inbox_only"), ("held", "inbox_held"), ("expired", "expired")):
        await expect(page.locator(f"[data-test=settle-{key}]")).to_have_text(str(figures[figure]))
    await expect(page.locator("[data-test=campaign-progress]")).to_have_attribute("aria-valuenow", "100")
    await expect(page.locator("[data-test=campaign-pause], [data-test=campaign-cancel]")).to_have_count(0)
    await page.wait_for_timeout(800)  # the progress bar's fill animation
    assert await page.evaluate(NO_SIDEWAYS)
    await shoot(page, "campaign-completed")

    # Two more policies, so that the list shows each status.
    await create_policy(client, headers, rule=rule_for(region), mode="notify", title="困难群众临时救助（草稿）")
    old = await create_policy(client, headers, rule=rule_for(region), title="2025 年冬季取暖补贴")
    assert (await client.post(f"/api/v1/admin/policies/{old['id']}/archive", headers=headers)).status_code == 200
    await page.click("[data-test=menu-policies]")
    row = page.locator(f"[data-test=policy-row][data-id='{policy_id}']")
    await expect(row).to_have_count(1)
    await page.locator("[data-test=policy-tabs] .el-tabs__item", has_text="已发布").click()
    await expect(row).to_have_count(1)
    await page.locator("[data-test=policy-tabs] .el-tabs__item", has_text="草稿").click()
    await expect(page.locator("[data-test=policy-table]")).to_be_visible()
    await expect(row).to_have_count(0)
    await page.locator("[data-test=policy-tabs] .el-tabs__item", has_text="全部").click()
    await expect(row).to_have_count(1)
    await expect(page.locator("[data-test=policy-row]")).to_have_count(3)
    statuses = await page.locator("[data-test=policy-row-status]").all_inner_texts()
    assert sorted(statuses) == sorted(["已发布", "草稿", "已归档"]), statuses
    assert await page.evaluate(NO_SIDEWAYS)
    await shoot(page, "policy-list")
    assert not page.errors


async def test_over_the_threshold_a_second_admin_approves_in_the_page(new_page, client, live):
    region = fresh_region()
    await _people(region, old=3, young=0)
    maker, maker_headers = await _admin(client)
    checker = await new_staff(roles=("policy_admin",), depts=())
    policy = await create_policy(client, maker_headers, rule=rule_for(region), channels=("sms",), title="双人复核测试")
    with maker_checker(live, 2):
        page = await new_page()
        await login(page, maker)
        await page.goto(f"/console/#/policies/{policy['id']}")
        await page.click("[data-test=policy-publish]")
        dialog = page.locator("[data-test=publish-dialog]")
        await expect(dialog.locator("[data-test=publish-audience]")).to_have_text("3")
        await expect(dialog.locator("[data-test=publish-needs-approval]")).to_contain_text("另一名管理员批准")
        await page.click("[data-test=publish-confirm]")
        await page.wait_for_url(re.compile(r".*#/campaigns/cmp_[A-Za-z0-9_-]+$"))
        campaign_id = page.url.rsplit("/", 1)[1]
        await expect(page.locator("[data-test=campaign-status]")).to_have_attribute("data-status", "awaiting_approval")
        await expect(page.locator("[data-test=awaiting-note]")).to_contain_text("不能自己批准")
        await expect(page.locator("[data-test=campaign-approve]")).to_have_count(0)  # the maker may not approve
        assert (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=maker_headers)).json()[
            "status"] == "draft"

        other = await new_page()
        await login(other, checker)
        await other.goto(f"/console/#/campaigns/{campaign_id}")
        await expect(other.locator("[data-test=awaiting-note]")).to_contain_text("请核对")
        await shoot(other, "campaign-awaiting-approval")
        await other.click("[data-test=campaign-approve]")
        await other.locator(".el-message-box__btns button", has_text="批准").click()
        await expect(other.locator("[data-test=campaign-status]")).to_have_attribute("data-status", "completed",
                                                                                     timeout=CAMPAIGN_TIMEOUT)
        # The maker's page follows on its own (it polls while the campaign is not finished).
        await expect(page.locator("[data-test=campaign-status]")).to_have_attribute("data-status", "completed",
                                                                                    timeout=CAMPAIGN_TIMEOUT)
        await page.click("[data-test=menu-campaigns]")
        row = page.locator(f"[data-test=campaign-row][data-id='{campaign_id}']")
        await expect(row).to_have_count(1)
        await expect(row).to_have_text("双人复核测试（第 1 版）")
        await _pick(page, page.locator("[data-test=filter-status]"), "待审批")
        await expect(page.locator("[data-test=campaign-table] .el-table__empty-text")).to_be_visible()
        await expect(row).to_have_count(0)
        await _pick(page, page.locator("[data-test=filter-status]"), "已完成")
        await expect(row).to_have_count(1)
        await expect(page.locator("[data-test=campaign-row-status]")).to_have_text(["已完成"])
        assert await page.evaluate(NO_SIDEWAYS)
        await shoot(page, "campaign-list")
    figures = await wait_for(client, maker_headers, campaign_id)
    maker_id = (await AdminAccount.get(username=maker)).id
    checker_id = (await AdminAccount.get(username=checker)).id
    assert (figures["created_by"], figures["approved_by"]) == (maker_id, checker_id), figures
    assert figures["granted"] == 3
    policy_now = (await client.get(f"/api/v1/admin/policies/{policy['id']}", headers=maker_headers)).json()
    assert policy_now["status"] == "published"
    assert not page.errors and not other.errors


async def test_editing_a_published_policy_makes_version_2_and_leaves_version_1_published(page, client):
    region = fresh_region()
    await _people(region, old=1, young=0)
    name, headers = await _admin(client)
    v1 = await create_policy(client, headers, rule=rule_for(region), channels=("sms",), title="版本测试政策")
    await wait_for(client, headers, await publish(client, headers, v1["id"]))
    await login(page, name)
    await page.goto(f"/console/#/policies/{v1['id']}")
    await expect(page.locator("[data-test=policy-status]")).to_have_text("已发布")
    await expect(page.locator("[data-test=version-note]")).to_contain_text("生成第 2 版草稿")
    await expect(page.locator("[data-test=policy-save]")).to_be_disabled()  # nothing changed yet
    await page.fill("[data-test=policy-title]", "版本测试政策（修订）")
    await expect(page.locator("[data-test=policy-save]")).to_have_text("保存为新版本")
    await page.click("[data-test=policy-save]")
    await page.wait_for_url(re.compile(r".*#/policies/(?!" + re.escape(v1["id"]) + r")pol_[A-Za-z0-9_-]+$"))
    v2_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("[data-test=policy-version]")).to_have_text("第 2 版")
    await expect(page.locator("[data-test=policy-status]")).to_have_text("草稿")
    await expect(page.locator("[data-test=version-1]")).to_contain_text("已发布")
    await expect(page.locator("[data-test=version-2]")).to_contain_text("草稿")

    old = (await client.get(f"/api/v1/admin/policies/{v1['id']}", headers=headers)).json()
    new = (await client.get(f"/api/v1/admin/policies/{v2_id}", headers=headers)).json()
    assert (old["status"], old["version"], old["title"]) == ("published", 1, "版本测试政策")
    assert (new["status"], new["version"], new["previous_id"], new["title"]) == (
        "draft", 2, v1["id"], "版本测试政策（修订）")
    assert new["family_id"] == old["family_id"] == v1["id"]

    await page.click("[data-test=menu-policies]")
    await page.locator("[data-test=policy-tabs] .el-tabs__item", has_text="已发布").click()
    row = page.locator(f"[data-test=policy-row][data-id='{v1['id']}']")
    await expect(row).to_have_count(1)
    assert not page.errors


async def test_nested_groups_and_the_json_tab_edit_the_same_rule(page, client):
    region = fresh_region()
    await _people(region, old=2, young=1)
    name, headers = await _admin(client)
    await login(page, name)
    await page.goto("/console/#/policies/new")
    root = page.locator("[data-test=rule-group]").first
    await _pick(page, root.locator("[data-test=cond-field]").first, "户籍所在地（行政区划代码）")
    await _value(root.locator("[data-test=rule-condition]").first).fill(region)
    await root.locator("[data-test=add-group]").first.click()
    inner = root.locator("[data-test=rule-group]")
    await expect(inner).to_have_count(1)
    await _pick(page, inner.locator("[data-test=cond-field]"), "年龄（周岁）")
    await _pick(page, inner.locator("[data-test=cond-op]"), "小于")
    await _value(inner.locator("[data-test=rule-condition]")).fill("30")
    await inner.locator("[data-test=add-condition]").click()
    await _pick(page, inner.locator("[data-test=cond-field]").nth(1), "持有残疾人证")  # its value defaults to 是
    await inner.locator("[data-test=group-negate]").click()
    expected = {"all": [{"field": "hukou_region", "op": "=", "value": region},
                        {"not": {"any": [{"field": "age", "op": "<", "value": 30},
                                         {"field": "has_disability", "op": "=", "value": True}]}}]}
    await expect(page.locator("[data-test=audience-count]")).to_have_text("2")
    r = await client.post("/api/v1/admin/rules/preview", headers=headers, json={"rule": expected})
    assert r.status_code == 200 and r.json()["matched"] == 2, r.text

    await page.locator(".rule-tabs .el-tabs__item", has_text="JSON").click()
    text = page.locator("textarea[data-test=rule-json], [data-test=rule-json] textarea").first
    assert json.loads(await text.input_value()) == expected
    await text.fill("{\"all\": [")
    await page.click("[data-test=rule-json-apply]")
    await expect(page.locator(".rule-builder .el-alert")).to_contain_text("JSON 格式有误")
    typed = {"any": [{"field": "hukou_region", "op": "prefix", "value": region[:4]},
                     {"field": "age", "op": "exists", "value": True}]}
    await text.fill(json.dumps(typed))
    await page.click("[data-test=rule-json-apply]")
    await expect(page.locator("[data-test=rule-condition]")).to_have_count(2)  # back in the builder
    await expect(page.locator("[data-test=rule-group]")).to_have_count(1)
    await expect(page.locator("[data-test=group-kind] .is-active")).to_have_text("满足任一")
    await expect(page.locator("[data-test=rule-condition]").nth(0).locator("[data-test=cond-op]")).to_contain_text(
        "以此开头")
    r = await client.post("/api/v1/admin/rules/preview", headers=headers, json={"rule": typed})
    await expect(page.locator("[data-test=audience-count]")).to_have_text(f"{r.json()['matched']:,}")
    assert not page.errors

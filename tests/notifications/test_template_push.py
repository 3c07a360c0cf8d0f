"""A real campaign push renders through its template: the sandbox receives WeChat fields cut at a boundary."""

from __future__ import annotations

from api.citizens.models import PlatformAccount
from notifications.models import InboxMessage
from tests.factories import bearer, verified_citizen
from tests.policies.helpers import (
    create_policy,
    fresh_region,
    policy_admin,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)


async def test_a_21_character_title_reaches_the_sandbox_cut_at_a_boundary_with_an_ellipsis(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, _ = await verified_citizen(client, hukou_region=region)
    r = await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": live.settings.wechat_template_policy, "result": "accept",
        "kind": "one_time"})
    assert r.status_code == 200
    citizen_id = tokens["citizen"]["id"]
    openid = (await PlatformAccount.get(citizen_id=citizen_id, platform="wechat")).platform_uid
    title = "高龄津贴年度资格认证已开始，请于本月底完成"
    assert len(title) == 21 and title[:20].endswith("完")  # `[:20]` would have sent "...本月底完", mid-word
    policy = await create_policy(client, admin, rule=rule_for(region), mode="notify", channels=("wechat", "inbox"),
                                 title=title)
    await wait_for(client, admin, await publish(client, admin, policy["id"]))

    sent = [m for m in await sandbox_messages(client, "wechat") if m["touser"] == openid]
    assert len(sent) == 1
    assert sent[0]["template_id"] == live.settings.wechat_template_policy
    assert sent[0]["data"]["thing1"]["value"] == "高龄津贴年度资格认证已开始…"
    assert len(sent[0]["data"]["thing2"]["value"]) <= 20 and sent[0]["data"]["thing2"]["value"].endswith("…")
    assert sent[0]["data"]["date3"]["value"] == sent[0]["data"]["date3"]["value"][:10]
    inbox = await InboxMessage.get(citizen_id=citizen_id, ref_id=policy["id"])
    assert inbox.title == title  # the inbox holds the whole text

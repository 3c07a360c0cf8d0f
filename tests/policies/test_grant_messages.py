"""An auto grant (免申即享) tells each person once with the grant template (policy, benefit, date), opening their own
grant: GET /api/v1/grants/{id} for its owner, 404 for anyone else; a replayed publish or a rerun sends nothing more."""

from __future__ import annotations

import datetime as dt

from api.core.workdays import SHANGHAI
from notifications.models import OutboxDelivery
from tests.factories import bearer, verified_citizen
from tests.notifications.helpers import accept_one_time, credits_left, inbox, openid_of, sms_to, wechat_to
from tests.policies.helpers import create_policy, fresh_region, policy_admin, publish, rule_for, wait_for


async def _grant_of(client, tokens) -> dict:
    r = await client.get("/api/v1/grants", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    (grant,) = r.json()["items"]
    return grant


async def test_a_grant_goes_to_wechat_once_with_the_grant_template_and_opens_the_grant(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, person = await verified_citizen(client, hukou_region=region)
    other, _ = await verified_citizen(client, hukou_region=fresh_region())
    citizen_id, template = tokens["citizen"]["id"], live.settings.wechat_template_policy
    openid = await openid_of(citizen_id)
    await accept_one_time(client, tokens, template)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"))
    key = "grant-publish-1"
    campaign_id = await publish(client, admin, policy["id"], key=key)
    figures = await wait_for(client, admin, campaign_id)
    assert figures["granted"] == 1 and figures["sent"]["by_channel"] == {"wechat": 1}, figures

    grant = await _grant_of(client, tokens)
    (sent,) = await wechat_to(client, openid)
    assert sent["template_id"] == template and sent["page"] == f"pages/grants/detail?id={grant['id']}"
    granted_on = dt.datetime.fromisoformat(grant["granted_at"]).astimezone(SHANGHAI).date().isoformat()
    assert sent["data"] == {"thing1": {"value": "高龄老人津贴"}, "thing2": {"value": "高龄津贴 100元/月"},
                            "date3": {"value": granted_on}}
    assert await credits_left(client, tokens, template) == 0
    assert await sms_to(client, person["phone"]) == []
    (message,) = await inbox(client, tokens)
    assert message["title"] == "待遇已办理：高龄老人津贴" and message["ref"] == {"kind": "grant", "id": grant["id"]}
    assert "高龄津贴 100元/月" in message["body"] and message["topic"] == "benefit"

    # The ref opens the grant for its owner only.
    r = await client.get(f"/api/v1/grants/{grant['id']}", headers=bearer(tokens))
    assert r.status_code == 200 and r.json() == grant
    assert (await client.get(f"/api/v1/grants/{grant['id']}", headers=bearer(other))).status_code == 404
    assert (await client.get("/api/v1/grants/grt_nobody", headers=bearer(tokens))).status_code == 404
    assert (await client.get(f"/api/v1/grants/{grant['id']}")).status_code == 401
    assert await inbox(client, other) == []
    op = (await client.get("/openapi.json")).json()["paths"]["/api/v1/grants/{grant_id}"]["get"]
    assert {"200", "401", "404"} <= set(op["responses"]) and op.get("security")

    # The publish replayed, then the policy run again: the person was reached already, so nothing is sent twice.
    assert await publish(client, admin, policy["id"], key=key) == campaign_id
    rerun = await wait_for(client, admin, await publish(client, admin, policy["id"]))
    assert rerun["granted"] == 0 and rerun["sent"]["total"] == 0, rerun
    assert len(await wechat_to(client, openid)) == 1 and await sms_to(client, person["phone"]) == []
    assert len(await inbox(client, tokens)) == 1
    assert await OutboxDelivery.filter(citizen_id=citizen_id).count() == 2  # the inbox row and the WeChat one


async def test_without_a_credit_a_grant_falls_to_sms_with_the_grant_text(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    tokens, person = await verified_citizen(client, hukou_region=region)
    citizen_id = tokens["citizen"]["id"]
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"),
                                 title="困难群众临时救助")
    figures = await wait_for(client, admin, await publish(client, admin, policy["id"]))
    assert figures["sent"]["by_channel"] == {"sms": 1}, figures

    rows = {(d.channel, d.status, d.reason) for d in await OutboxDelivery.filter(citizen_id=citizen_id)}
    assert rows == {("inbox", "delivered", None), ("wechat", "skipped", "no_consent"), ("sms", "sent", None)}
    assert await wechat_to(client, await openid_of(citizen_id)) == []
    (sms,) = await sms_to(client, person["phone"])
    assert sms["template_code"] == "SMS_GRANT_0001"
    assert sms["params"] == {"title": "困难群众临时救助", "benefit": "高龄津贴 100元/月"}
    (message,) = await inbox(client, tokens)
    assert message["ref"] == {"kind": "grant", "id": (await _grant_of(client, tokens))["id"]}

"""A campaign's SMS is one text for everyone, so it goes many numbers to a SendSms request: each number once, each
row keeping its request's OutId (what the delivery report is found under), and a request the provider refuses
as a whole retried number by number under the same OutId."""

from __future__ import annotations

from notifications.models import OutboxDelivery
from tests.notifications.helpers import sms_to
from tests.notifications.test_settle import sms_faults
from tests.policies.helpers import create_policy, crowd, fresh_region, policy_admin, publish, rule_for, wait_for
from tests.policies.test_push_limits import limits


async def _sms_campaign(client, live, *, count: int, per_send: int, faults: dict | None = None
                        ) -> tuple[list[dict], dict, dict[str, dict]]:
    """An SMS-only campaign over `count` people without an account, `per_send` numbers to a request: (people, its
    figures once completed, person → their row)."""
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=count, settings=live.settings, wechat=0, alipay=0)
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("sms",))
    with limits(live, sms_numbers_per_send=per_send):
        if faults:
            async with sms_faults(client, faults):
                campaign_id = await publish(client, admin, policy["id"])
                figures = await wait_for(client, admin, campaign_id, timeout=60)
        else:
            campaign_id = await publish(client, admin, policy["id"])
            figures = await wait_for(client, admin, campaign_id, timeout=60)
    rows = await OutboxDelivery.filter(campaign_id=campaign_id, channel="sms").values(
        "person_bidx", "status", "reason", "provider_ref")
    return people, figures, {r["person_bidx"]: r for r in rows}


async def test_a_campaigns_sms_goes_many_numbers_to_a_request(client, live):
    people, figures, rows = await _sms_campaign(client, live, count=7, per_send=3)

    assert figures["sent"]["by_channel"]["sms"] == 7 and figures["granted"] == 7, figures
    received = {p["phone"]: await sms_to(client, p["phone"]) for p in people}
    assert all(len(messages) == 1 for messages in received.values()), received
    requests = {messages[0]["out_id"] for messages in received.values()}
    assert len(requests) == 3 and all(out_id.startswith("smb_") for out_id in requests), requests
    for p in people:
        row = rows[p["bidx"]]
        assert row["status"] == "sent" and row["provider_ref"] == received[p["phone"]][0]["out_id"], row


async def test_a_request_refused_as_a_whole_is_retried_number_by_number(client, live):
    people, figures, rows = await _sms_campaign(client, live, count=5, per_send=5,
                                                faults={"fail": "user_refused", "remaining": 1})

    assert figures["sent"]["by_channel"]["sms"] == 5 and figures.get("failed", {}).get("total", 0) == 0, figures
    for p in people:
        messages = await sms_to(client, p["phone"])
        assert len(messages) == 1 and messages[0]["out_id"] == rows[p["bidx"]]["provider_ref"], messages


async def test_one_number_to_a_request_tags_each_with_its_own_row(client, live):
    people, figures, rows = await _sms_campaign(client, live, count=3, per_send=1)

    assert figures["sent"]["by_channel"]["sms"] == 3, figures
    for p in people:
        messages = await sms_to(client, p["phone"])
        assert len(messages) == 1 and messages[0]["out_id"].startswith("dlv_"), messages
        assert rows[p["bidx"]]["provider_ref"] is None

"""Which channel an application's message takes: WeChat with a one-time credit (spent), else Alipay when the citizen
is there too, else SMS for an important kind; one credit pays for one message, whatever number of events."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.core import workdays
from notifications.models import OutboxDelivery
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, submit
from tests.applications.messaging import Watch, credits_left, give_credit, person, settled, template_id
from tests.factories import alipay_login, verified_citizen

ITEM = "测试居住登记"


async def _applicant(client, *, alipay: bool = False):
    tokens, row = await verified_citizen(client)
    if alipay:  # the same phone on Alipay: the same citizen, now on both platforms
        linked = await alipay_login(client, phone=row["phone"])
        assert linked["citizen"]["id"] == tokens["citizen"]["id"]
    who = await person(tokens, row["phone"])
    assert who.openid and bool(who.alipay_uid) == alipay
    return who


async def _rows(who, event_case: str) -> list[tuple]:
    """(channel, status, reason) of the platform rows of the citizen's events about a case."""
    rows = await OutboxDelivery.filter(citizen_id=who.citizen_id).exclude(channel="inbox")
    return sorted((r.channel, r.status, r.reason) for r in rows
                  if (r.payload or {}).get("ref", {}).get("id") == event_case)


async def test_with_a_credit_the_message_goes_to_wechat_and_spends_it(client, live, test_catalogue):
    who = await _applicant(client, alipay=True)
    app = await submit(client, who.tokens, await body_a(client, who.tokens))
    template = template_id(live, "application_accepted")
    assert await give_credit(client, who, template) == 1
    watch = await Watch(client, who).start()

    await act(client, await staff_headers(client), app["id"], "accept")
    told = await watch.told(platform_messages=1)

    assert (len(told.wechat), told.alipay, told.sms, len(told.inbox)) == (1, [], [], 1), told
    assert told.wechat[0]["template_id"] == template
    assert await credits_left(client, who, template) == 0  # one less
    assert await _rows(who, app["id"]) == [("wechat", "sent", None)]


async def test_without_a_credit_it_falls_to_alipay(client, live, test_catalogue):
    who = await _applicant(client, alipay=True)
    app = await submit(client, who.tokens, await body_a(client, who.tokens))
    watch = await Watch(client, who).start()

    answer = await act(client, await staff_headers(client), app["id"], "accept")
    told = await watch.told(platform_messages=1)

    assert (told.wechat, len(told.alipay), told.sms, len(told.inbox)) == ([], 1, [], 1), told
    (message,) = told.alipay
    assert message["user_template_id"] == template_id(live, "application_accepted", "alipay")
    at = dt.datetime.fromisoformat(answer["timeline"][-1]["at"]).astimezone(workdays.SHANGHAI)
    assert {k: v["value"] for k, v in message["data"].items()} == {
        "keyword1": ITEM, "keyword2": "已受理", "keyword3": at.strftime("%Y-%m-%d %H:%M")}
    assert await _rows(who, app["id"]) == [("alipay", "sent", None), ("wechat", "skipped", "no_consent")]
    history = (await client.get("/api/v1/me/messages", headers=who.headers)).json()["items"]
    assert sorted(i["channel"] for i in history) == ["alipay", "inbox", "inbox"]  # skipped rows are not history


async def test_without_a_credit_or_alipay_only_an_important_message_falls_to_sms(client, live, test_catalogue):
    who = await _applicant(client)
    app = await submit(client, who.tokens, await body_a(client, who.tokens))
    staff = await staff_headers(client)
    watch = await Watch(client, who).start()
    await act(client, staff, app["id"], "accept")  # not important: the inbox only
    told = await watch.told(platform_messages=0)
    assert (told.wechat, told.alipay, told.sms, len(told.inbox)) == ([], [], [], 1), told

    watch = await Watch(client, who).start()
    await act(client, staff, app["id"], "deny", note="经核查不符合登记条件")
    told = await watch.told(platform_messages=1)

    assert (told.wechat, told.alipay, len(told.sms), len(told.inbox)) == ([], [], 1, 1), told
    (sms,) = told.sms
    assert sms["template_code"] == "SMS_APPLICATION_RESULT_0001"
    assert sms["params"] == {"item": ITEM, "result": "未通过"}
    assert await _rows(who, app["id"]) == [("sms", "sent", None), ("wechat", "skipped", "no_consent"),
                                           ("wechat", "skipped", "no_consent")]


async def test_one_credit_pays_for_one_of_two_events_and_the_other_takes_the_next_channel(
        client, live, test_catalogue):
    who = await _applicant(client, alipay=True)
    first = await submit(client, who.tokens, await body_a(client, who.tokens))
    second = await submit(client, who.tokens, await body_a(client, who.tokens))
    template = template_id(live, "application_rejected")
    assert template == template_id(live, "application_denied")  # decisions share one WeChat template
    await settled(who)
    assert await give_credit(client, who, template) == 1
    watch = await Watch(client, who).start()

    staff = await staff_headers(client)
    await asyncio.gather(act(client, staff, first["id"], "reject", note="不属于本部门受理范围"),
                         act(client, staff, second["id"], "reject", note="不属于本部门受理范围"))
    told = await watch.told(platform_messages=2)

    assert (len(told.wechat), len(told.alipay), told.sms, len(told.inbox)) == (1, 1, [], 2), told
    on_wechat = told.wechat[0]["data"]["character_string2"]["value"]
    on_alipay = {first["id"], second["id"]} - {on_wechat}
    assert on_wechat in (first["id"], second["id"]) and len(on_alipay) == 1
    assert await credits_left(client, who, template) == 0
    assert await _rows(who, on_wechat) == [("wechat", "sent", None)]
    assert await _rows(who, on_alipay.pop()) == [("alipay", "sent", None), ("wechat", "skipped", "no_consent")]

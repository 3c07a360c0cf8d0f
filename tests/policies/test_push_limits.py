"""Per-citizen limits on policy pushes: quiet hours (deferred, not dropped) and the rolling weekly cap."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from api.core.workdays import SHANGHAI
from api.policies import campaigns
from notifications.models import OutboxDelivery
from tests.policies.helpers import (
    create_policy,
    crowd,
    fresh_region,
    policy_admin,
    policy_inbox_count,
    publish,
    rule_for,
    sandbox_messages,
    wait_for,
)


@contextlib.contextmanager
def limits(live, *, at: list[dt.datetime] | None = None, **settings):
    """Run with these push settings and, when `at` is given, a clock reading `at[0]` (move it by assigning)."""
    deps = live.app.ctx.deps
    real_settings, real_clock = deps.settings, deps.clock
    deps.settings = real_settings.model_copy(update=settings)
    if at is not None:
        deps.clock = lambda: at[0]
    try:
        yield
    finally:
        deps.settings, deps.clock = real_settings, real_clock


def beijing(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """That time of day in Beijing, in UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


QUIET = {"push_quiet_start": dt.time(22, 0), "push_quiet_end": dt.time(8, 0)}


async def _watchdog(live) -> int:
    """Run the campaign watchdog now rather than wait for its next 5-second run; how many campaigns it restarted."""
    deps = live.app.ctx.deps
    return await campaigns.watchdog(deps=deps)


async def _wechat_to(client, openids: set[str]) -> list[dict]:
    return [m for m in await sandbox_messages(client, "wechat") if m["touser"] in openids]


async def test_a_push_published_at_23_reaches_the_platform_at_8_and_the_inbox_at_once(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=3, settings=live.settings, wechat=1.0, alipay=0)
    openids = {p["openid"] for p in people}
    citizens = [p["citizen_id"] for p in people]
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)  # a later day: leases keep the real clock
    clock = [beijing(day, 23)]
    with limits(live, at=clock, **QUIET):
        policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "inbox"))
        campaign_id = await publish(client, admin, policy["id"])
        for _ in range(100):
            if await policy_inbox_count(policy["id"], citizens) == 3:
                break
            await asyncio.sleep(0.1)
        assert await policy_inbox_count(policy["id"], citizens) == 3
        await asyncio.sleep(2)  # senders and the watchdog had their turns
        morning = beijing(day + dt.timedelta(days=1), 8)
        rows = await OutboxDelivery.filter(campaign_id=campaign_id, channel="wechat")
        assert len(rows) == 3 and {r.status for r in rows} == {"queued"}
        assert {r.next_attempt_at for r in rows} == {morning}
        clock[0] = morning - dt.timedelta(seconds=1)
        # What the 5-second cron does: every open row waits for 08:00, so no sender is started to find nothing.
        assert await _watchdog(live) == 0
        await asyncio.sleep(1)
        assert await _wechat_to(client, openids) == []
        r = await client.get(f"/api/v1/admin/campaigns/{campaign_id}", headers=admin)
        assert r.json()["status"] == "running" and r.json()["pending"] == 3, r.json()
        clock[0] = morning
        await _watchdog(live)
        figures = await wait_for(client, admin, campaign_id, timeout=30)
    assert figures["sent"]["by_channel"] == {"wechat": 3}, figures
    assert {m["touser"] for m in await _wechat_to(client, openids)} == openids
    assert len(await _wechat_to(client, openids)) == 3


async def test_a_push_at_21_59_goes_out(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=2, settings=live.settings, wechat=1.0, alipay=0)
    openids = {p["openid"] for p in people}
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
    with limits(live, at=[beijing(day, 21, 59)], **QUIET):
        policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "inbox"))
        figures = await wait_for(client, admin, await publish(client, admin, policy["id"]), timeout=30)
    assert figures["sent"]["by_channel"] == {"wechat": 2}, figures
    assert {m["touser"] for m in await _wechat_to(client, openids)} == openids


async def test_the_weekly_cap_holds_across_two_campaigns(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=1, settings=live.settings, wechat=1.0, alipay=0)
    person = people[0]
    with limits(live, push_weekly_cap_per_citizen=1):
        first = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"),
                                    title="第一项政策")
        one = await wait_for(client, admin, await publish(client, admin, first["id"]))
        second = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "sms", "inbox"),
                                     title="第二项政策")
        two = await wait_for(client, admin, await publish(client, admin, second["id"]))
    assert one["sent"]["by_channel"] == {"wechat": 1}, one
    assert two["sent"]["total"] == 0 and two["skipped"]["by_channel"] == {"wechat": {"weekly_cap": 1}}, two
    assert two["delivered"]["by_channel"] == {"inbox": 1}, two
    assert len(await _wechat_to(client, {person["openid"]})) == 1
    assert person["phone"] not in {m["phone"] for m in await sandbox_messages(client, "sms")}  # no fallback either
    assert await policy_inbox_count(second["id"], [person["citizen_id"]]) == 1


async def test_two_campaigns_at_once_never_both_pass_the_cap(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=40, settings=live.settings, wechat=1.0, alipay=0)
    with limits(live, push_weekly_cap_per_citizen=1, push_concurrency=5, push_batch_size=10):
        policies = [await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "inbox"),
                                        title=f"同时发布 {i}") for i in range(2)]
        ids = await asyncio.gather(*(publish(client, admin, p["id"]) for p in policies))
        figures = [await wait_for(client, admin, cid, timeout=60) for cid in ids]
    assert sum(f["sent"]["total"] for f in figures) == 40, figures
    assert sum(f["skipped"]["total"] for f in figures) == 40, figures
    per_person = [m["touser"] for m in await _wechat_to(client, {p["openid"] for p in people})]
    assert sorted(per_person) == sorted(p["openid"] for p in people)


async def test_a_campaign_running_over_22_stops_handing_rows_out_and_resumes_at_8(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    people = await crowd(client, region=region, count=30, settings=live.settings, wechat=1.0, alipay=0)
    openids = {p["openid"] for p in people}
    day = dt.datetime.now(SHANGHAI).date() + dt.timedelta(days=1)
    clock = [beijing(day, 21, 59)]

    async def strike_22() -> None:  # the clock reaches 22:00 once the first pushes went out
        while len(await _wechat_to(client, openids)) < 5:
            await asyncio.sleep(0.02)
        clock[0] = beijing(day, 22)

    # 10 a second: the campaign takes seconds, so 22:00 comes in its middle.
    with limits(live, at=clock, push_concurrency=5, push_batch_size=10, push_rate_wechat=10, **QUIET):
        policy = await create_policy(client, admin, rule=rule_for(region), channels=("wechat", "inbox"))
        campaign_id = await publish(client, admin, policy["id"])
        await asyncio.wait_for(strike_22(), timeout=30)
        await asyncio.sleep(3)
        before = len(await _wechat_to(client, openids))
        assert 5 <= before < 30
        waiting = await OutboxDelivery.filter(campaign_id=campaign_id, channel="wechat", status="queued")
        assert len(waiting) == 30 - before
        assert {r.next_attempt_at for r in waiting} == {beijing(day + dt.timedelta(days=1), 8)}
        assert await OutboxDelivery.filter(campaign_id=campaign_id, channel="inbox", status="delivered").count() == 30
        clock[0] = beijing(day + dt.timedelta(days=1), 8)
        await _watchdog(live)
        figures = await wait_for(client, admin, campaign_id, timeout=30)
    assert figures["sent"]["by_channel"] == {"wechat": 30}, figures
    assert sorted(m["touser"] for m in await _wechat_to(client, openids)) == sorted(openids)

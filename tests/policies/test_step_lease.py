"""A campaign's matching step runs once at a time: two starts at once make one run; a dead owner's step is handed by
the watchdog to exactly one new run once its short lease lapses, and each grant and delivery is written once."""

import asyncio
import dataclasses
import secrets

import pytest

from api.citizens import registry
from api.core.guards import Actor
from api.core.jobs import with_retries
from api.core.queue import create_job_queue
from api.policies import campaigns, steps
from api.policies import jobs as policy_jobs
from api.policies import service as policies
from api.policies.models import Campaign, Policy, PolicyReach
from notifications.models import OutboxDelivery
from tests.policies.helpers import crowd, fresh_region, rule_for

PEOPLE = 40
LEASE = 1.0


@pytest.fixture
async def idle_queue(live):
    """A job queue no worker polls, and the app's deps and settings pointed at it: a campaign published on it is
    run only by the test's own calls."""
    settings = live.settings.model_copy(update={"job_queue": f"steps-{secrets.token_hex(4)}",
                                                "campaign_step_lease_seconds": LEASE})
    jobs = await create_job_queue(settings)
    try:
        yield dataclasses.replace(live.app.ctx.deps, settings=settings, jobs=jobs)
    finally:
        await jobs.pool.delete(settings.job_queue)
        await jobs.close()


async def _campaign(client, live, deps) -> tuple[str, list[dict]]:
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0.5, alipay=0)
    return await _published(deps, rule_for(region)), people


async def _published(deps, rule: dict) -> str:
    admin = Actor(kind="admin", actor_id=f"adm_{secrets.token_hex(4)}", session_id="-")
    policy = await policies.create(actor=admin, data={
        "title": "租约测试政策", "summary": "租约测试", "body": "租约测试", "mode": "auto_grant",
        "rule": rule, "benefit": "测试", "channels": ["wechat", "inbox"], "apply_url": None})
    answer = await policies.publish(actor=admin, policy_id=policy.id, idempotency_key=None, raw={}, jobs=deps.jobs,
                                    queue_name=deps.settings.job_queue)
    return answer["campaign_id"]


async def _queued_runs(deps) -> list:
    return [j for j in await deps.jobs.pool.queued_jobs(queue_name=deps.settings.job_queue)
            if j.function == "run_campaign"]


async def _written_once(campaign_id: str, people: list[dict]) -> None:
    assert await PolicyReach.filter(campaign_id=campaign_id, granted=True).count() == PEOPLE
    rows = await OutboxDelivery.filter(campaign_id=campaign_id).values_list("person_bidx", "channel")
    accounts = sum(1 for p in people if p["citizen_id"])
    # An inbox row per account and a WeChat row per WeChat account; nobody twice.
    assert len(rows) == len(set(rows)) == accounts + sum(1 for p in people if p["openid"])
    campaign = await Campaign.get(id=campaign_id)
    assert (campaign.stage, campaign.granted, campaign.step_owner) == ("send", PEOPLE, None)


async def test_two_starts_of_one_step_make_one_run(client, live, idle_queue):
    deps = idle_queue
    campaign_id, people = await _campaign(client, live, deps)
    results = await asyncio.gather(*(campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings)
                                     for _ in range(2)))
    assert sorted(results) == ["busy", "running"], results
    await _written_once(campaign_id, people)
    # Once matched, the step is never taken again.
    assert not await steps.take(campaign_id=campaign_id, owner=steps.new_owner(), lease_seconds=LEASE)


async def test_a_dead_owners_step_is_restarted_once_by_the_watchdog(client, live, idle_queue):
    deps = idle_queue
    campaign_id, people = await _campaign(client, live, deps)
    for job in await _queued_runs(deps):  # the publish's own run, lost with the worker that took it
        await deps.jobs.pool.delete(f"arq:job:{job.job_id}")
        await deps.jobs.pool.zrem(deps.settings.job_queue, job.job_id)
    # A run took the step and died mid-step: it never renews its lease.
    assert await steps.take(campaign_id=campaign_id, owner="stp_dead", lease_seconds=LEASE)
    await Campaign.filter(id=campaign_id).update(status="running")

    assert await campaigns.watchdog(deps=deps) == 0  # the owner may be alive: its lease holds
    assert await _queued_runs(deps) == []
    await asyncio.sleep(LEASE + 0.2)
    # The watchdog runs every 5 s (and on every worker): the lapsed step is queued once, however often it looks.
    assert await campaigns.watchdog(deps=deps) == 1
    assert await campaigns.watchdog(deps=deps) == 0
    queued = await _queued_runs(deps)
    assert len(queued) == 1, queued
    owner = queued[0].args[1]
    # A late retry of the dead run's job finds the step reserved and leaves it alone.
    assert await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings) == "busy"
    assert await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings,
                               owner=owner) == "running"
    await _written_once(campaign_id, people)


@pytest.mark.parametrize("lanes", [1, 3])
async def test_a_run_that_lost_its_step_rolls_back(client, live, idle_queue, monkeypatch, lanes):
    deps = idle_queue
    monkeypatch.setattr(campaigns, "MATCH_CHUNK", 5)  # several key ranges, so several lanes each meet the fence
    campaign_id, _ = await _campaign(client, live, deps)
    # The step was taken over from this run while it stalled: its commit is fenced and nothing of it stays.
    assert await steps.take(campaign_id=campaign_id, owner="stp_other", lease_seconds=60)
    campaign = await Campaign.get(id=campaign_id)
    policy = await Policy.get(id=campaign.policy_id)
    with pytest.raises(steps.StepLost):
        await campaigns._match(campaign, policy, owner="stp_stalled", parallel=lanes)
    assert await PolicyReach.filter(campaign_id=campaign_id).count() == 0
    assert await OutboxDelivery.filter(campaign_id=campaign_id).count() == 0
    assert (await Campaign.get(id=campaign_id)).stage == "match"


async def test_a_restarted_run_that_cannot_run_still_ends_failed(client, live, idle_queue):
    deps = idle_queue
    campaign_id, _ = await _campaign(client, live, deps)
    campaign = await Campaign.get(id=campaign_id)
    # The stored rule names an attribute the registry no longer has: the run fails for good, not for an outage.
    await Policy.filter(id=campaign.policy_id).update(rule={"all": [{"field": "retired_field", "op": "=",
                                                                     "value": 1}]})
    owner = await steps.hand_over(campaign_id=campaign_id, lease_seconds=LEASE)
    job = with_retries(policy_jobs.run_campaign, tries=5, backoff_seconds=0.1, on_failure=policy_jobs.campaign_failed)
    with pytest.raises(Exception):  # noqa: B017 - whichever validation error: the point is the terminal state
        await job({"deps": deps, "job_try": 1}, campaign_id, owner)
    campaign = await Campaign.get(id=campaign_id)
    assert (campaign.status, campaign.error, campaign.step_owner) == ("failed", "validation_failed", None)


async def test_a_campaign_matched_in_chunks_at_once_writes_each_person_once(client, live, idle_queue, monkeypatch):
    deps = idle_queue
    deps = dataclasses.replace(deps, settings=deps.settings.model_copy(update={"campaign_match_parallel": 3}))
    monkeypatch.setattr(campaigns, "MATCH_CHUNK", 5)  # 40 people: nine key ranges, three written at a time
    campaign_id, people = await _campaign(client, live, deps)
    assert await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings) == "running"
    await _written_once(campaign_id, people)


@pytest.mark.parametrize("lanes", [1, 3])
@pytest.mark.parametrize("on_low_income", [True, False])
async def test_a_rule_on_a_joined_registry_matched_in_key_ranges_reaches_exactly_its_people(
        client, live, idle_queue, monkeypatch, lanes, on_low_income):
    # Each key range cuts the joined registry as well as the population: a person's low-income record must be read
    # by the range that holds the person, or they would be matched as having none.
    deps = dataclasses.replace(idle_queue, settings=idle_queue.settings.model_copy(
        update={"campaign_match_parallel": lanes}))
    monkeypatch.setattr(campaigns, "MATCH_CHUNK", 5)  # about 13 to 27 matched: three to six key ranges
    region = fresh_region()
    people = await crowd(client, region=region, count=PEOPLE, settings=live.settings, wechat=0.5, alipay=0)
    poor = people[::3]
    report = await registry.import_rows("low_income", [{"id_number": p["id_number"], "category": "低保",
                                                        "since": "2020-01-01"} for p in poor])
    assert report.inserted == len(poor), report.as_dict()
    condition = {"field": "low_income_category", "op": "exists", "value": on_low_income}
    campaign_id = await _published(deps, {"all": [*rule_for(region)["all"], condition]})
    assert await campaigns.run(campaign_id=campaign_id, jobs=deps.jobs, settings=deps.settings) == "running"
    expected = {p["bidx"] for p in poor} if on_low_income else {p["bidx"] for p in people} - {p["bidx"] for p in poor}
    reached = await PolicyReach.filter(campaign_id=campaign_id).values_list("person_bidx", flat=True)
    assert sorted(reached) == sorted(expected)
    campaign = await Campaign.get(id=campaign_id)
    assert (campaign.matched, campaign.granted) == (len(expected), len(expected))

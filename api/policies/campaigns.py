"""Running a campaign: match the rule over the whole population set-wise, record who it reached (grants for
免申即享) once per policy and person, queue their deliveries (notifications own the outbox), start the senders
and finish the campaign when nothing is left; the watchdog recovers what dead workers left."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools

from tortoise.transactions import in_transaction

from api.citizens import contacts
from api.core import rawsql
from api.core.logging import get_logger
from api.core.workdays import SHANGHAI, today, utc_now
from api.policies import rules, steps
from api.policies.models import Campaign, Policy, PolicyReach
from notifications import limits, sender
from notifications import service as notifications
from notifications.channels import EXTERNAL, Message

log = get_logger("api.policies.campaigns")

ACTIVE = ("awaiting_approval", "queued", "running", "paused")
LOST_ENQUEUE = dt.timedelta(seconds=10)
GRANT_PAGE = "pages/grants/detail?id={id}"  # the mini-program page of one grant (GET /api/v1/grants/{id})


async def run(*, campaign_id: str, jobs, settings, owner: str | None = None) -> str:
    """Match and queue (once: one run at a time holds the step, and a rerun finds the unique keys taken), then start
    the senders; `owner` is the step reservation the watchdog queued this run with. `busy` when another run holds
    the step."""
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status in ("awaiting_approval", "completed", "cancelled", "failed"):
        return campaign.status if campaign else "missing"
    matched_now = False
    if campaign.stage == "match":
        owner = owner or steps.new_owner()
        lease = settings.campaign_step_lease_seconds
        if not await steps.take(campaign_id=campaign.id, owner=owner, lease_seconds=lease):
            log.info("campaign_step_busy", campaign_id=campaign.id)
            return "busy"
        try:
            async with steps.held(campaign_id=campaign.id, owner=owner, lease_seconds=lease):
                await Campaign.filter(id=campaign.id, status="queued").update(status="running",
                                                                              started_at=utc_now())
                policy = await Policy.get(id=campaign.policy_id)
                figures = await _match(campaign, policy, owner=owner, parallel=settings.campaign_match_parallel)
        except steps.StepLost:
            # This run stalled past its lease and another took the step over: that one's work stands, not ours.
            log.warning("campaign_step_lost", campaign_id=campaign.id)
            return "busy"
        log.info("campaign_matched", campaign_id=campaign.id, **figures)
        matched_now = True
    campaign = await Campaign.get(id=campaign.id)
    if campaign.status == "cancelled":
        # Cancelled while matching: the rows just queued go too.
        await notifications.cancel_campaign_deliveries(campaign_id=campaign.id)
    # A late rerun of a matched campaign (arq re-runs a dead worker's job) adds no senders beside live ones.
    if campaign.status == "running" and (matched_now or not await sender.sender_alive(jobs.pool, campaign.id)):
        await start_senders(jobs=jobs, campaign_id=campaign.id, count=settings.push_senders,
                            lease_seconds=settings.delivery_lease_seconds)
    return campaign.status


MATCH_CHUNK = 20_000  # people matched per transaction, about: a chunk is a range of the blind index


async def _match(campaign: Campaign, policy: Policy, *, owner: str, parallel: int = 1) -> dict:
    predicate = rules.compile_sql(policy.rule, as_of=campaign.as_of)
    population = rules.population_from(predicate.joins)
    matched = await rawsql.fetch_value(f"SELECT count(*) FROM {population} WHERE {predicate.sql}", predicate.params)
    # Chunk by ranges of the blind index (uniform hex): each transaction's joins read one slice of the registry's
    # key index, memory stays flat, and a rerun after a crash skips what committed (the unique keys). The ranges
    # are disjoint, so chunks written at once never wait on each other's keys.
    ranges = iter(key_ranges(int(matched) // MATCH_CHUNK + 1))

    async def lane() -> None:
        for low, high in ranges:  # the lanes share one iterator: each range is taken once
            await _match_range(campaign, policy, predicate, low, high, owner=owner)

    if parallel == 1 or rawsql.dialect() != "postgres":  # SQLite has one writer: lanes would only queue
        await lane()
    else:
        try:
            async with asyncio.TaskGroup() as lanes:  # one lane failing cancels the others
                for _ in range(parallel):
                    lanes.create_task(lane())
        except ExceptionGroup as failed:
            # The caller tells a lost step from a transient fault by the exception itself, not its group.
            raise failed.exceptions[0] from None
    async with in_transaction() as conn:
        reached = await rawsql.fetch_value("SELECT count(*) FROM policy_reach WHERE campaign_id = ?", [campaign.id],
                                           conn)
        queued = await rawsql.fetch_value("SELECT count(*) FROM outbox_delivery WHERE campaign_id = ?",
                                          [campaign.id], conn)
        figures = {"matched": int(matched), "granted": int(reached) if policy.mode == "auto_grant" else 0,
                   "queued": int(queued)}
        # The stage moves on only while this run still holds the step (a run that stalled past its lease stops).
        await steps.fenced(campaign_id=campaign.id, owner=owner, conn=conn)
        await Campaign.filter(id=campaign.id).using_db(conn).update(stage="send", matched_at=utc_now(), **figures)
    return figures


def key_ranges(count: int) -> list[tuple[str | None, str | None]]:
    """`count` (at most 256) ranges [low, high) of lowercase hex keys that cover them all; None is open."""
    count = max(1, min(count, 256))
    bounds = [None, *(format(256 * i // count, "02x") for i in range(1, count)), None]
    return list(zip(bounds, bounds[1:], strict=False))


async def _match_range(campaign: Campaign, policy: Policy, predicate, low: str | None, high: str | None, *,
                       owner: str) -> None:
    in_r, r_params = rules.key_range("person_bidx", low, high)
    async with in_transaction() as conn:
        # A single range is the whole registry: there the rule's own indexes serve it best, unfenced.
        sliced = (low, high) != (None, None) and rawsql.dialect(conn) == "postgres"
        # On PostgreSQL the slice is read from the key index alone, which carries the rule's columns.
        people_in_range, range_params = rules.population_slice(predicate.joins, low, high, fenced=sliced)
        # People reached by an earlier campaign of this policy, of any of its versions, keep their row: only the
        # newly eligible are added (and granted, and messaged).
        await rawsql.execute(
            f"INSERT INTO policy_reach (id, policy_id, family_id, person_bidx, campaign_id, granted, status, "
            f"created_at) SELECT {rawsql.ordered_id_sql('grt', conn)}, ?, ?, p.id_number_bidx, ?, ?, 'active', ? "
            f"FROM {people_in_range} WHERE {predicate.sql} ON CONFLICT (family_id, person_bidx) DO NOTHING",
            [policy.id, policy.family_id, campaign.id, policy.mode == "auto_grant", utc_now(), *range_params,
             *predicate.params], conn)
        people = rawsql.Subquery(f"SELECT person_bidx FROM policy_reach WHERE campaign_id = ?{in_r}",
                                 [campaign.id, *r_params])
        await notifications.queue_campaign_deliveries(
            campaign_id=campaign.id, policy_id=policy.id, topic=_topic(policy), chain=_chain(policy),
            contacts=contacts.reachable(people), count=False)
        # Each chunk commits only while this run holds the step: a run that lost it to another adds nothing more.
        await steps.still_held(campaign_id=campaign.id, owner=owner, conn=conn)


async def start_senders(*, jobs, campaign_id: str, count: int, lease_seconds: int = 60) -> None:
    """Queue `count` senders for the campaign (they share its rows through claims, so extra ones are harmless)."""
    await sender.expect_senders(jobs.pool, campaign_id, seconds=lease_seconds)
    for _ in range(count):
        await jobs.enqueue("send_deliveries", campaign_id)


async def send(*, deps, campaign_id: str) -> dict:
    """Be one of a running campaign's senders: its rows go out until none is left or the campaign stops."""
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status != "running":
        return {"skipped": campaign.status if campaign else "missing"}
    policy = await Policy.get(id=campaign.policy_id)

    async def still_running() -> bool:
        return await Campaign.filter(id=campaign_id, status="running").exists()

    async def on_drained() -> bool:
        return await finish_if_done(campaign_id=campaign_id)

    granted_on = campaign.matched_at.astimezone(SHANGHAI).date() if campaign.matched_at else None
    grants = functools.partial(grant_ids, policy.id) if policy.mode == "auto_grant" else None
    return await sender.send_campaign(deps=deps, campaign=sender.CampaignRun(
        campaign_id=campaign_id, chain=_chain(policy),
        message=message_for(policy, deps.settings.policy_page, granted_on=granted_on),
        still_running=still_running, on_drained=on_drained, ref_ids=grants))


async def settle(*, deps, at: dt.datetime | None = None) -> dict:
    """Settle the uncertain SMS rows of every campaign, each with its own message (notifications/settle.py); the
    counts by campaign."""
    done = {}
    for campaign_id in await notifications.campaigns_with_uncertain_sms():
        campaign = await Campaign.get_or_none(id=campaign_id)
        policy = await Policy.get_or_none(id=campaign.policy_id) if campaign else None
        if policy is None:
            continue
        granted_on = campaign.matched_at.astimezone(SHANGHAI).date() if campaign.matched_at else None
        done[campaign_id] = await notifications.settle_campaign_sms(
            deps=deps, campaign_id=campaign_id, at=at,
            message=message_for(policy, deps.settings.policy_page, granted_on=granted_on),
            ref_ids=functools.partial(grant_ids, policy.id) if policy.mode == "auto_grant" else None)
    return done


async def finish_if_done(*, campaign_id: str) -> bool:
    """Complete a sending campaign once no row is left to send."""
    left = await notifications.open_deliveries(campaign_id=campaign_id)
    if any(left.values()):
        return False
    return bool(await Campaign.filter(id=campaign_id, status="running", stage="send").update(
        status="completed", finished_at=utc_now()))


async def fail(*, campaign_id: str, reason: str) -> bool:
    """End a campaign that has not finished as `failed` with the short reason its job gave up on."""
    failed = await Campaign.filter(id=campaign_id, status__in=ACTIVE).update(status="failed", error=reason,
                                                                           finished_at=utc_now())
    log.error("campaign_failed", campaign_id=campaign_id, reason=reason)
    return bool(failed)


async def watchdog(*, deps) -> int:
    """Recover what dead workers left: lapsed claims, lost enqueues, campaigns without a live sender."""
    jobs, settings, redis = deps.jobs, deps.settings, deps.redis
    if (await notifications.recover_lapsed_deliveries())["uncertain"]:
        await jobs.enqueue("settle_uncertain_sms")  # a reclaim left rows uncertain: ask the provider about them
    now = utc_now()
    started = 0
    for campaign in await Campaign.filter(status__in=("queued", "running"), queue_name=settings.job_queue):
        if campaign.stage == "match":
            # An approved campaign was queued when approved, not when made.
            lost = campaign.status == "queued" and (campaign.approved_at or campaign.created_at) < now - LOST_ENQUEUE
            # A running step whose owner died stops renewing its lease: the step is reserved for one new run (the
            # reservation is itself a lease, so a run lost with it is queued again once it lapses).
            if (lost or campaign.status == "running") and (owner := await steps.hand_over(
                    campaign_id=campaign.id, lease_seconds=settings.campaign_step_lease_seconds)):
                await jobs.enqueue("run_campaign", campaign.id, owner)
                log.info("campaign_step_restarted", campaign_id=campaign.id, status=campaign.status)
                started += 1
            continue
        if await sender.sender_alive(redis, campaign.id):
            continue
        left = await notifications.open_deliveries(campaign_id=campaign.id, at=limits.now(deps))
        if left["later"] and not (left["due"] or left["held"]):
            continue  # every open row waits for a retry or the end of quiet hours: a sender would find nothing
        if any(left.values()):
            await start_senders(jobs=jobs, campaign_id=campaign.id, count=settings.push_senders,
                                lease_seconds=settings.delivery_lease_seconds)
            started += 1
        else:
            await finish_if_done(campaign_id=campaign.id)
    return started


def _topic(policy: Policy) -> str:
    return "benefit" if policy.mode == "auto_grant" else "policy"


def _chain(policy: Policy) -> list[str]:
    """The policy's channels in its order, but the inbox (which every campaign writes)."""
    return [c for c in policy.channels if c in EXTERNAL]


def message_for(policy: Policy, page_base: str, *, granted_on: dt.date | None = None) -> Message:
    """The policy's message: a grant made without applying (grant_recorded, opening each person's grant, dated
    `granted_on`), or a notice with the way to apply (policy_push)."""
    page = policy.apply_url or f"{page_base}?id={policy.id}"
    if policy.mode == "auto_grant":
        return Message(policy_id=policy.id, topic=_topic(policy), page=page, kind="grant_recorded",
                       values={"policy_title": policy.title, "benefit": benefit_text(policy.benefit),
                               "date": (granted_on or today()).isoformat()},
                       ref_kind="grant", ref_page=GRANT_PAGE)
    body = f"{policy.summary} 您可能符合条件，可在小程序内查看并申请。"
    return Message(policy_id=policy.id, topic=_topic(policy), page=page,
                   values={"title": policy.title, "body": body, "date": today().isoformat()})


async def grant_ids(policy_id: str, people: list[str]) -> dict[str, str]:
    """person_bidx -> the id of their grant of the policy (what an auto-grant message opens)."""
    if not people:
        return {}
    return dict(await PolicyReach.filter(policy_id=policy_id, person_bidx__in=people, granted=True)
                .values_list("person_bidx", "id"))


def benefit_text(benefit) -> str:
    """The benefit as one line of text."""
    if isinstance(benefit, dict):
        amount = f" {benefit['amount']}{benefit.get('unit', '')}" if "amount" in benefit else ""
        return f"{benefit.get('name', '')}{amount}".strip() or "相关待遇"
    return str(benefit or "相关待遇")

"""Running a campaign: match the rule over the whole population set-wise, record who it reached (grants for
免申即享) once per policy and person, queue one outbox row per person and channel, then start senders."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from api.core import rawsql
from api.core.logging import get_logger
from api.core.workdays import utc_now
from api.policies import rules
from api.policies.models import Campaign, Policy
from notifications import outbox
from notifications.channels import EXTERNAL

log = get_logger("api.policies.campaigns")

STALE_MATCH = dt.timedelta(minutes=15)
LOST_ENQUEUE = dt.timedelta(seconds=10)


async def run(*, campaign_id: str, jobs, settings) -> str:
    """Match and queue (once: a rerun finds the unique keys taken), then start the senders."""
    campaign = await Campaign.get_or_none(id=campaign_id)
    if campaign is None or campaign.status in ("completed", "cancelled", "failed"):
        return campaign.status if campaign else "missing"
    if campaign.stage == "match":
        await Campaign.filter(id=campaign.id, status="queued").update(status="running", started_at=utc_now())
        policy = await Policy.get(id=campaign.policy_id)
        figures = await _match(campaign, policy)
        await Campaign.filter(id=campaign.id).update(stage="send", matched_at=utc_now(), **figures)
        log.info("campaign_matched", campaign_id=campaign.id, **figures)
    campaign = await Campaign.get(id=campaign.id)
    if campaign.status == "cancelled":
        await outbox.cancel_open(campaign.id)  # cancelled while matching: the rows just queued go too
    if campaign.status == "running":
        await start_senders(jobs=jobs, campaign_id=campaign.id, count=settings.push_senders,
                            lease_seconds=settings.delivery_lease_seconds)
    return campaign.status


async def _match(campaign: Campaign, policy: Policy) -> dict:
    predicate = rules.compile_sql(policy.rule, as_of=campaign.as_of)
    population = rules.population_from(predicate.joins)
    now = utc_now()
    async with in_transaction() as conn:
        matched = await rawsql.fetch_value(f"SELECT count(*) FROM {population} WHERE {predicate.sql}",
                                           predicate.params, conn)
        # People reached by an earlier campaign of this policy keep their row: only the newly eligible are added.
        await rawsql.execute(
            f"INSERT INTO policy_reach (id, policy_id, person_bidx, campaign_id, granted, status, created_at) "
            f"SELECT {rawsql.new_id_sql('grt', conn)}, ?, p.id_number_bidx, ?, ?, 'active', ? FROM {population} "
            f"WHERE {predicate.sql} ON CONFLICT (policy_id, person_bidx) DO NOTHING",
            [policy.id, campaign.id, policy.mode == "auto_grant", now, *predicate.params], conn)
        reached = await rawsql.fetch_value("SELECT count(*) FROM policy_reach WHERE campaign_id = ?", [campaign.id],
                                           conn)
        topic = "benefit" if policy.mode == "auto_grant" else "policy"
        await _queue_inbox(conn, campaign, policy, topic, now)
        await _queue_first_channel(conn, campaign, policy, topic, now)
        queued = await rawsql.fetch_value("SELECT count(*) FROM outbox_delivery WHERE campaign_id = ?",
                                          [campaign.id], conn)
    return {"matched": int(matched), "granted": int(reached) if policy.mode == "auto_grant" else 0,
            "queued": int(queued)}


async def _queue_inbox(conn, campaign: Campaign, policy: Policy, topic: str, now: dt.datetime) -> None:
    # The inbox always gets the message, for everyone with an account (a registry entry alone has no inbox).
    await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, status, "
        f"attempts, created_at) SELECT {rawsql.new_id_sql('dlv', conn)}, CAST(? AS TEXT) || r.person_bidx || ':inbox', "
        "?, r.person_bidx, c.id, 'inbox', ?, 'queued', 0, ? FROM policy_reach r "
        "JOIN citizen c ON c.id_number_bidx = r.person_bidx WHERE r.campaign_id = ? "
        "ON CONFLICT (dedupe_key) DO NOTHING", [f"{policy.id}:", campaign.id, topic, now, campaign.id], conn)


def _usable(channel: str) -> str:
    """SQL: the person can be reached on `channel` and has not opted out of it (channel names are ours)."""
    opted_out = ("EXISTS (SELECT 1 FROM notification_opt_out o WHERE o.citizen_id = c.id AND o.kind = 'channel' "
                 f"AND o.value = '{channel}')")
    if channel == "sms":
        return f"(c.phone_enc IS NOT NULL OR p.phone_enc IS NOT NULL) AND (c.id IS NULL OR NOT {opted_out})"
    return (f"c.id IS NOT NULL AND EXISTS (SELECT 1 FROM platform_account a WHERE a.citizen_id = c.id "
            f"AND a.platform = '{channel}') AND NOT {opted_out}")


async def _queue_first_channel(conn, campaign: Campaign, policy: Policy, topic: str, now: dt.datetime) -> None:
    chain = [c for c in policy.channels if c in EXTERNAL]
    if not chain:
        return
    choice = "CASE " + " ".join(f"WHEN {_usable(c)} THEN '{c}'" for c in chain) + " END"
    await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, status, "
        f"attempts, created_at) SELECT {rawsql.new_id_sql('dlv', conn)}, "
        "CAST(? AS TEXT) || x.person_bidx || ':' || x.ch, ?, x.person_bidx, x.citizen_id, x.ch, ?, 'queued', 0, ? "
        f"FROM (SELECT r.person_bidx, c.id AS citizen_id, {choice} AS ch FROM policy_reach r "
        "LEFT JOIN citizen c ON c.id_number_bidx = r.person_bidx "
        "LEFT JOIN population_record p ON p.id_number_bidx = r.person_bidx "
        "WHERE r.campaign_id = ? AND (c.id IS NULL OR NOT EXISTS (SELECT 1 FROM notification_opt_out t "
        "WHERE t.citizen_id = c.id AND t.kind = 'topic' AND t.value = ?))) x "
        "WHERE x.ch IS NOT NULL ON CONFLICT (dedupe_key) DO NOTHING",
        [f"{policy.id}:", campaign.id, topic, now, campaign.id, topic], conn)


async def start_senders(*, jobs, campaign_id: str, count: int, lease_seconds: int = 60) -> None:
    """Queue `count` senders for the campaign (they share its rows through claims, so extra ones are harmless)."""
    from notifications.sender import HEARTBEAT_KEY

    # Counts as a heartbeat until they start, so the watchdog does not add more meanwhile.
    await jobs.pool.set(HEARTBEAT_KEY.format(campaign_id), "starting", ex=max(2, lease_seconds))
    for _ in range(count):
        await jobs.enqueue("send_deliveries", campaign_id)


async def watchdog(*, jobs, settings, redis) -> int:
    """Recover what dead workers left: lapsed claims, lost enqueues, campaigns without a live sender."""
    from notifications.sender import sender_alive

    await outbox.recover_lapsed()
    now = utc_now()
    started = 0
    for campaign in await Campaign.filter(status__in=("queued", "running"), queue_name=settings.job_queue):
        if campaign.stage == "match":
            lost = campaign.status == "queued" and campaign.created_at < now - LOST_ENQUEUE
            stale = campaign.status == "running" and (campaign.started_at or now) < now - STALE_MATCH
            if lost or stale:
                await jobs.enqueue("run_campaign", campaign.id)
                started += 1
            continue
        if await sender_alive(redis, campaign.id):
            continue
        left = await outbox.open_count(campaign.id)
        if any(left.values()):
            await start_senders(jobs=jobs, campaign_id=campaign.id, count=settings.push_senders,
                                lease_seconds=settings.delivery_lease_seconds)
            started += 1
        else:
            from api.policies.service import finish_if_done

            await finish_if_done(campaign_id=campaign.id)
    return started

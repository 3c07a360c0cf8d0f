"""The push fan-out: senders claim batches of a campaign's outbox rows and send them on their channels.

Exactly once, as a citizen sees it: one row per (policy, person, channel) by a unique key; each row is
marked `sending` just before its upstream call and `sent` just after, so a retried or restarted sender
skips what went out. At most `push_concurrency` calls per sender are ever in flight: that bounds what a
crash can leave uncertain (see notifications/outbox.py). A campaign's SMS rows go up to
`sms_numbers_per_send` to a request, each row keeping that request's OutId, so the delivery report
settles any of them (notifications/settle.py).
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from api.core.backoff import Backoff, store_outage
from api.core.deps import Deps
from api.core.ids import new_id
from api.core.logging import get_logger
from notifications import channels, leases, limits, outbox, templates, throttle
from notifications.channels import EXTERNAL, Message
from notifications.models import InboxMessage

log = get_logger("notifications.sender")

HEARTBEAT_KEY = "push:alive:{}"
QUOTA_PAUSE_SECONDS = channels.QUOTA_PAUSE_SECONDS

__all__ = ["CampaignRun", "expect_senders", "send_campaign", "sender_alive", "senders_here"]

_running_here = 0  # campaign senders at work in this process


@dataclass(frozen=True)
class CampaignRun:
    """What a sender needs of a campaign, handed over by the domain that owns campaigns."""

    campaign_id: str
    chain: list[str]  # the channels in the policy's order (the inbox is not one of them)
    message: Message
    still_running: Callable[[], Awaitable[bool]]  # asked every batch and window: a pause or cancel stops sending
    on_drained: Callable[[], Awaitable[object]]  # no row is left to send: the owner may finish the campaign
    # person_bidx -> the id of each person's own record the message opens (a grant); None: the policy for all.
    ref_ids: Callable[[list[str]], Awaitable[dict[str, str]]] | None = None


async def sender_alive(redis, campaign_id: str) -> bool:
    """True while some sender works on the campaign (it renews a heartbeat with every window of calls)."""
    return bool(await redis.exists(HEARTBEAT_KEY.format(campaign_id)))


async def expect_senders(redis, campaign_id: str, *, seconds: int) -> None:
    """Count as the campaign's heartbeat until the senders just queued start (so no more are added meanwhile)."""
    await redis.set(HEARTBEAT_KEY.format(campaign_id), "starting", ex=max(2, seconds))


def senders_here() -> int:
    """How many campaign senders this process is running now (the event lane leaves fresh events to a process
    running none)."""
    return _running_here


async def send_campaign(*, deps: Deps, campaign: CampaignRun) -> dict:
    """Send the campaign's due rows until none is left or the campaign stops running; the counts."""
    global _running_here
    _running_here += 1
    backoff = Backoff("campaign_sender")
    try:
        while True:
            claim_id = new_id("clm")
            try:
                return await _send_campaign(deps=deps, campaign=campaign, claim_id=claim_id)
            except Exception as exc:
                if not store_outage(exc):
                    raise
                error = exc
            # A store is out: start over once both answer, with the rows this run had claimed back in the queue
            # (those it was sending keep their lease). Failing the job instead would spend its tries on one
            # outage and could fail the campaign.
            await _take_back_after_outage(deps, backoff, error, claim_id=claim_id)
    finally:
        backoff.leave()
        _running_here -= 1


async def _take_back_after_outage(deps: Deps, backoff: Backoff, error: BaseException, *, claim_id: str) -> None:
    while True:
        await backoff.failed(error)
        try:
            await deps.redis.ping()
            await outbox.release(claim_id)
        except Exception as exc:  # noqa: BLE001 - still out
            error = exc
            continue
        backoff.ok()
        return


async def _send_campaign(*, deps: Deps, campaign: CampaignRun, claim_id: str) -> dict:
    s, campaign_id = deps.settings, campaign.campaign_id
    await outbox.recover_lapsed(campaign_id=campaign_id)
    async with leases.renewing(claim_id=claim_id, lease_seconds=s.delivery_lease_seconds,
                               beat=functools.partial(_beat, deps, campaign_id, claim_id)):
        return await _send_rows(deps=deps, campaign=campaign, claim_id=claim_id)


async def _send_rows(*, deps: Deps, campaign: CampaignRun, claim_id: str) -> dict:
    s, campaign_id = deps.settings, campaign.campaign_id
    totals = Counter()
    while True:
        await _beat(deps, campaign_id, claim_id)
        if not await campaign.still_running():
            await outbox.release(claim_id)
            break
        paused = await throttle.paused_channels(deps.redis, EXTERNAL)
        at = limits.now(deps)
        quiet = limits.quiet_until(s, at)
        rows = await outbox.claim(campaign_id=campaign_id, claim_id=claim_id, limit=s.push_batch_size,
                                  lease_seconds=s.delivery_lease_seconds, skip_channels=paused, due_at=at,
                                  quiet_until=quiet)
        if rows:
            await _process(rows, deps=deps, campaign=campaign, claim_id=claim_id, totals=totals)
            continue
        left = await outbox.open_count(campaign_id, at=at)
        if quiet is not None and not left["due"]:
            # Quiet hours and only deferred rows left: stop rather than wait for hours inside one job; the
            # watchdog starts senders again while rows are open, and they send once the quiet period ends.
            await deps.redis.delete(HEARTBEAT_KEY.format(campaign_id))
            log.info("campaign_sender_quiet", campaign_id=campaign_id, until=quiet.isoformat())
            break
        if left["held"] and (await outbox.recover_lapsed(campaign_id=campaign_id))["requeued"]:
            continue  # a dead sender's claimed rows, back in the queue: this one takes them
        if left["later"] or left["held"] or (left["due"] and paused):
            # Retries not yet due, a channel paused, or rows another sender holds (whose lease this one watches,
            # to take them back the moment it lapses): wait here, holding the heartbeat.
            await asyncio.sleep(1.0)
            continue
        await campaign.on_drained()
        break
    log.info("campaign_sender_done", campaign_id=campaign_id, **totals)
    return dict(totals)


async def _beat(deps: Deps, campaign_id: str, claim_id: str) -> None:
    # The heartbeat lives as long as a lease and is renewed with it, every window: were it renewed only per
    # batch, a slow batch would look like a dead sender and the watchdog would start a second one.
    await deps.redis.set(HEARTBEAT_KEY.format(campaign_id), claim_id, ex=max(2, deps.settings.delivery_lease_seconds))


async def _process(rows: list[dict], *, deps: Deps, campaign: CampaignRun, claim_id: str, totals: Counter) -> None:
    by_channel: dict[str, list[dict]] = {}
    for row in rows:
        by_channel.setdefault(row["channel"], []).append(row)
    own = await campaign.ref_ids(sorted({r["person_bidx"] for r in rows if r["person_bidx"]})) \
        if campaign.ref_ids else {}
    if "inbox" in by_channel:
        inbox = by_channel.pop("inbox")
        await _deliver_inbox(inbox, campaign.message, own, deps=deps)
        totals["delivered"] += len(inbox)
    for channel, group in by_channel.items():
        await _send_channel(channel, group, deps=deps, campaign=campaign, own=own, claim_id=claim_id, totals=totals)


async def _deliver_inbox(rows: list[dict], message: Message, own: dict[str, str], *, deps: Deps) -> None:
    text = templates.of(deps).render(message.kind, "inbox", message.params())
    refs = {r["id"]: message.ref(own.get(r["person_bidx"])) for r in rows}
    # The message id comes from the row's, so the inbox write and the row's status commit together, once.
    async with in_transaction():
        await InboxMessage.bulk_create(
            [InboxMessage(id=f"msg_{r['id'][4:]}", citizen_id=r["citizen_id"], topic=message.topic,
                          title=text.title, body=text.body, ref_kind=refs[r["id"]][0], ref_id=refs[r["id"]][1])
             for r in rows if r["citizen_id"]], ignore_conflicts=True)
        await outbox.mark_inbox_delivered([r["id"] for r in rows if r["citizen_id"]])
        await outbox.finish([r["id"] for r in rows if not r["citizen_id"]], status="skipped", reason="no_account")


async def _send_channel(channel: str, rows: list[dict], *, deps: Deps, campaign: CampaignRun, own: dict[str, str],
                        claim_id: str, totals: Counter) -> None:
    s = deps.settings
    consent_template = templates.of(deps).template_id(campaign.message.kind, "wechat")
    to = await channels.addresses(channel, rows, s)
    missing = [r for r in rows if r["id"] not in to]
    await _fall_through(missing, reason="no_phone" if channel == "sms" else "no_account", campaign=campaign,
                        totals=totals)
    ready = [r for r in rows if r["id"] in to]
    spent: set[str] = set()
    if channel == "wechat" and ready:
        allowed, spent = await channels.spend_consents(sorted({r["citizen_id"] for r in ready}),
                                                       template_id=consent_template)
        await _fall_through([r for r in ready if r["citizen_id"] not in allowed], reason="no_consent",
                            campaign=campaign, totals=totals)
        ready = [r for r in ready if r["citizen_id"] in allowed]
    rate = getattr(s, f"push_rate_{channel}")
    per_send = s.sms_numbers_per_send if channel == "sms" else 1
    step = s.push_concurrency * per_send
    for start in range(0, len(ready), step):
        window = ready[start:start + step]
        at = limits.now(deps)
        quiet = limits.quiet_until(s, at)
        if quiet is not None:
            # The quiet period began mid-batch: what is left waits for its end.
            await outbox.defer([r["id"] for r in ready[start:]], until=quiet, error="quiet_hours")
            await channels.refund_consents([r["citizen_id"] for r in ready[start:] if r["citizen_id"] in spent],
                                           template_id=consent_template)
            return
        if await throttle.paused_channels(deps.redis, (channel,)):
            await outbox.retry_later([r["id"] for r in ready[start:]], delay_seconds=0, error="channel_paused",
                                     count_attempt=False)
            await channels.refund_consents([r["citizen_id"] for r in ready[start:] if r["citizen_id"] in spent],
                                           template_id=consent_template)
            return
        if await _stopped(campaign, claim_id):
            return
        await throttle.acquire(deps.redis, channel, len(window), per_second=rate)
        await outbox.renew(claim_id=claim_id, lease_seconds=s.delivery_lease_seconds)
        await _beat(deps, campaign.campaign_id, claim_id)
        sends = _requests(window, per_send)
        held, capped = await outbox.mark_sending_capped(
            window, claim_id=claim_id, cap=s.push_weekly_cap_per_citizen, at=at,
            refs={r["id"]: out_id for out_id, rows in sends if out_id for r in rows})
        totals["skipped"] += len(capped)
        await channels.refund_consents([r["citizen_id"] for r in window if r["id"] in capped
                                        and r["citizen_id"] in spent], template_id=consent_template)
        window = [r for r in window if r["id"] in held]
        sends = [(out_id, kept) for out_id, rows in sends if (kept := [r for r in rows if r["id"] in held])]
        found = await asyncio.gather(*(_request(deps, channel, out_id, rows, to=to, campaign=campaign, own=own)
                                       for out_id, rows in sends))
        outcomes = {row_id: outcome for one in found for row_id, outcome in one.items()}
        await _record(channel, window, [outcomes[r["id"]] for r in window], deps=deps, campaign=campaign,
                      spent=spent, totals=totals)


def _requests(window: list[dict], per_send: int) -> list[tuple[str | None, list[dict]]]:
    """The window's rows as upstream requests: one per row (None: tagged with the row's own id), or up to
    `per_send` rows sharing one request and its OutId."""
    if per_send == 1:
        return [(None, [row]) for row in window]
    return [(new_id("smb"), window[i:i + per_send]) for i in range(0, len(window), per_send)]


async def _request(deps: Deps, channel: str, out_id: str | None, rows: list[dict], *, to: dict[str, str],
                   campaign: CampaignRun, own: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """One upstream request for `rows`: each row's (outcome, reason)."""
    if out_id is None:
        row = rows[0]
        return {row["id"]: await channels.attempt(deps, channel, to[row["id"]],
                                                  campaign.message.opening(own.get(row["person_bidx"])),
                                                  out_id=row["id"])}
    # Many numbers, one text (an SMS opens no page of its own).
    outcome = await channels.attempt(deps, channel, [to[r["id"]] for r in rows], campaign.message, out_id=out_id)
    if outcome[0] not in ("refused", "failed") or len(rows) == 1:
        return {r["id"]: outcome for r in rows}
    # One number the provider refuses refuses the whole request, and nothing went out: each number alone shows
    # which (under the same OutId, which is what the rows keep for their report).
    each = await asyncio.gather(*(channels.attempt(deps, channel, to[r["id"]], campaign.message, out_id=out_id)
                                  for r in rows))
    return {r["id"]: outcome for r, outcome in zip(rows, each, strict=True)}


async def _stopped(campaign: CampaignRun, claim_id: str) -> bool:
    """True (and the unstarted rows given back) when the campaign was paused or cancelled meanwhile."""
    if await campaign.still_running():
        return False
    await outbox.release(claim_id)
    return True


async def _record(channel: str, window: list[dict], outcomes: list[tuple[str, str | None]], *, deps: Deps,
                  campaign: CampaignRun, spent: set[str], totals: Counter) -> None:
    consent_template = templates.of(deps).template_id(campaign.message.kind, "wechat")
    groups: dict[str, list[dict]] = {}
    for row, (outcome, reason) in zip(window, outcomes, strict=True):
        groups.setdefault(outcome, []).append({**row, "reason": reason})
    await outbox.finish([r["id"] for r in groups.get("sent", [])], status="sent")
    # Timed out after the request left: the platform may have it. Not resent (a duplicate is worse than a
    # message the inbox already holds); counted as uncertain.
    await outbox.finish([r["id"] for r in groups.get("unknown", [])], status="uncertain", reason="upstream_timeout")
    totals["sent"] += len(groups.get("sent", []))
    for reason in {r["reason"] for r in groups.get("failed", [])}:
        await outbox.finish([r["id"] for r in groups["failed"] if r["reason"] == reason], status="failed",
                            reason=reason)
    totals["failed"] += len(groups.get("failed", []))
    refused = groups.get("refused", [])
    if refused:
        # A row ends and its next channel's row is queued in one transaction: between the two, another sender
        # would find nothing open and complete the campaign, and a crash would lose the message.
        async with in_transaction():
            for reason in {r["reason"] for r in refused}:
                await outbox.finish([r["id"] for r in refused if r["reason"] == reason], status="failed",
                                    reason=reason)
            await _add_next(refused, campaign=campaign, totals=totals)
    if channel == "wechat":
        await channels.forget_consents([r["citizen_id"] for r in refused if r["reason"] == "user_refused"],
                                       template_id=consent_template)
    transient = groups.get("transient", [])
    if transient:
        async with in_transaction():
            expired = await outbox.retry_or_expire(transient, bound_seconds=deps.settings.delivery_retry_seconds,
                                                   error="upstream_unavailable")
            await _add_next([r for r in transient if r["id"] in expired], campaign=campaign, totals=totals)
        totals["expired"] += len(expired)
    quota = groups.get("quota", [])
    if quota:
        await throttle.pause_channel(deps.redis, channel, seconds=QUOTA_PAUSE_SECONDS, reason=quota[0]["reason"])
        await outbox.retry_later([r["id"] for r in quota], delay_seconds=0, error="quota", count_attempt=False)
        log.warning("channel_paused_for_quota", channel=channel, seconds=QUOTA_PAUSE_SECONDS)
    if channel == "wechat":
        unsent = [r["citizen_id"] for r in transient + quota if r["citizen_id"] in spent]
        await channels.refund_consents(unsent, template_id=consent_template)


async def _fall_through(rows: list[dict], *, reason: str, campaign: CampaignRun, totals: Counter) -> None:
    """These rows cannot go out on their channel: end them as skipped and queue the next channel."""
    if not rows:
        return
    async with in_transaction():  # see _record: the end and the next row together
        await outbox.finish([r["id"] for r in rows], status="skipped", reason=reason)
        await _add_next(rows, campaign=campaign, totals=totals)
    totals["skipped"] += len(rows)


async def _add_next(rows: list[dict], *, campaign: CampaignRun, totals: Counter) -> None:
    if not rows:
        return
    refused = await channels.opt_outs(sorted({r["citizen_id"] for r in rows if r["citizen_id"]}))
    following = []
    for r in rows:
        nxt = channels.next_channel(campaign.chain, r["channel"], refused.get(r["citizen_id"], set()))
        if nxt:
            following.append({**r, "channel": nxt})
    totals["fallbacks"] += await outbox.add_fallbacks(following, policy_id=campaign.message.policy_id,
                                                      campaign_id=campaign.campaign_id,
                                                      topic=campaign.message.topic)

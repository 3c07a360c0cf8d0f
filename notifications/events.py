"""Event messages (an application moved, a certificate issued, a code frozen...): queued with the event, sent by a
lane of their own.

One event gives one inbox message (written at once, in the event's transaction) and one outbox row on the
citizen's first usable channel; a channel that cannot take it (no account there, no consent or credit, opted out,
refused) ends its row and queues the next one, so the citizen gets one platform message per event at most.
Dedupe keys are `<event key>:<channel>`: a retried or replayed event queues nothing twice.

The lane: every job worker (and the embedded server) runs an EventSender that polls for due event rows
(`campaign_id IS NULL`). Campaign senders never take them, and this lane never takes campaign rows, so a
message about a citizen's own case never waits behind a province-wide push. Nor behind a campaign's senders
in the same process: their calls crowd its event loop (and the GIL the platform threads need), so a lane whose
process runs campaign senders leaves fresh rows to a lane whose process runs none, when there is one (free lanes
say so in Redis at every poll), and takes only rows that have waited FRESH_SECONDS. Events ignore the quiet hours and
the weekly cap (those are for policy pushes), and use SMS only for important kinds unless the citizen opted in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from api.core import pii, rawsql
from api.core.backoff import Backoff
from api.core.deps import Deps
from api.core.ids import new_id
from api.core.jobs import cancel_and_wait
from api.core.logging import get_logger
from notifications import channels, leases, outbox, sender, templates, throttle
from notifications.channels import EXTERNAL
from notifications.models import InboxMessage

log = get_logger("notifications.events")

DEFAULT_ORDER = ("wechat", "alipay", "sms")
SMS_ALL_TOPICS = ("optin", "sms_all")  # (kind, value) of the preference row that opts into SMS for every topic
PHONE_CONTEXT = "outbox.phone"
FREE_LANES_KEY = "events:free_lanes"  # sorted set: lane id -> when it last polled with no campaign sender beside it
FREE_LANE_TTL_SECONDS = 2.0  # a free lane says so at every poll (0.2 s); one silent this long is not counted
FRESH_SECONDS = 0.5  # how long a busy lane leaves a new row to a free one


@dataclass(frozen=True)
class EventMessage:
    """One event's message as channels.send renders it."""

    kind: str
    topic: str
    page: str | None
    values: dict[str, Any]

    def params(self) -> dict:
        """What the template's fields are made of."""
        return self.values


async def queue_for_citizen(*, citizen_id: str, kind: str, params: dict, ref: dict, event_key: str,
                            page: str | None = None) -> bool:
    """Write the inbox message and queue the platform message of one event; False when this event was already
    queued (nothing is written twice). Call inside the transaction that made the event."""
    d = templates.definition(kind)
    text = templates.inbox_text(kind, params)  # a template that cannot render fails the event, not a worker later
    row_id = new_id("dlv")
    inserted = await rawsql.fetch(
        "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
        "provider_ref, sent_at, created_at) VALUES (?, ?, ?, 'inbox', ?, ?, 'delivered', 1, ?, ?, ?) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        [row_id, f"{event_key}:inbox", citizen_id, d["topic"], json.dumps({"kind": kind, "ref": ref}),
         f"msg_{row_id[4:]}", outbox.now(), outbox.now()])
    if not inserted:
        return False
    await InboxMessage.create(id=f"msg_{row_id[4:]}", citizen_id=citizen_id, topic=d["topic"], title=text.title,
                              body=text.body, ref_kind=ref.get("kind"), ref_id=ref.get("id"))
    chain = await _chain_for(citizen_id, kind)
    if chain:
        await _insert_row(event_key=event_key, channel=chain[0], citizen_id=citizen_id, topic=d["topic"],
                          payload={"kind": kind, "params": params, "page": page, "ref": ref, "chain": chain,
                                   "title": text.title})
    return True


async def queue_for_phone(*, phone: str, kind: str, params: dict, ref: dict, event_key: str,
                          page: str | None = None) -> bool:
    """Queue an SMS for someone who has no account (no inbox to write): the phone is sealed in the row. False when
    already queued or the kind has no SMS variant."""
    d = templates.definition(kind)
    if "sms" not in d:
        return False
    sealed = pii.cipher().encrypt(phone, context=PHONE_CONTEXT)
    return await _insert_row(event_key=event_key, channel="sms", citizen_id=None, topic=d["topic"],
                             payload={"kind": kind, "params": params, "page": page, "ref": ref, "chain": ["sms"],
                                      "to": sealed, "title": templates.inbox_text(kind, params).title})


async def _insert_row(*, event_key: str, channel: str, citizen_id: str | None, topic: str, payload: dict) -> bool:
    rows = await rawsql.fetch(
        "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        [new_id("dlv"), f"{event_key}:{channel}", citizen_id, channel, topic,
         json.dumps({**payload, "event": event_key}, ensure_ascii=False), outbox.now()])
    return bool(rows)


async def _chain_for(citizen_id: str, kind: str) -> list[str]:
    """The citizen's channels for this kind, in order: those the template has, where the citizen can be reached
    (an account on the platform, a phone) and has not opted out; SMS only for important kinds or by opt-in."""
    d = templates.definition(kind)
    prefs = {(r["kind"], r["value"]) for r in await rawsql.fetch(
        "SELECT kind, value FROM notification_opt_out WHERE citizen_id = ?", [citizen_id])}
    if ("topic", d["topic"]) in prefs:
        return []
    on = {r["platform"] for r in await rawsql.fetch(
        "SELECT DISTINCT platform FROM platform_account WHERE citizen_id = ?", [citizen_id])}
    has_phone = bool(await rawsql.fetch_value(
        "SELECT count(*) FROM citizen WHERE id = ? AND phone_enc IS NOT NULL", [citizen_id]))
    reachable = {"wechat": "wechat" in on, "alipay": "alipay" in on,
                 "sms": has_phone and (d.get("important", False) or SMS_ALL_TOPICS in prefs)}
    return [c for c in DEFAULT_ORDER if c in d and reachable[c] and ("channel", c) not in prefs]


class EventSender:
    """The event lane of one process: polls for due event rows and sends them until stopped."""

    def __init__(self, deps: Deps):
        self.deps = deps
        self.task: asyncio.Task | None = None
        self.lane_id = new_id("lane")
        self.backoff = Backoff("event_lane")

    def start(self) -> None:
        """Start polling in the running loop."""
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling; rows held at this moment go back to the queue when their lease lapses."""
        await cancel_and_wait(self.task)
        self.task = None
        self.backoff.leave()
        try:  # no busy lane leaves rows to this one any more
            await self.deps.redis.zrem(FREE_LANES_KEY, self.lane_id)
        except Exception:  # noqa: BLE001 - Redis gone too: the entry lapses by itself within a second
            pass

    async def _run(self) -> None:
        s = self.deps.settings
        while True:
            try:
                taken = await send_due(self.deps, leave_fresh=await self._leave_fresh_or_not())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a store outage must not end the lane: log once, wait, go on
                await self.backoff.failed(exc)
                continue
            self.backoff.ok()
            if taken < s.event_batch_size:
                await asyncio.sleep(s.event_poll_seconds)

    async def _leave_fresh_or_not(self) -> bool:
        # The hand-over is an optimisation: with Redis out of reach this lane sends everything itself.
        try:
            return await self.leave_fresh()
        except Exception:  # noqa: BLE001 - any Redis failure: the database alone still carries the lane
            return False

    async def leave_fresh(self, *, busy: bool | None = None) -> bool:
        """Tell the other lanes whether this one is free (no campaign sender in its process, unless `busy` says);
        True when it is busy and another lane is free, which then takes the fresh rows."""
        redis, now = self.deps.redis, time.time()
        busy = sender.senders_here() > 0 if busy is None else busy
        pipe = redis.pipeline(transaction=False)
        if busy:
            pipe.zrem(FREE_LANES_KEY, self.lane_id)
        else:
            pipe.zadd(FREE_LANES_KEY, {self.lane_id: now})
        pipe.zremrangebyscore(FREE_LANES_KEY, "-inf", now - FREE_LANE_TTL_SECONDS)
        pipe.zcard(FREE_LANES_KEY)
        free = (await pipe.execute())[-1]
        return busy and free > 0


async def send_due(deps: Deps, *, leave_fresh: bool = False) -> int:
    """Send one batch of due event rows (with `leave_fresh`, only rows queued FRESH_SECONDS ago or earlier); how many
    rows were taken."""
    s = deps.settings
    claim_id = new_id("clm")
    rows = await outbox.claim_events(claim_id=claim_id, limit=s.event_batch_size,
                                     lease_seconds=s.delivery_lease_seconds,
                                     queued_before=outbox.now() - dt.timedelta(seconds=FRESH_SECONDS)
                                     if leave_fresh else None)
    if not rows:
        return 0
    for row in rows:
        if isinstance(row.get("payload"), str):
            row["payload"] = json.loads(row["payload"])
    by_channel: dict[str, list[dict]] = {}
    for row in rows:
        by_channel.setdefault(row["channel"], []).append(row)
    totals: Counter = Counter()
    async with leases.renewing(claim_id=claim_id, lease_seconds=s.delivery_lease_seconds):
        await asyncio.gather(*(_send_channel(channel, group, deps=deps, claim_id=claim_id, totals=totals)
                               for channel, group in by_channel.items()))
    log.info("event_batch_sent", **totals)
    return len(rows)


async def _send_channel(channel: str, rows: list[dict], *, deps: Deps, claim_id: str, totals: Counter) -> None:
    if channel not in EXTERNAL:  # not a channel of ours (a row of an older shape): end it, never guess
        await outbox.finish([r["id"] for r in rows], status="skipped", reason="unknown_channel")
        return
    if await throttle.paused_channels(deps.redis, (channel,)):
        await _fall_through(rows, reason="channel_paused", totals=totals)  # an event does not wait out a quota
        return
    to = await channels.addresses(channel, rows, deps.settings)
    await _fall_through([r for r in rows if r["id"] not in to],
                        reason="no_phone" if channel == "sms" else "no_account", totals=totals)
    ready = [r for r in rows if r["id"] in to]
    spent: dict[str, set[str]] = {}  # template id -> citizens whose one-time credit this send spent
    if channel == "wechat" and ready:
        # One consent pays for one message: a citizen's second row for a template in this batch waits for the next
        # batch, where it finds the credit the first one left (or none) instead of riding on the first's.
        first: dict[tuple[str | None, str], dict] = {}
        for r in sorted(ready, key=lambda r: r["id"]):
            first.setdefault((_template(r, deps), r["citizen_id"]), r)
        later = [r["id"] for r in ready if first[(_template(r, deps), r["citizen_id"])] is not r]
        await outbox.retry_later(later, delay_seconds=0, error=None, count_attempt=False)
        ready = list(first.values())
        allowed: set[tuple[str, str]] = set()
        for template_id, group in _by_template(ready, deps).items():
            ok, spent[template_id] = await channels.spend_consents(sorted({r["citizen_id"] for r in group}),
                                                                   template_id=template_id)
            allowed |= {(template_id, c) for c in ok}
        refused = [r for r in ready if (_template(r, deps), r["citizen_id"]) not in allowed]
        await _fall_through(refused, reason="no_consent", totals=totals)
        ready = [r for r in ready if (_template(r, deps), r["citizen_id"]) in allowed]
    held = await outbox.mark_sending([r["id"] for r in ready], claim_id=claim_id)
    ready = [r for r in ready if r["id"] in held]
    outcomes = await asyncio.gather(*(channels.attempt(deps, channel, to[r["id"]], _message(r), out_id=r["id"])
                                     for r in ready))
    await _record(channel, ready, outcomes, deps=deps, spent=spent, totals=totals)


def _message(row: dict) -> EventMessage:
    p = row["payload"]
    return EventMessage(kind=p["kind"], topic=row["topic"], page=p.get("page"), values=p.get("params") or {})


def _template(row: dict, deps: Deps) -> str | None:
    return templates.of(deps).template_id(row["payload"]["kind"], "wechat")


def _by_template(rows: list[dict], deps: Deps) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(_template(r, deps), []).append(r)
    return groups


async def _record(channel: str, rows: list[dict], outcomes: list[tuple[str, str | None]], *, deps: Deps,
                  spent: dict[str, set[str]], totals: Counter) -> None:
    groups: dict[str, list[dict]] = {}
    for row, (outcome, reason) in zip(rows, outcomes, strict=True):
        groups.setdefault(outcome, []).append({**row, "reason": reason})
    await outbox.finish([r["id"] for r in groups.get("sent", [])], status="sent")
    # The request left and no answer came: the platform may have it. Not resent (a second message is a visible
    # duplicate; the inbox already holds this one).
    await outbox.finish([r["id"] for r in groups.get("unknown", [])], status="uncertain", reason="upstream_timeout")
    passing_on = groups.get("refused", []) + groups.get("quota", [])
    # A row ends and its next channel's row is queued in one transaction: a crash between them would lose it.
    async with in_transaction():
        for outcome in ("failed", "refused", "quota"):
            for reason in {r["reason"] for r in groups.get(outcome, [])}:
                await outbox.finish([r["id"] for r in groups[outcome] if r["reason"] == reason], status="failed",
                                    reason=reason if outcome != "quota" else "quota")
        await _add_next(passing_on, totals=totals)
    if groups.get("quota"):
        await throttle.pause_channel(deps.redis, channel, seconds=channels.QUOTA_PAUSE_SECONDS,
                                     reason=groups["quota"][0]["reason"])
    if channel == "wechat":
        for template_id, group in _by_template(groups.get("refused", []), deps).items():
            await channels.forget_consents([r["citizen_id"] for r in group if r["reason"] == "user_refused"],
                                           template_id=template_id)
    transient = groups.get("transient", [])
    async with in_transaction():
        expired = await outbox.retry_or_expire(transient, bound_seconds=deps.settings.delivery_retry_seconds,
                                               error="upstream_unavailable")
        # A message that ran out of time on this channel may still reach the citizen on the next one.
        await _add_next([r for r in transient if r["id"] in expired], totals=totals)
    if channel == "wechat":
        unsent = groups.get("transient", []) + groups.get("quota", [])
        for template_id, group in _by_template(unsent, deps).items():
            await channels.refund_consents([r["citizen_id"] for r in group
                                            if r["citizen_id"] in spent.get(template_id, set())],
                                           template_id=template_id)
    totals.update({k: len(v) for k, v in groups.items()})


async def _fall_through(rows: list[dict], *, reason: str, totals: Counter) -> None:
    """These rows cannot go out on their channel: end them as skipped and queue the citizen's next channel."""
    if not rows:
        return
    async with in_transaction():
        await outbox.finish([r["id"] for r in rows], status="skipped", reason=reason)
        await _add_next(rows, totals=totals)
    totals["skipped"] += len(rows)


async def _add_next(rows: list[dict], *, totals: Counter) -> None:
    for r in rows:
        p = r["payload"]
        chain = p.get("chain") or []
        rest = chain[chain.index(r["channel"]) + 1:] if r["channel"] in chain else []
        if rest:
            totals["fallbacks"] += await _insert_row(event_key=p["event"], channel=rest[0],
                                                     citizen_id=r["citizen_id"], topic=r["topic"],
                                                     payload={k: v for k, v in p.items() if k != "event"})

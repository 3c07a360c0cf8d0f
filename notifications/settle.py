"""Settling uncertain SMS rows (the answer to a send was lost, or a sender died mid-send) through the provider's
delivery report: QuerySendDetails, by number and day, the send found by its OutId (the row's id, or the id of the
request that carried it with other numbers, kept in its provider_ref).

- taken (waiting for its report, or delivered): the row is `sent` / `delivered` (reason `settled`); never resent;
- reported failed, or not reported once the provider's settle window has passed: sent once more on the same row,
  which moves uncertain → sending in one conditional update (two settlers cannot both send it) and is resent at
  most once (reason `resent`, or `resend_unknown` when that answer is lost too);
- still unknown (the report cannot be had until GIVE_UP_SECONDS after the send, or a resend not reported either):
  not resent, as an SMS twice is a visible duplicate, but told in the inbox (reason `told_in_inbox`). A campaign's
  person with an account already has the campaign's inbox message; one without (a registry entry alone) gets it
  held under their registry entry (`held` inbox row), delivered when their real name binds an account to it, the
  way their grant reaches them (notifications.service.deliver_held_messages).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Awaitable, Callable

from tortoise.transactions import in_transaction

from api.core import rawsql
from api.core.deps import Deps
from api.core.errors import AppError
from api.core.ids import new_id
from api.core.logging import get_logger
from api.core.workdays import SHANGHAI
from notifications import channels, leases, limits, outbox, templates, throttle
from notifications.channels import Message
from notifications.events import EventMessage
from notifications.models import InboxMessage

log = get_logger("notifications.settle")

SETTLE_WINDOW_SECONDS = 600  # a send the provider has not reported this long after it was never taken
GIVE_UP_SECONDS = 6 * 3600  # no report to be had this long: told in the inbox instead
BATCH = 200
TAKEN = {1: "sent", 3: "delivered"}  # SendStatus: 1 waiting for the handset's report, 2 failed, 3 delivered
DONE_REASONS = ("told_in_inbox", "told_nowhere")  # uncertain rows settled without knowing: never looked at again
SETTLED_REASONS = ("settled", "resent")

RefIds = Callable[[list[str]], Awaitable[dict[str, str]]]


async def campaigns_to_settle() -> list[str]:
    """Campaigns with SMS rows still uncertain."""
    return [r["campaign_id"] for r in await rawsql.fetch(
        "SELECT DISTINCT campaign_id FROM outbox_delivery WHERE status = 'uncertain' AND channel = 'sms' "
        f"AND campaign_id IS NOT NULL AND (reason IS NULL OR reason NOT IN {rawsql.in_list(list(DONE_REASONS))})",
        list(DONE_REASONS))]


async def settle_campaign(deps: Deps, *, campaign_id: str, message: Message, ref_ids: RefIds | None,
                          at: dt.datetime | None = None) -> dict:
    """Settle the campaign's uncertain SMS rows as of `at` (the push clock by default); the counts."""
    at = at or limits.now(deps)
    rows = await _uncertain("campaign_id = ?", [campaign_id])
    own = await ref_ids(sorted({r["person_bidx"] for r in rows if r["person_bidx"]})) if ref_ids and rows else {}
    # Quiet hours hold a campaign's resends as they hold its sends.
    may_resend = limits.quiet_until(deps.settings, at) is None

    async def hold(held: list[dict]) -> None:
        await _hold_inbox(held, deps=deps, message=message, own=own)

    return dict(await _settle(deps, rows, at=at, message_of=lambda r: message.opening(own.get(r["person_bidx"])),
                              hold=hold, may_resend=may_resend))


async def settle_events(deps: Deps, *, at: dt.datetime | None = None) -> dict:
    """Settle the uncertain SMS rows of events (the citizen's inbox message was written with the event); the
    counts."""
    def message_of(row: dict) -> EventMessage:
        p = row["payload"]
        return EventMessage(kind=p["kind"], topic=row["topic"], page=p.get("page"), values=p.get("params") or {})

    async def hold(rows: list[dict]) -> None:
        return None  # an event's citizen has the inbox message already; a phone alone (an invitation) has no inbox

    rows = await _uncertain("campaign_id IS NULL", [])
    return dict(await _settle(deps, rows, at=at or limits.now(deps), message_of=message_of, hold=hold,
                              may_resend=True))


async def _uncertain(scope: str, params: list) -> list[dict]:
    rows = await rawsql.fetch(
        "SELECT id, campaign_id, person_bidx, citizen_id, channel, topic, payload, reason, provider_ref, sent_at, "
        "created_at "
        f"FROM outbox_delivery WHERE {scope} AND status = 'uncertain' AND channel = 'sms' "
        f"AND (reason IS NULL OR reason NOT IN {rawsql.in_list(list(DONE_REASONS))}) ORDER BY id LIMIT ?",
        [*params, *DONE_REASONS, BATCH])
    for row in rows:
        if isinstance(row.get("payload"), str):
            row["payload"] = json.loads(row["payload"])
    return rows


async def _settle(deps: Deps, rows: list[dict], *, at: dt.datetime, message_of, hold, may_resend: bool) -> Counter:
    counts: Counter = Counter()
    if not rows:
        return counts
    to = await channels.addresses("sms", rows, deps.settings)
    taken: dict[str, list[str]] = {"sent": [], "delivered": []}
    resend, give_up = [], []
    for row in rows:
        handed = _aware(row["sent_at"] or row["created_at"])
        age = (at - handed).total_seconds()
        report = await _report(deps, to.get(row["id"]), row["provider_ref"] or row["id"], days={_day(handed), _day(at)})
        if report is not None and report & set(TAKEN):
            taken["delivered" if 3 in report else "sent"].append(row["id"])
        elif report is not None and (2 in report or age >= SETTLE_WINDOW_SECONDS):
            (give_up if row["reason"] == "resend_unknown" else resend).append(row)
        elif report is None and age >= GIVE_UP_SECONDS:
            give_up.append(row)
        else:
            counts["waiting"] += 1
    for status, ids in taken.items():
        counts["taken"] += await _mark_taken(ids, status=status)
    counts["told_in_inbox"] += await _tell_in_inbox(give_up, hold=hold)
    if may_resend:
        await _resend(deps, resend, message_of=message_of, hold=hold, counts=counts)
    if any(counts.values()):
        log.info("uncertain_sms_settled", **counts)
    return counts


def _aware(t: dt.datetime | str) -> dt.datetime:
    if isinstance(t, str):  # SQLite hands raw times back as text
        t = dt.datetime.fromisoformat(t)
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _day(t: dt.datetime) -> dt.date:
    return t.astimezone(SHANGHAI).date()


async def _report(deps: Deps, phone: str | None, out_id: str, *, days: set[dt.date]) -> set[int] | None:
    """The statuses the provider reports for this send (empty: not reported); None when it cannot tell now."""
    if phone is None:
        return None
    found: set[int] = set()
    try:
        for day in sorted(days):
            found |= {d.status for d in await deps.platforms["sms"].query(phone=phone, send_date=day, out_id=out_id)}
    except AppError as exc:  # unreachable, a broken answer, a refusal: the send stays unknown for now
        log.warning("sms_report_unavailable", error=exc.code)
        return None
    return found


async def _mark_taken(ids: list[str], *, status: str) -> int:
    if not ids:
        return 0
    return await rawsql.execute(
        "UPDATE outbox_delivery SET status = ?, reason = 'settled', claim_id = NULL, lease_until = NULL "
        f"WHERE status = 'uncertain' AND id IN {rawsql.in_list(ids)}", [status, *ids])


async def _tell_in_inbox(rows: list[dict], *, hold) -> int:
    if not rows:
        return 0
    async with in_transaction():
        ids = {r["id"] for r in await rawsql.fetch(
            "UPDATE outbox_delivery SET reason = CASE WHEN campaign_id IS NULL AND citizen_id IS NULL "
            "THEN 'told_nowhere' ELSE 'told_in_inbox' END WHERE status = 'uncertain' "
            f"AND id IN {rawsql.in_list([r['id'] for r in rows])} RETURNING id", [r["id"] for r in rows])}
        await hold([r for r in rows if r["id"] in ids and not r["citizen_id"]])
    nowhere = sum(1 for r in rows if r["id"] in ids and not r["citizen_id"] and not r["campaign_id"])
    if nowhere:
        log.warning("uncertain_sms_told_nowhere", count=nowhere)  # an invitation to a phone with no account
    return len(ids)


async def _resend(deps: Deps, rows: list[dict], *, message_of, hold, counts: Counter) -> None:
    if not rows:
        return
    claim_id = new_id("clm")
    ids = [r["id"] for r in rows]
    # The one conditional step that makes a second resend impossible: only the settler that moves the row
    # out of `uncertain` sends it. The resend goes alone, reported under the row's own id.
    held = {r["id"] for r in await rawsql.fetch(
        "UPDATE outbox_delivery SET status = 'sending', claim_id = ?, lease_until = ?, sent_at = ?, "
        "provider_ref = NULL "
        f"WHERE status = 'uncertain' AND id IN {rawsql.in_list(ids)} RETURNING id",
        [claim_id, outbox.now() + dt.timedelta(seconds=deps.settings.delivery_lease_seconds), outbox.now(), *ids])}
    rows = [r for r in rows if r["id"] in held]
    to = await channels.addresses("sms", rows, deps.settings)
    # Sent one by one under the SMS rate: the lease is renewed while they go, as a sender's is.
    async with leases.renewing(claim_id=claim_id, lease_seconds=deps.settings.delivery_lease_seconds):
        for row in rows:
            await throttle.acquire(deps.redis, "sms", 1, per_second=deps.settings.push_rate_sms)
            if row["id"] not in to:
                outcome, reason = "failed", "no_phone"
            else:
                outcome, reason = await channels.attempt(deps, "sms", to[row["id"]], message_of(row), out_id=row["id"])
            if outcome == "sent":
                await outbox.finish([row["id"]], status="sent", reason="resent")
                counts["resent"] += 1
            elif outcome == "unknown":
                await outbox.finish([row["id"]], status="uncertain", reason="resend_unknown")
                counts["resend_unknown"] += 1
            elif outcome in ("transient", "quota"):  # not taken: uncertain as before (its hand-off time too), for later
                await rawsql.execute(
                    "UPDATE outbox_delivery SET status = 'uncertain', claim_id = NULL, lease_until = NULL, sent_at = ? "
                    "WHERE id = ?", [row["sent_at"], row["id"]])
                counts["waiting"] += 1
            else:  # refused for good: the inbox is what is left
                async with in_transaction():
                    await outbox.finish([row["id"]], status="failed", reason=reason)
                    await hold([row] if not row["citizen_id"] else [])
                counts["failed"] += 1


async def _hold_inbox(rows: list[dict], *, deps: Deps, message: Message, own: dict[str, str]) -> None:
    """The campaign's inbox message for people it reached without an account: held under their registry entry
    (the dedupe key the campaign's own inbox row would have), or written at once to an account made since."""
    rows = [r for r in rows if r["person_bidx"]]
    if not rows:
        return
    text = templates.of(deps).render(message.kind, "inbox", message.params())
    people = sorted({r["person_bidx"] for r in rows})
    accounts = {r["id_number_bidx"]: r["id"] for r in await rawsql.fetch(
        f"SELECT id, id_number_bidx FROM citizen WHERE id_number_bidx IN {rawsql.in_list(people)}", people)}
    t = outbox.now()
    for row in rows:
        kind, ref_id = message.ref(own.get(row["person_bidx"]))
        row_id = new_id("dlv")
        payload = {"title": text.title, "body": text.body, "ref_kind": kind, "ref_id": ref_id}
        await rawsql.execute(
            "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, "
            "payload, status, reason, attempts, created_at) VALUES (?, ?, ?, ?, NULL, 'inbox', ?, ?, 'held', "
            "'no_account_yet', 0, ?) ON CONFLICT (dedupe_key) DO NOTHING",
            [row_id, f"{message.policy_id}:{row['person_bidx']}:inbox", row["campaign_id"], row["person_bidx"],
             message.topic, json.dumps(payload, ensure_ascii=False), t])
        if row["person_bidx"] in accounts:
            await deliver_held(citizen_id=accounts[row["person_bidx"]], person_bidx=row["person_bidx"])


async def deliver_held(*, citizen_id: str, person_bidx: str) -> int:
    """Write the inbox messages held for a registry person into the inbox of the account now bound to them; how
    many. Call inside the transaction that binds them."""
    rows = await rawsql.fetch("SELECT id, topic, payload FROM outbox_delivery WHERE person_bidx = ? "
                              "AND channel = 'inbox' AND status = 'held'", [person_bidx])
    if not rows:
        return 0
    messages = []
    for r in rows:
        p = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
        messages.append(InboxMessage(id=f"msg_{r['id'][4:]}", citizen_id=citizen_id, topic=r["topic"],
                                     title=p["title"], body=p["body"], ref_kind=p.get("ref_kind"),
                                     ref_id=p.get("ref_id")))
    await InboxMessage.bulk_create(messages, ignore_conflicts=True)
    ids = [r["id"] for r in rows]
    return await rawsql.execute(
        "UPDATE outbox_delivery SET status = 'delivered', reason = 'held_until_login', citizen_id = ?, "
        "provider_ref = 'msg_' || substr(id, 5), attempts = attempts + 1, sent_at = ? "
        f"WHERE status = 'held' AND id IN {rawsql.in_list(ids)}", [citizen_id, outbox.now(), *ids])

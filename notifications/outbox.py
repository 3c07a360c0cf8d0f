"""The outbox of deliveries (campaigns' and events'): claiming batches, marking each step, recovering what a crash
left.

A row goes queued → claimed (a sender holds it under a lease) → sending (the upstream call is under way)
→ sent / delivered / failed / skipped / expired (a passing failure that lasted past the retry time). A sender
that dies leaves its rows behind a lapsed lease: claimed rows never reached the upstream and go back to the
queue; sending rows may or may not have, and are marked uncertain rather than sent again (a second message is a
visible duplicate, while a missing one is still in the inbox and the grant stands).
"""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from api.core import rawsql
from api.core.ids import new_id
from api.core.workdays import utc_now
from notifications.channels import EXTERNAL
from notifications.limits import WEEK

OPEN_STATUSES = ("queued", "claimed", "sending")

# What a row's status means to the citizen it was addressed to (GET /api/v1/me/messages): the one place the outbox's
# states meet the contract's. Rows in no key here (skipped: no consent, no account, opted out; cancelled before
# sending) were never sent to the citizen, so their history leaves them out.
HISTORY_STATUS = {"queued": "queued", "claimed": "queued", "sending": "queued", "sent": "delivered",
                  "delivered": "delivered", "failed": "failed", "expired": "expired", "uncertain": "uncertain"}


now = utc_now  # outbox times are compared in the database, in UTC


async def queue_campaign(*, campaign_id: str, policy_id: str, topic: str, chain: list[str],
                         contacts: rawsql.Subquery, count: bool = True) -> int:
    """Queue, set-wise, an inbox row for everyone with an account and a row on the first usable channel of
    `chain` for each person of `contacts` (see api.citizens.contacts.reachable); one row per policy, person and
    channel ever. Run inside the caller's transaction. The count of the campaign's rows (0 unless `count`)."""
    t = now()
    # The inbox always gets the message, for everyone with an account (a registry entry alone has no inbox).
    await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, status, "
        f"attempts, created_at) SELECT {rawsql.ordered_id_sql('dlv')}, CAST(? AS TEXT) || x.person_bidx || ':inbox', "
        f"?, x.person_bidx, x.citizen_id, 'inbox', ?, 'queued', 0, ? FROM ({contacts.sql}) x "
        "WHERE x.citizen_id IS NOT NULL ON CONFLICT (dedupe_key) DO NOTHING",
        [f"{policy_id}:", campaign_id, topic, t, *contacts.params])
    chain = [c for c in chain if c in _USABLE]
    if chain:
        choice = "CASE " + " ".join(f"WHEN {_USABLE[c]} THEN '{c}'" for c in chain) + " END"
        await rawsql.execute(
            "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, "
            f"status, attempts, created_at) SELECT {rawsql.ordered_id_sql('dlv')}, "
            "CAST(? AS TEXT) || x.person_bidx || ':' || x.ch, ?, x.person_bidx, x.citizen_id, x.ch, ?, 'queued', 0, ? "
            f"FROM (SELECT y.person_bidx, y.citizen_id, {choice} AS ch FROM ({contacts.sql}) y "
            "WHERE y.citizen_id IS NULL OR NOT EXISTS (SELECT 1 FROM notification_opt_out t "
            "WHERE t.citizen_id = y.citizen_id AND t.kind = 'topic' AND t.value = ?)) x "
            "WHERE x.ch IS NOT NULL ON CONFLICT (dedupe_key) DO NOTHING",
            [f"{policy_id}:", campaign_id, topic, t, *contacts.params, topic])
    if not count:
        return 0
    return int(await rawsql.fetch_value("SELECT count(*) FROM outbox_delivery WHERE campaign_id = ?", [campaign_id]))


def _opted_out(channel: str) -> str:
    return ("EXISTS (SELECT 1 FROM notification_opt_out o WHERE o.citizen_id = y.citizen_id AND o.kind = 'channel' "
            f"AND o.value = '{channel}')")


# SQL over a `contacts` row `y`: the person can be reached on the channel and has not opted out of it (the
# channel names are ours, never input).
_USABLE = {
    "sms": f"y.has_phone AND (y.citizen_id IS NULL OR NOT {_opted_out('sms')})",
    **{c: f"y.citizen_id IS NOT NULL AND y.on_{c} AND NOT {_opted_out(c)}" for c in ("wechat", "alipay")},
}


async def recover_lapsed(*, campaign_id: str | None = None) -> dict:
    """Requeue claimed rows and mark sending rows uncertain where the lease lapsed; the counts."""
    scope, params = ("AND campaign_id = ?", [campaign_id]) if campaign_id else ("", [])
    t = now()
    requeued = await rawsql.execute(
        "UPDATE outbox_delivery SET status = 'queued', claim_id = NULL, lease_until = NULL "
        f"WHERE status = 'claimed' AND lease_until < ? {scope}", [t, *params])
    uncertain = await rawsql.execute(
        "UPDATE outbox_delivery SET status = 'uncertain', reason = 'worker_lost_mid_send', claim_id = NULL "
        f"WHERE status = 'sending' AND lease_until < ? {scope}", [t, *params])
    return {"requeued": requeued, "uncertain": uncertain}


async def claim(*, campaign_id: str, claim_id: str, limit: int, lease_seconds: int,
                skip_channels: set[str], due_at: dt.datetime | None = None,
                quiet_until: dt.datetime | None = None) -> list[dict]:
    """Take up to `limit` rows of the campaign due at `due_at` (the push clock; now by default) for this sender
    (rows other senders hold are skipped). In quiet hours (`quiet_until`, its end) the external rows are first
    deferred to that end and only the inbox rows are taken."""
    t = now()
    due_at = due_at or t
    if quiet_until is not None:
        await defer_external(campaign_id=campaign_id, until=quiet_until)
        skip_channels = set(skip_channels) | set(EXTERNAL)
    skip = f"AND channel NOT IN {rawsql.in_list(sorted(skip_channels))}" if skip_channels else ""
    lock = "FOR UPDATE SKIP LOCKED" if rawsql.dialect() == "postgres" else ""
    return await rawsql.fetch(
        "UPDATE outbox_delivery SET status = 'claimed', claim_id = ?, lease_until = ? WHERE id IN ("
        "SELECT id FROM outbox_delivery WHERE campaign_id = ? AND status = 'queued' "
        f"AND (next_attempt_at IS NULL OR next_attempt_at <= ?) {skip} LIMIT ? {lock}) "
        "RETURNING id, person_bidx, citizen_id, channel, attempts",
        [claim_id, t + dt.timedelta(seconds=lease_seconds), campaign_id, due_at, *sorted(skip_channels), limit])


async def claim_events(*, claim_id: str, limit: int, lease_seconds: int,
                       queued_before: dt.datetime | None = None) -> list[dict]:
    """Take up to `limit` due event rows (rows of no campaign, on an external channel) for this sender; with
    `queued_before`, only rows queued by then."""
    t = now()
    lock = "FOR UPDATE SKIP LOCKED" if rawsql.dialect() == "postgres" else ""
    age, aged = ("AND created_at <= ?", [queued_before]) if queued_before is not None else ("", [])
    return await rawsql.fetch(
        "UPDATE outbox_delivery SET status = 'claimed', claim_id = ?, lease_until = ? WHERE id IN ("
        "SELECT id FROM outbox_delivery WHERE campaign_id IS NULL AND status = 'queued' "
        f"AND (next_attempt_at IS NULL OR next_attempt_at <= ?) {age} ORDER BY created_at LIMIT ? {lock}) "
        "RETURNING id, person_bidx, citizen_id, channel, topic, attempts, payload",
        [claim_id, t + dt.timedelta(seconds=lease_seconds), t, *aged, limit])


async def retry_or_expire(rows: list[dict], *, bound_seconds: int, error: str) -> set[str]:
    """Rows whose send failed for a passing reason: back in the queue with backoff (2 s doubling, at most 5 min)
    until `bound_seconds` after their first such failure, then `expired`. The ids that expired."""
    if not rows:
        return set()
    t = now()
    ids = [r["id"] for r in rows]
    expired = {r["id"] for r in await rawsql.fetch(
        "UPDATE outbox_delivery SET status = 'expired', reason = ?, last_error = ?, claim_id = NULL, "
        "lease_until = NULL, attempts = attempts + 1 WHERE retry_until IS NOT NULL AND retry_until <= ? "
        f"AND id IN {rawsql.in_list(ids)} RETURNING id", ["retry_time_exhausted", error, t, *ids])}
    for attempts in sorted({r["attempts"] for r in rows if r["id"] not in expired}):
        group = [r["id"] for r in rows if r["attempts"] == attempts and r["id"] not in expired]
        await rawsql.execute(
            "UPDATE outbox_delivery SET status = 'queued', claim_id = NULL, lease_until = NULL, "
            "attempts = attempts + 1, last_error = ?, next_attempt_at = ?, retry_until = COALESCE(retry_until, ?) "
            f"WHERE id IN {rawsql.in_list(group)}",
            [error, t + dt.timedelta(seconds=min(300, 2 ** (attempts + 1))),
             t + dt.timedelta(seconds=bound_seconds), *group])
    return expired


async def defer_external(*, campaign_id: str, until: dt.datetime) -> int:
    """Quiet hours: the campaign's queued external rows are not due before `until` (set-wise; how many moved)."""
    return await rawsql.execute(
        "UPDATE outbox_delivery SET next_attempt_at = ? WHERE campaign_id = ? AND status = 'queued' "
        f"AND channel IN {rawsql.in_list(list(EXTERNAL))} AND (next_attempt_at IS NULL OR next_attempt_at < ?)",
        [until, campaign_id, *EXTERNAL, until])


async def defer(ids: list[str], *, until: dt.datetime, error: str) -> None:
    """Put these claimed rows back in the queue, not due before `until` (no attempt counted)."""
    if ids:
        await rawsql.execute(
            "UPDATE outbox_delivery SET status = 'queued', claim_id = NULL, lease_until = NULL, last_error = ?, "
            f"next_attempt_at = ? WHERE id IN {rawsql.in_list(ids)}", [error, until, *ids])


async def renew(*, claim_id: str, lease_seconds: int) -> None:
    """Extend the lease on the rows this sender still holds."""
    await rawsql.execute("UPDATE outbox_delivery SET lease_until = ? WHERE claim_id = ? AND status IN "
                         "('claimed', 'sending')", [now() + dt.timedelta(seconds=lease_seconds), claim_id])


async def mark_sending(ids: list[str], *, claim_id: str) -> set[str]:
    """Record that the upstream calls for these rows are about to start; the ids still held by this claim
    (a cancel may have taken the others)."""
    if not ids:
        return set()
    rows = await rawsql.fetch(
        "UPDATE outbox_delivery SET status = 'sending', sent_at = ? WHERE claim_id = ? AND status = 'claimed' "
        f"AND id IN {rawsql.in_list(ids)} RETURNING id", [now(), claim_id, *ids])
    return {r["id"] for r in rows}


async def mark_sending_capped(rows: list[dict], *, claim_id: str, cap: int, at: dt.datetime,
                              refs: dict[str, str] | None = None) -> tuple[set[str], set[str]]:
    """As mark_sending, for campaign rows on external channels under the weekly cap: (ids now sending, ids ended
    `skipped: weekly_cap` because their person already had `cap` policy pushes in the 7 days before `at`).
    `refs` gives a row the OutId of the request that carries it with others (the id its delivery report is found
    under); a row without one is reported under its own id.

    The count and the marks commit together while each person is locked (a PostgreSQL advisory lock per person,
    taken in order; SQLite runs one writer at a time), so two campaigns' senders can never both pass the cap for
    one person: a row counts from the moment it is `sending`, and stays counted as sent, delivered or uncertain."""
    if not rows:
        return set(), set()
    people = sorted({r["person_bidx"] for r in rows if r["person_bidx"]})
    async with in_transaction() as conn:
        if people and rawsql.dialect(conn) == "postgres":
            # One statement takes every lock, in the array's (sorted) order: a round trip per person held a
            # sender to a few hundred messages a second.
            await rawsql.fetch("SELECT count(pg_advisory_xact_lock(hashtext('push_cap:' || k))) "
                               "FROM unnest(CAST(? AS text[])) AS k", [people], conn)
        recent = await _recent_pushes(people, since=at - WEEK, conn=conn) if people else {}
        allowed, capped = [], []
        for r in rows:
            person = r["person_bidx"]
            if person is None or recent.get(person, 0) < cap:
                allowed.append(r["id"])
                if person is not None:
                    recent[person] = recent.get(person, 0) + 1
            else:
                capped.append(r["id"])
        held: set[str] = set()
        by_ref: dict[str | None, list[str]] = {}
        for row_id in allowed:
            by_ref.setdefault((refs or {}).get(row_id), []).append(row_id)
        for ref, ids in by_ref.items():
            held |= {r["id"] for r in await rawsql.fetch(
                "UPDATE outbox_delivery SET status = 'sending', sent_at = ?, provider_ref = ? WHERE claim_id = ? "
                f"AND status = 'claimed' AND id IN {rawsql.in_list(ids)} RETURNING id", [at, ref, claim_id, *ids],
                conn)}
        ended: set[str] = set()
        if capped:
            ended = {r["id"] for r in await rawsql.fetch(
                "UPDATE outbox_delivery SET status = 'skipped', reason = 'weekly_cap', claim_id = NULL, "
                "lease_until = NULL WHERE claim_id = ? AND status = 'claimed' "
                f"AND id IN {rawsql.in_list(capped)} RETURNING id", [claim_id, *capped], conn)}
    return held, ended


async def _recent_pushes(people: list[str], *, since: dt.datetime, conn) -> dict[str, int]:
    """How many policy pushes each of these people was handed since `since` (the weekly cap's count)."""
    # Only the person and the time are conditions an index may serve: the rest is counted by FILTER. Offered the
    # campaign's status index, the planner took it whenever its statistics were older than the campaign's sending
    # (no row 'sent' when last analysed: every campaign's first minute), then read every sent row of the campaign
    # for each batch: a sender slowed from 2,500 to 1,000 messages a second within 30 s (1M people, 2026-12-03).
    postgres = rawsql.dialect(conn) == "postgres"
    if postgres:
        # The person index, or a scan of every delivery ever kept: only the index can stay fast as they pile up.
        await rawsql.execute("SET LOCAL enable_seqscan = off", [], conn)
    rows = await rawsql.fetch(
        "SELECT person_bidx, count(*) FILTER (WHERE campaign_id IS NOT NULL "
        f"AND channel IN {rawsql.in_list(list(EXTERNAL))} "
        "AND status IN ('sending', 'sent', 'delivered', 'uncertain')) AS n FROM outbox_delivery "
        f"WHERE person_bidx IN {rawsql.in_list(people)} AND sent_at > ? GROUP BY person_bidx",
        [*EXTERNAL, *people, since], conn)
    if postgres:
        await rawsql.execute("RESET enable_seqscan", [], conn)
    return {r["person_bidx"]: int(r["n"]) for r in rows}


async def finish(ids: list[str], *, status: str, reason: str | None = None, error: str | None = None) -> None:
    """End these rows in a final status (sent, delivered, failed, skipped, uncertain: which keeps its hand-off time,
    still counted by the weekly cap)."""
    if ids:
        sent_at = "sent_at" if status == "uncertain" else "?"
        stamp = [] if status == "uncertain" else [now() if status in ("sent", "delivered") else None]
        await rawsql.execute(
            "UPDATE outbox_delivery SET status = ?, reason = ?, last_error = ?, claim_id = NULL, lease_until = NULL, "
            f"attempts = attempts + 1, sent_at = {sent_at} WHERE id IN {rawsql.in_list(ids)}",
            [status, reason, error, *stamp, *ids])


async def mark_inbox_delivered(ids: list[str]) -> None:
    """These rows' inbox messages are written (their ids derive from the rows': `msg_` + the row id's rest)."""
    if ids:
        await rawsql.execute(
            "UPDATE outbox_delivery SET status = 'delivered', provider_ref = 'msg_' || substr(id, 5), claim_id = NULL, "
            f"lease_until = NULL, attempts = attempts + 1, sent_at = ? WHERE id IN {rawsql.in_list(ids)}",
            [now(), *ids])


async def retry_later(ids: list[str], *, delay_seconds: float, error: str | None, count_attempt: bool = True) -> None:
    """Put these rows back in the queue, due after a delay (a transient failure or a paused channel)."""
    if ids:
        bump = "attempts + 1" if count_attempt else "attempts"
        await rawsql.execute(
            f"UPDATE outbox_delivery SET status = 'queued', claim_id = NULL, lease_until = NULL, attempts = {bump}, "
            f"last_error = ?, next_attempt_at = ? WHERE id IN {rawsql.in_list(ids)}",
            [error, now() + dt.timedelta(seconds=delay_seconds), *ids])


async def release(claim_id: str) -> int:
    """Give back the rows a sender claimed but did not start (the campaign was paused)."""
    return await rawsql.execute("UPDATE outbox_delivery SET status = 'queued', claim_id = NULL, lease_until = NULL "
                                "WHERE claim_id = ? AND status = 'claimed'", [claim_id])


async def add_fallbacks(rows: list[dict], *, policy_id: str, campaign_id: str, topic: str) -> int:
    """Queue the next channel for these people (`channel` in each row); one row per person and channel ever."""
    if not rows:
        return 0
    t = now()
    values, params = [], []
    for row in rows:
        values.append("(?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?)")
        params += [new_id("dlv"), f"{policy_id}:{row['person_bidx']}:{row['channel']}", campaign_id,
                   row["person_bidx"], row["citizen_id"], row["channel"], topic, t]
    return await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, campaign_id, person_bidx, citizen_id, channel, topic, status, "
        f"attempts, created_at) VALUES {', '.join(values)} ON CONFLICT (dedupe_key) DO NOTHING", params)


async def open_count(campaign_id: str, *, at: dt.datetime | None = None) -> dict:
    """Rows still to send: due at `at` (now by default), waiting for a retry or the end of quiet hours, held by
    senders."""
    rows = await rawsql.fetch(
        "SELECT status, (next_attempt_at IS NOT NULL AND next_attempt_at > ?) AS later, count(*) AS n "
        f"FROM outbox_delivery WHERE campaign_id = ? AND status IN {rawsql.in_list(list(OPEN_STATUSES))} "
        "GROUP BY status, later", [at or now(), campaign_id, *OPEN_STATUSES])
    result = {"due": 0, "later": 0, "held": 0}
    for r in rows:
        if r["status"] != "queued":
            result["held"] += r["n"]
        else:
            result["later" if r["later"] else "due"] += r["n"]
    return result


async def cancel_open(campaign_id: str) -> int:
    """Cancel the rows not yet started (a cancelled campaign); rows mid-send finish on their own."""
    return await rawsql.execute("UPDATE outbox_delivery SET status = 'cancelled', claim_id = NULL, lease_until = NULL "
                                "WHERE campaign_id = ? AND status IN ('queued', 'claimed')", [campaign_id])

"""Telling a citizen (inbox now, platform messages queued), telling a department's staff, and what was told."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from api.core import rawsql
from api.core.deps import Deps
from api.core.errors import NotFound
from api.core.pagination import Page, PageRequest, paginate
from notifications import events, outbox, settle, tally
from notifications.channels import Message
from notifications.models import InboxMessage, OutboxDelivery, StaffNotice


async def notify_citizen(*, citizen_id: str, kind: str, params: dict, ref: dict, event_key: str,
                         page: str | None = None) -> bool:
    """Tell a citizen of an event: the inbox message now, the platform message on their first usable channel by the
    event lane (notifications/events.py). `kind` names a template in notifications/templates/messages.json, `ref`
    (`{"kind", "id"}`, a kind of notifications/refs.py) what the message opens, `event_key` the event (one message
    per event and channel, whatever retries happen). Call it inside the transaction that made the event, so the
    event and its messages commit together. False when the event was already told."""
    return await events.queue_for_citizen(citizen_id=citizen_id, kind=kind, params=params, ref=ref,
                                          event_key=event_key, page=page)


async def notify_phone(*, phone: str, kind: str, params: dict, ref: dict, event_key: str,
                       page: str | None = None) -> bool:
    """Tell someone who has no account yet (an invited relative) by SMS at `phone`, once per event; False when
    already queued or the kind has no SMS variant."""
    return await events.queue_for_phone(phone=phone, kind=kind, params=params, ref=ref, event_key=event_key,
                                        page=page)


async def queue_campaign_deliveries(*, campaign_id: str, policy_id: str, topic: str, chain: list[str],
                                    contacts: rawsql.Subquery, count: bool = True) -> int:
    """Queue a campaign's deliveries set-wise for the people it reached (`contacts`: api.citizens.contacts.reachable
    over them): the inbox for everyone with an account, and each person's first usable channel of `chain`. Once per
    policy, person and channel, whatever reruns happen; call it inside the transaction that records the reach. The
    count of the campaign's rows (0 with `count` false: a caller queueing in chunks counts once at the end)."""
    return await outbox.queue_campaign(campaign_id=campaign_id, policy_id=policy_id, topic=topic, chain=chain,
                                       contacts=contacts, count=count)


async def open_deliveries(*, campaign_id: str, at: dt.datetime | None = None) -> dict:
    """A campaign's rows still to send: `due` at `at` (now by default), waiting for a retry or the end of quiet
    hours (`later`), `held` by senders."""
    return await outbox.open_count(campaign_id, at=at)


async def cancel_campaign_deliveries(*, campaign_id: str) -> int:
    """Cancel a campaign's rows not yet started (rows mid-send finish on their own); how many."""
    return await outbox.cancel_open(campaign_id)


async def recover_lapsed_deliveries() -> dict:
    """Take back what dead senders held: claimed rows requeued, rows caught mid-send marked uncertain (never resent)."""
    return await outbox.recover_lapsed()


async def campaigns_with_uncertain_sms() -> list[str]:
    """Campaigns whose SMS rows are still uncertain (see notifications/settle.py)."""
    return await settle.campaigns_to_settle()


async def settle_campaign_sms(*, deps: Deps, campaign_id: str, message: Message,
                              ref_ids: settle.RefIds | None = None, at: dt.datetime | None = None) -> dict:
    """Settle a campaign's uncertain SMS rows through the provider's delivery report: taken → sent, not taken →
    resent once, unknown → told in the inbox (held for a person without an account until they have one). `message`
    and `ref_ids` as the campaign's senders have them; `at` the push clock. The counts."""
    return await settle.settle_campaign(deps, campaign_id=campaign_id, message=message, ref_ids=ref_ids, at=at)


async def settle_event_sms(*, deps: Deps, at: dt.datetime | None = None) -> dict:
    """Settle the events' uncertain SMS rows as settle_campaign_sms does; the counts."""
    return await settle.settle_events(deps, at=at)


async def deliver_held_messages(*, citizen_id: str, person_bidx: str) -> int:
    """Put the inbox messages held for a registry person (campaigns that reached them before they had an account)
    into the citizen's inbox now bound to them; how many. Call inside the transaction that binds them."""
    return await settle.deliver_held(citizen_id=citizen_id, person_bidx=person_bidx)


async def campaign_delivery_figures(*, campaign_id: str) -> dict:
    """A campaign's deliveries: sent, delivered, failed and skipped by channel (and reason); uncertain, expired,
    pending and read (from the tally the database keeps, on the primary)."""
    return _delivery_figures(await tally.figures_of([campaign_id], primary=True),
                             read=(await tally.reads_of([campaign_id], primary=True)).get(campaign_id, 0))


async def campaigns_delivery_figures(*, campaign_ids: list[str]) -> dict[str, dict]:
    """The delivery figures of several campaigns (as campaign_delivery_figures, from a replica when there is one),
    by campaign id, in two queries."""
    rows = await tally.figures_of(campaign_ids)
    reads = await tally.reads_of(campaign_ids)
    return {cid: _delivery_figures([r for r in rows if r["campaign_id"] == cid], read=reads.get(cid, 0))
            for cid in campaign_ids}


def _delivery_figures(rows: list[dict], *, read: int) -> dict:
    sent, delivered = {}, {}
    failed: dict[str, dict[str, int]] = {}
    skipped: dict[str, dict[str, int]] = {}
    uncertain = pending = expired = settled = told_in_inbox = held = 0
    for row in rows:
        ch, status, n = row["channel"], row["status"], int(row["n"])
        if row["reason"] in settle.SETTLED_REASONS:
            settled += n
        if status == "uncertain" and row["reason"] == "told_in_inbox":
            told_in_inbox += n
        if status == "held":
            held += n
        if status == "sent":
            sent[ch] = sent.get(ch, 0) + n
        elif status == "delivered":
            delivered[ch] = delivered.get(ch, 0) + n
        elif status in ("failed", "skipped"):
            target = failed if status == "failed" else skipped
            target.setdefault(ch, {})[row["reason"] or "unknown"] = n
        elif status == "uncertain":
            uncertain += n
        elif status == "expired":
            expired += n
        elif status in outbox.OPEN_STATUSES:
            pending += n
    return {"sent": _figure(sent), "delivered": _figure(delivered), "failed": _nested(failed),
            "skipped": _nested(skipped), "uncertain": uncertain, "expired": expired, "pending": pending,
            "read": read, "uncertain_settled": settled, "told_in_inbox_only": told_in_inbox, "inbox_held": held}


def _figure(by_channel: dict[str, int]) -> dict:
    return {"total": sum(by_channel.values()), "by_channel": by_channel}


def _nested(by_channel: dict[str, dict[str, int]]) -> dict:
    return {"total": sum(sum(v.values()) for v in by_channel.values()), "by_channel": by_channel}


async def notify_staff(*, dept: str, title: str, body: str, ref_kind: str, ref_id: str, event_key: str) -> bool:
    """Leave a notice for a department's staff once per event; False when it was already there."""
    try:
        await StaffNotice.create(dept=dept, dedupe_key=event_key, title=title, body=body, ref_kind=ref_kind,
                                 ref_id=ref_id)
    except IntegrityError:
        return False
    return True


async def inbox_page(*, citizen_id: str, paging: PageRequest) -> Page:
    """The citizen's messages, newest first."""
    return await paginate(InboxMessage.filter(citizen_id=citizen_id), page=paging)


async def message_history(*, citizen_id: str, paging: PageRequest) -> Page:
    """What was sent to the citizen, newest first: each delivery's channel, status (HISTORY_STATUS), title and ref."""
    page = await paginate(OutboxDelivery.filter(citizen_id=citizen_id, status__in=list(outbox.HISTORY_STATUS)),
                          page=paging)
    rows = page.items
    # A campaign row carries no text: its title and ref are those of the inbox message of the same campaign.
    campaigns = {r.campaign_id for r in rows if r.campaign_id and r.channel != "inbox"}
    inbox_of = {}
    if campaigns:
        inbox_of = dict(await OutboxDelivery.filter(
            citizen_id=citizen_id, campaign_id__in=list(campaigns), channel="inbox",
            provider_ref__not_isnull=True).values_list("campaign_id", "provider_ref"))
    message_ids = {r.provider_ref for r in rows if r.channel == "inbox" and r.provider_ref} | set(inbox_of.values())
    messages = {m.id: m for m in await InboxMessage.filter(citizen_id=citizen_id, id__in=list(message_ids))} \
        if message_ids else {}

    def shape(row: OutboxDelivery) -> dict:
        message = messages.get(row.provider_ref if row.channel == "inbox" else inbox_of.get(row.campaign_id))
        payload = row.payload or {}
        status = outbox.HISTORY_STATUS[row.status]
        return {"id": row.id, "topic": row.topic, "channel": row.channel, "status": status,
                "title": message.title if message else payload.get("title"),
                "ref": ({"kind": message.ref_kind, "id": message.ref_id} if message and message.ref_kind
                        else payload.get("ref")),
                "created_at": row.created_at, "delivered_at": row.sent_at if status == "delivered" else None}

    return page.map(shape)


async def mark_read(*, citizen_id: str, message_id: str) -> InboxMessage:
    """Mark one of the citizen's messages read (once; later calls keep the first time)."""
    async with in_transaction() as conn:
        # Only the first reading marks it, so a campaign's tally counts it once however often (or concurrently)
        # it is opened.
        first = await InboxMessage.filter(id=message_id, citizen_id=citizen_id, read_at__isnull=True).using_db(
            conn).update(read_at=dt.datetime.now(dt.timezone.utc))
        if first:
            await tally.count_read(message_id=message_id, conn=conn)
    message = await InboxMessage.get_or_none(id=message_id, citizen_id=citizen_id)
    if message is None:
        raise NotFound("消息不存在")
    return message


async def staff_notices(*, depts: list[str] | None, paging: PageRequest) -> Page:
    """Notices for these departments (all of them when None), newest first."""
    query = StaffNotice.all() if depts is None else StaffNotice.filter(dept__in=depts)
    return await paginate(query, page=paging)

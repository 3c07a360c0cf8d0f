"""Telling a citizen (inbox now, platform messages queued) and telling a department's staff."""

from __future__ import annotations

import datetime as dt

from tortoise.exceptions import IntegrityError

from api.core.errors import NotFound
from api.core.pagination import Page, PageRequest, paginate
from notifications.models import InboxMessage, OutboxDelivery, StaffNotice


async def notify_citizen(*, citizen_id: str, topic: str, title: str, body: str, ref_kind: str, ref_id: str,
                         event_key: str, data: dict, page: str | None = None) -> None:
    """Put a message in the citizen's inbox and queue the platform message for it.

    One outbox row per event (`event_key`, unique: a retried call queues nothing twice); the sender picks
    the citizen's linked platforms and their subscriptions when it sends. Call it inside the transaction
    that made the event, so the event and its messages commit together.
    """
    await InboxMessage.create(citizen_id=citizen_id, topic=topic, title=title, body=body, ref_kind=ref_kind,
                              ref_id=ref_id)
    await OutboxDelivery.bulk_create([OutboxDelivery(dedupe_key=event_key, citizen_id=citizen_id, channel="subscribe",
                                         topic=topic, payload={"title": title, "page": page, "data": data})],
                               ignore_conflicts=True)


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


async def mark_read(*, citizen_id: str, message_id: str) -> InboxMessage:
    """Mark one of the citizen's messages read (once; later calls keep the first time)."""
    message = await InboxMessage.get_or_none(id=message_id, citizen_id=citizen_id)
    if message is None:
        raise NotFound("消息不存在")
    if message.read_at is None:
        message.read_at = dt.datetime.now(dt.timezone.utc)
        await message.save(update_fields=["read_at"])
    return message


async def staff_notices(*, depts: list[str] | None, paging: PageRequest) -> Page:
    """Notices for these departments (all of them when None), newest first."""
    query = StaffNotice.all() if depts is None else StaffNotice.filter(dept__in=depts)
    return await paginate(query, page=paging)

"""Message content retention: a finished delivery's payload goes after MESSAGE_CONTENT_RETENTION_DAYS, its status
row stays; rows still in flight or held, newer rows and the citizen's inbox keep everything."""

from __future__ import annotations

import datetime as dt
import json

from api.core import rawsql
from api.core.ids import new_id
from notifications import outbox, retention
from notifications.models import InboxMessage, OutboxDelivery

PAYLOAD = {"kind": "benefit", "params": {"name": "张三"}, "to": "sealed-phone"}


async def _row(*, status: str, age_days: float) -> str:
    row_id = new_id("dlv")
    await rawsql.execute(
        "INSERT INTO outbox_delivery (id, dedupe_key, citizen_id, channel, topic, payload, status, attempts, "
        "sent_at, created_at) VALUES (?, ?, ?, 'sms', 'benefit', ?, ?, 1, ?, ?)",
        [row_id, f"evt:{row_id}:sms", new_id("cit"), json.dumps(PAYLOAD, ensure_ascii=False), status,
         outbox.now() - dt.timedelta(days=age_days), outbox.now() - dt.timedelta(days=age_days)])
    return row_id


async def test_content_past_retention_is_erased_and_the_status_row_stays(live):
    old_sent, old_failed = await _row(status="delivered", age_days=8), await _row(status="failed", age_days=30)
    old_queued, old_held = await _row(status="queued", age_days=8), await _row(status="held", age_days=8)
    recent = await _row(status="delivered", age_days=6)
    citizen = new_id("cit")
    await InboxMessage.create(id=new_id("msg"), citizen_id=citizen, title="补贴已发放", body="张三，您的补贴已发放",
                              topic="benefit")

    assert await retention.erase_content(days=7, now=outbox.now(), batch=1) == 2  # batch=1: the loop goes on

    rows = {r.id: r for r in await OutboxDelivery.filter(id__in=[old_sent, old_failed, old_queued, old_held, recent])}
    assert rows[old_sent].payload is None and rows[old_failed].payload is None
    assert (rows[old_sent].status, rows[old_sent].channel, rows[old_sent].attempts) == ("delivered", "sms", 1)
    assert rows[old_sent].sent_at is not None and rows[old_failed].status == "failed"
    assert rows[old_queued].payload == PAYLOAD and rows[old_held].payload == PAYLOAD  # still needed to send
    assert rows[recent].payload == PAYLOAD
    assert (await InboxMessage.get(citizen_id=citizen)).body == "张三，您的补贴已发放"
    assert await retention.erase_content(days=7, now=outbox.now()) == 0  # idempotent


async def test_a_longer_setting_keeps_more(live):
    row = await _row(status="delivered", age_days=8)
    assert await retention.erase_content(days=30, now=outbox.now()) == 0
    assert (await OutboxDelivery.get(id=row)).payload == PAYLOAD


async def test_the_hourly_job_erases_by_the_setting(live):
    import worker
    from notifications.jobs import erase_message_content

    assert "erase_message_content" in {c.coroutine.__name__ for c in worker.all_cron()}
    assert live.app.ctx.deps.settings.message_content_retention_days == 7
    old, recent = await _row(status="sent", age_days=7.5), await _row(status="sent", age_days=6.5)
    assert await erase_message_content({"deps": live.app.ctx.deps}) == 1
    assert (await OutboxDelivery.get(id=old)).payload is None
    assert (await OutboxDelivery.get(id=recent)).payload == PAYLOAD

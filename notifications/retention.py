"""Message content retention: a finished delivery's payload (parameters, a sealed phone, rendered text) is erased
MESSAGE_CONTENT_RETENTION_DAYS after the row was written; the row (status, channel, reason, times) stays for the
campaign figures and the citizen's history. The inbox is the citizen's own record and is not touched here."""

from __future__ import annotations

import datetime as dt

from api.core import rawsql
from api.core.logging import get_logger

log = get_logger("notifications.retention")
# Rows still in flight or waiting keep their payload: a queued or retried send needs it, an uncertain row is settled
# from it, a held row becomes an inbox message when the person opens an account.
FINISHED = ("sent", "delivered", "failed", "skipped", "expired", "cancelled")
BATCH = 5000


async def erase_content(*, days: int, now: dt.datetime, batch: int = BATCH) -> int:
    """Erase the payload of finished deliveries written more than `days` before `now`; the rows erased."""
    cutoff = now - dt.timedelta(days=days)
    erased = 0
    while True:  # short batches: each UPDATE holds its row locks briefly beside the senders
        n = await rawsql.execute(
            "UPDATE outbox_delivery SET payload = NULL WHERE id IN (SELECT id FROM outbox_delivery "
            f"WHERE payload IS NOT NULL AND created_at < ? AND status IN {rawsql.in_list(list(FINISHED))} LIMIT ?)",
            [cutoff, *FINISHED, batch])
        erased += n
        if n < batch:
            break
    log.info("message_content_erased", count=erased, days=days)
    return erased

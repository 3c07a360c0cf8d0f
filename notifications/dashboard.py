"""The staff console's figures of case messages: what the event lane (an application's progress, a certificate, an
invitation; never a campaign) sent on each channel, and how its uncertain SMS settled (SQL aggregates)."""

from __future__ import annotations

from api.core import charts, db, rawsql
from notifications import outbox, settle
from notifications.channels import EXTERNAL

CHANNELS = (*EXTERNAL, "inbox")
OUTCOMES = ("sent", "failed", "skipped", "uncertain", "pending", "expired")
_OUTCOME_OF = {"sent": "sent", "delivered": "sent", "failed": "failed", "skipped": "skipped", "uncertain": "uncertain",
               "expired": "expired", **{s: "pending" for s in (*outbox.OPEN_STATUSES, "held")}}


async def event_messages(*, span: charts.DayRange) -> dict:
    """The event lane's messages written on the days of the range, per outcome and channel, and their settle
    figures: `told_nowhere` counts the SMS of a phone with no account whose fate stayed unknown (no inbox to fall
    back on); a platform that runs well keeps it at 0."""
    when, params = charts.within("created_at", span)
    rows = await rawsql.fetch(
        "SELECT channel, status, reason, count(*) AS n FROM outbox_delivery "
        f"WHERE campaign_id IS NULL AND {when} GROUP BY channel, status, reason", params, db.reader())
    counts = {outcome: dict.fromkeys(CHANNELS, 0) for outcome in OUTCOMES}
    settled = told_in_inbox = told_nowhere = 0
    for row in rows:
        n, outcome = int(row["n"]), _OUTCOME_OF.get(row["status"])
        if outcome and row["channel"] in CHANNELS:
            counts[outcome][row["channel"]] += n
        if row["reason"] in settle.SETTLED_REASONS:
            settled += n
        elif row["status"] == "uncertain" and row["reason"] == "told_in_inbox":
            told_in_inbox += n
        elif row["status"] == "uncertain" and row["reason"] == "told_nowhere":
            told_nowhere += n
    series = [{"outcome": outcome, "counts": [counts[outcome][ch] for ch in CHANNELS],
               "total": sum(counts[outcome].values())} for outcome in OUTCOMES]
    return {**span.body(), "channels": list(CHANNELS), "series": series, "total": sum(s["total"] for s in series),
            "uncertain_settled": settled, "told_in_inbox_only": told_in_inbox, "told_nowhere": told_nowhere}

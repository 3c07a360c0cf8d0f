"""A campaign's delivery figures from the tally the database keeps (campaign_delivery_tally, migration 20), not by
counting its deliveries: a count read every row of the campaign (0.8 s at a million, 16 s at twenty million), on
every poll of the console.

The database's triggers append a row for every change of a campaign delivery's channel, status or reason (on
PostgreSQL one row per statement and group, -n for what the rows left and +n for what they became); the figures
are the sums. Rows are only ever appended, so senders never wait on one another's counter. `fold` sums a campaign's
rows into one per group, so that reading them stays cheap as the campaign sends.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from api.core import db, rawsql

READ = "read"  # the status under which opened inbox messages are tallied (channel inbox)
FOLD_ABOVE = 200  # rows a campaign may have in the tally before the periodic fold sums them


async def figures_of(campaign_ids: list[str], *, primary: bool = False) -> list[dict]:
    """The campaigns' deliveries by campaign, channel, status and reason (`n`), groups of none left out; from a
    replica when there is one, unless `primary`."""
    if not campaign_ids:
        return []
    return await rawsql.fetch(
        "SELECT campaign_id, channel, status, reason, SUM(n) AS n FROM campaign_delivery_tally "
        f"WHERE campaign_id IN {rawsql.in_list(campaign_ids)} AND status <> '{READ}' "
        "GROUP BY campaign_id, channel, status, reason HAVING SUM(n) <> 0", list(campaign_ids),
        None if primary else db.reader())


async def reads_of(campaign_ids: list[str], *, primary: bool = False) -> dict[str, int]:
    """Opened inbox messages of the campaigns, by campaign (from a replica unless `primary`)."""
    if not campaign_ids:
        return {}
    rows = await rawsql.fetch(
        "SELECT campaign_id, SUM(n) AS n FROM campaign_delivery_tally "
        f"WHERE campaign_id IN {rawsql.in_list(campaign_ids)} AND status = '{READ}' GROUP BY campaign_id",
        list(campaign_ids), None if primary else db.reader())
    return {r["campaign_id"]: int(r["n"]) for r in rows}


async def count_read(*, message_id: str, conn) -> None:
    """Tally an inbox message opened for the first time, when a campaign's delivery wrote it (its id is the
    delivery's, `msg_` for `dlv_`). Run in the transaction that marks it read."""
    await rawsql.execute(
        "INSERT INTO campaign_delivery_tally (campaign_id, channel, status, reason, n) "
        f"SELECT campaign_id, 'inbox', '{READ}', NULL, 1 FROM outbox_delivery "
        "WHERE id = 'dlv_' || substr(?, 5) AND provider_ref = ? AND channel = 'inbox' AND campaign_id IS NOT NULL",
        [message_id, message_id], conn)


async def fold(campaign_id: str) -> None:
    """Sum the campaign's tally rows into one per channel, status and reason (groups summing to none go)."""
    columns = "campaign_id, channel, status, reason"
    if rawsql.dialect() == "postgres":
        # One statement: the rows it deletes are exactly those it sums, whatever triggers append meanwhile.
        await rawsql.execute(
            f"WITH gone AS (DELETE FROM campaign_delivery_tally WHERE campaign_id = ? RETURNING {columns}, n) "
            f"INSERT INTO campaign_delivery_tally ({columns}, n) SELECT {columns}, SUM(n) FROM gone "
            f"GROUP BY {columns} HAVING SUM(n) <> 0", [campaign_id])
        return
    async with in_transaction() as conn:  # SQLite: one writer at a time, so nothing is appended in between
        last = await rawsql.fetch_value("SELECT MAX(id) FROM campaign_delivery_tally WHERE campaign_id = ?",
                                        [campaign_id], conn)
        if last is None:
            return
        await rawsql.execute(
            f"INSERT INTO campaign_delivery_tally ({columns}, n) SELECT {columns}, SUM(n) "
            "FROM campaign_delivery_tally WHERE campaign_id = ? AND id <= ? "
            f"GROUP BY {columns} HAVING SUM(n) <> 0", [campaign_id, last], conn)
        await rawsql.execute("DELETE FROM campaign_delivery_tally WHERE campaign_id = ? AND id <= ?",
                             [campaign_id, last], conn)


async def fold_long(*, above: int = FOLD_ABOVE) -> int:
    """Fold every campaign with more than `above` tally rows; how many were folded."""
    long = await rawsql.fetch("SELECT campaign_id FROM campaign_delivery_tally GROUP BY campaign_id "
                              "HAVING COUNT(*) > ?", [above])
    for row in long:
        await fold(row["campaign_id"])
    return len(long)

"""The staff console's figures of code scans: SQL aggregates (GROUP BY in the database, no rows in Python)."""

from __future__ import annotations

from api.codes.scenes import SCENES
from api.core import charts, db, rawsql

HOURS = list(range(24))


async def scans_per_hour(*, span: charts.DayRange) -> dict:
    """Scans made on the days of the range, per scene and hour of the day (Beijing time) summed over the days, with
    each scene's accepted and refused totals."""
    when, params = charts.within("scanned_at", span)
    rows = await rawsql.fetch(
        f"SELECT scene, {charts.local_hour('scanned_at')} AS hour, outcome, count(*) AS n FROM code_scan "
        f"WHERE {when} GROUP BY 1, 2, 3", params, db.reader())
    series = {scene: {"scene": scene, "counts": [0] * 24, "accepted": 0, "refused": 0} for scene in SCENES}
    for row in rows:
        entry = series.setdefault(row["scene"], {"scene": row["scene"], "counts": [0] * 24, "accepted": 0,
                                                 "refused": 0})
        n = int(row["n"])
        entry["counts"][int(row["hour"])] += n
        entry["accepted" if row["outcome"] == "accepted" else "refused"] += n
    items = [{**entry, "total": sum(entry["counts"])} for entry in series.values()]
    return {**span.body(), "hours": HOURS, "series": items, "total": sum(e["total"] for e in items)}

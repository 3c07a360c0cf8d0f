"""The staff console's figures of certificates: SQL aggregates (GROUP BY in the database, no rows in Python)."""

from __future__ import annotations

from api.certificates import types
from api.core import charts, db, rawsql


async def issued_per_day(*, depts: list[str] | None, span: charts.DayRange) -> dict:
    """Certificates issued on each day of the range (revoked ones since included), per type of these departments
    (every type when `depts` is None)."""
    when, when_params = charts.within("issued_at", span)
    where, where_params = charts.in_depts("dept", depts)
    rows = await rawsql.fetch(
        f"SELECT {charts.local_day('issued_at')} AS day, type_code, count(*) AS n FROM certificate "
        f"WHERE issued_at IS NOT NULL AND {where} AND {when} GROUP BY 1, 2", [*where_params, *when_params], db.reader())
    kinds = types.all_types()
    shown = [code for code, kind in kinds.items() if depts is None or kind.dept in depts]
    series = charts.day_series(span, rows, key="type_code", keys=shown)
    for entry in series:
        kind = kinds.get(entry["type_code"])
        entry["name"], entry["dept"] = (kind.name, kind.dept) if kind else (entry["type_code"], "")
    return {**span.body(), "days": span.days(), "series": series, "total": sum(s["total"] for s in series)}

"""The staff console's figures of cases and ratings: SQL aggregates (GROUP BY in the database, no rows in Python)."""

from __future__ import annotations

from api.applications import workflow
from api.catalog import service as catalog_service
from api.core import charts, db, rawsql, workdays

STATUSES = (*workflow.UNDECIDED, *workflow.CLOCK_STOPPED)
SLA_STATES = ("on_track", "warning", "overdue", "paused")
# 好差评's five levels (the national 政务服务好差评 standard), by the score a rating stores.
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_AT_MOST = 2  # a score this low is 差评 and opens a rectification (api/applications/ratings.py)


async def submitted_per_day(*, depts: list[str] | None, span: charts.DayRange) -> dict:
    """Cases (a bundle's sub-cases each count, its parent does not) submitted on each day of the range, by their
    status now; only these departments' unless `depts` is None."""
    when, when_params = charts.within("created_at", span)
    where, where_params = charts.in_depts("dept", depts)
    rows = await rawsql.fetch(
        f"SELECT {charts.local_day('created_at')} AS day, status, count(*) AS n FROM application "
        f"WHERE dept IS NOT NULL AND {where} AND {when} GROUP BY 1, 2", [*where_params, *when_params], db.reader())
    series = charts.day_series(span, rows, key="status", keys=STATUSES)
    return {**span.body(), "days": span.days(), "series": series, "total": sum(s["total"] for s in series)}


async def sla_by_dept(*, depts: list[str] | None, span: charts.DayRange, redis) -> dict:
    """Per department, its cases submitted in the range and still undecided, by SLA state: counts and shares."""
    when, when_params = charts.within("created_at", span)
    where, where_params = charts.in_depts("dept", depts)
    rows = await rawsql.fetch(
        f"SELECT dept, sla_state, count(*) AS n FROM application WHERE dept IS NOT NULL AND {where} "
        f"AND status IN {rawsql.in_list(workflow.UNDECIDED)} AND {when} GROUP BY dept, sla_state",
        [*where_params, *workflow.UNDECIDED, *when_params], db.reader())
    counts: dict[str, dict[str, int]] = {d: {} for d in sorted(depts or ())}
    for row in rows:
        counts.setdefault(row["dept"], {})[row["sla_state"]] = int(row["n"])
    codes = sorted(counts)
    names = (await catalog_service.current(redis=redis)).departments
    open_cases = [sum(counts[d].values()) for d in codes]
    states = [*SLA_STATES, *sorted({s for c in counts.values() for s in c} - set(SLA_STATES))]
    series = []
    for state in states:
        per_dept = [counts[d].get(state, 0) for d in codes]
        series.append({"state": state, "counts": per_dept,
                       "shares": [charts.share(n, whole) for n, whole in zip(per_dept, open_cases, strict=True)]})
    whole = sum(open_cases)
    return {**span.body(), "depts": codes, "dept_names": [names.get(d, d) for d in codes], "open": open_cases,
            "series": series,
            "total": {"open": whole, "counts": {s["state"]: sum(s["counts"]) for s in series},
                      "shares": {s["state"]: charts.share(sum(s["counts"]), whole) for s in series}}}


def _rated_in(depts: list[str] | None) -> tuple[str, list]:
    """An SQL condition on the rated application `a`: it (or one of a bundle's sub-cases) is of these departments."""
    if depts is None:
        return "1 = 1", []
    own, params = charts.in_depts("a.dept", depts)
    children, more = charts.in_depts("c.dept", depts)
    return (f"({own} OR EXISTS (SELECT 1 FROM application c WHERE c.parent_id = a.id AND {children}))",
            [*params, *more])


async def ratings_summary(*, depts: list[str] | None, span: charts.DayRange) -> dict:
    """好差评 given in the range per day and score (of applications with a case in these departments), and the
    rectifications open now (and overdue among them) of these departments."""
    when, when_params = charts.within("r.created_at", span)
    where, where_params = _rated_in(depts)
    rows = await rawsql.fetch(
        f"SELECT {charts.local_day('r.created_at')} AS day, r.score AS score, count(*) AS n "
        f"FROM application_rating r JOIN application a ON a.id = r.application_id WHERE {when} AND {where} "
        "GROUP BY 1, 2", [*when_params, *where_params], db.reader())
    series = charts.day_series(span, rows, key="score", keys=sorted(LEVELS))
    for entry in series:
        entry["level"] = LEVELS.get(entry["score"], str(entry["score"]))
    total = sum(s["total"] for s in series)
    scored = sum(s["score"] * s["total"] for s in series)
    owed, owed_params = charts.in_depts("dept", depts)
    open_row = (await rawsql.fetch(
        "SELECT count(*) AS open, coalesce(sum(CASE WHEN due_date < ? THEN 1 ELSE 0 END), 0) AS overdue "
        f"FROM rectification WHERE status = 'open' AND {owed}", [workdays.today(), *owed_params], db.reader()))[0]
    return {**span.body(), "days": span.days(), "series": series, "total": total,
            "average": round(scored / total, 2) if total else None,
            "bad": sum(s["total"] for s in series if s["score"] <= BAD_AT_MOST),
            "rectifications": {"open": int(open_row["open"]), "overdue": int(open_row["overdue"])}}

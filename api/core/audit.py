"""The audit trail: admin actions and reads of personal data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from api.core import db, partitions
from api.core.models import AuditLog
from api.core.pagination import Page, PageRequest, paginate
from api.core.times import beijing_iso


async def record(*, actor_type: str, actor_id: str, action: str, target_type: str | None = None,
                 target_id: str | None = None, on_behalf_of: str | None = None, request_id: str | None = None,
                 ip: str | None = None, detail: dict | None = None) -> None:
    """Append one audit entry (never with personal data in `detail`)."""
    await AuditLog.create(
        actor_type=actor_type, actor_id=actor_id, action=action, target_type=target_type, target_id=target_id,
        on_behalf_of=on_behalf_of, request_id=request_id, ip=ip, detail=detail or {},
    )


async def erase_older_than(*, days: int, now: dt.datetime) -> int:
    """Drop (PostgreSQL: whole Beijing months) or delete (SQLite) entries older than `days`; the months dropped or
    the rows deleted."""
    cutoff = now - dt.timedelta(days=days)
    if await partitions.is_partitioned(AuditLog._meta.db_table):
        return len(await partitions.drop_months_before(table=AuditLog._meta.db_table, cutoff=cutoff))
    return await AuditLog.filter(created_at__lt=db.as_stored(cutoff)).delete()


async def record_for(actor, *, action: str, target_type: str | None = None, target_id: str | None = None,
                     detail: dict | None = None) -> None:
    """Append an entry for a request's actor (see api.core.guards.Actor)."""
    await record(
        actor_type=actor.kind, actor_id=actor.actor_id, on_behalf_of=actor.on_behalf_of, action=action,
        target_type=target_type, target_id=target_id, request_id=actor.request_id, ip=actor.ip, detail=detail,
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader asks for: each given field must match; `since` inclusive, `until` exclusive."""

    actor_id: str | None = None
    target_id: str | None = None
    target_type: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def query(self) -> QuerySet:
        """The entries that match, as a query."""
        query = AuditLog.all()
        for name in ("actor_id", "target_id", "target_type", "action"):
            if getattr(self, name):
                query = query.filter(**{name: getattr(self, name)})
        if self.since:
            query = query.filter(created_at__gte=db.as_stored(self.since))
        if self.until:
            query = query.filter(created_at__lt=db.as_stored(self.until))
        return query

    def given(self) -> dict:
        """The filters given, for the export's own audit entry."""
        return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in vars(self).items() if v}


async def page(*, paging: PageRequest, where: AuditFilter) -> Page:
    """Newest entries first, filtered."""
    return await paginate(where.query(), page=paging)


EXPORT_COLUMNS = ("id", "created_at", "actor_type", "actor_id", "on_behalf_of", "action", "target_type", "target_id",
                  "request_id", "ip", "detail")
EXPORT_CHUNK = 2000


async def csv_pieces(*, where: AuditFilter, limit: int) -> AsyncIterator[str]:
    """The matching entries, newest first, as CSV text in pieces (a header, then at most `limit` rows)."""
    yield "\ufeff" + ",".join(EXPORT_COLUMNS) + "\r\n"  # the BOM: Excel reads UTF-8 as such only with one
    last: tuple | None = None
    left = limit
    while left > 0:
        query = where.query()
        if last is not None:  # keyset on (created_at, id): a later page never repeats or skips an entry
            query = query.filter(Q(created_at__lt=last[0]) | Q(created_at=last[0], id__lt=last[1]))
        rows = await query.order_by("-created_at", "-id").limit(min(EXPORT_CHUNK, left))
        if not rows:
            return
        out = io.StringIO()
        csv.writer(out).writerows([_cell(_value(getattr(row, c))) for c in EXPORT_COLUMNS] for row in rows)
        yield out.getvalue()
        left -= len(rows)
        last = (rows[-1].created_at, rows[-1].id)


def _value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return beijing_iso(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _cell(text: str) -> str:
    # An actor id or a detail may begin like a formula: never let a spreadsheet run it.
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text

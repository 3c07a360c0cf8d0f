"""Cursor pagination: `?limit=` (20 by default, 100 at most) and an opaque `?cursor=`."""

from __future__ import annotations

import base64
import datetime as dt
import json

from api.core.errors import ValidationFailed


def page_params(args) -> tuple[int, dict | None]:
    """The limit and decoded cursor from the query string."""
    try:
        limit = int(args.get("limit", 20))
    except ValueError:
        raise ValidationFailed(fields={"limit": "必须是整数"}) from None
    if not 1 <= limit <= 100:
        raise ValidationFailed(fields={"limit": "取值范围 1 到 100"})
    cursor = args.get("cursor")
    if not cursor:
        return limit, None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise _bad_cursor() from None
    if not isinstance(position, dict):
        raise _bad_cursor()
    return limit, position


def encode_cursor(position: dict) -> str:
    """An opaque cursor for the position after the last item returned."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(fields={"cursor": "无效的分页游标"})


async def newest_first(query, *, limit: int, before: dict | None) -> tuple[list, dict | None]:
    """A page of `query`'s rows newest first by (created_at, id), and the cursor position after it."""
    if before:
        try:
            at = dt.datetime.fromisoformat(before["t"])
            last_id = str(before["i"])
        except (KeyError, TypeError, ValueError):
            raise _bad_cursor() from None
        query = query.filter(created_at__lte=at).exclude(created_at=at, id__gte=last_id)
    rows = await query.order_by("-created_at", "-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, ({"t": rows[-1].created_at.isoformat(), "i": rows[-1].id} if more else None)


def offset_of(cursor: dict | None) -> int:
    """The offset an offset cursor names (0 without one)."""
    if not cursor:
        return 0
    try:
        offset = int(cursor.get("o", 0))
    except (AttributeError, TypeError, ValueError):
        raise _bad_cursor() from None
    if offset < 0:
        raise _bad_cursor()
    return offset

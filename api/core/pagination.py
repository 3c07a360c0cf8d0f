"""Cursor pagination: `?limit=` (20 by default, 100 at most) and an opaque `?cursor=`."""

from __future__ import annotations

import base64
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
        return limit, json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise ValidationFailed(fields={"cursor": "无效的分页游标"}) from None


def encode_cursor(position: dict) -> str:
    """An opaque cursor for the position after the last item returned."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()

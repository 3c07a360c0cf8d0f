"""Keyset pagination for every list: `?limit=` (20 by default, 100 at most) and an opaque `?cursor=`.

A cursor is base64url(JSON object): the sort key of the last item a page returned, by the names of the list's
`Order`; the next page starts strictly after it. A list ranked in memory is keyed by rank position the same way.
A cursor that does not fit the list's order (not base64, not JSON, other keys, other types, negative numbers,
times without a zone) is 422 with `fields.cursor`, never a crash.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from tortoise.exceptions import ValidationError as OrmValidationError
from tortoise.expressions import Q

from api.core import db
from api.core.errors import ValidationFailed

DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@dataclass(frozen=True)
class Key:
    """One term of a list's order: a model field, the type of its values and the direction."""

    field: str
    kind: type  # str, int, dt.date or dt.datetime
    descending: bool = False

    def decode(self, value):
        """The key's value from its JSON form; ValueError when it is not one."""
        if self.kind is dt.datetime:
            at = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
            if at is None or at.tzinfo is None:
                raise ValueError(self.field)
            return db.as_stored(at)  # SQLite compares datetimes as local-time text
        if self.kind is dt.date:
            if not isinstance(value, str):
                raise ValueError(self.field)
            return dt.date.fromisoformat(value)
        # bool is an int to Python but never a position; a rank is never negative.
        if type(value) is not self.kind or (self.kind is int and value < 0):
            raise ValueError(self.field)
        return value

    def encode(self, value):
        """The key's value in JSON form."""
        return value.isoformat() if isinstance(value, dt.date) else value


@dataclass(frozen=True)
class Order:
    """How a list is sorted; the last key must make each item's position unique (the id does)."""

    keys: tuple[Key, ...]

    @property
    def terms(self) -> list[str]:
        """The `order_by` terms."""
        return [("-" if k.descending else "") + k.field for k in self.keys]

    def decode(self, position: dict) -> tuple:
        """The key values a cursor names; 422 `fields.cursor` when it is not a cursor of this order."""
        if set(position) != {k.field for k in self.keys}:
            raise _bad_cursor()
        try:
            return tuple(k.decode(position[k.field]) for k in self.keys)
        except (TypeError, ValueError, OverflowError):  # OverflowError: a time that cannot be moved to our zone
            raise _bad_cursor() from None

    def encode(self, values: tuple) -> str | None:
        """The cursor after an item with these key values (None for a null key: nothing sorts after it)."""
        if any(v is None for v in values):
            return None
        position = {k.field: k.encode(v) for k, v in zip(self.keys, values, strict=True)}
        return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()

    def after(self, values: tuple) -> Q:
        """The rows that sort strictly after the given key values."""
        clauses = []
        for i, key in enumerate(self.keys):
            equal = {k.field: v for k, v in zip(self.keys[:i], values[:i], strict=True)}
            clauses.append(Q(**equal, **{f"{key.field}__{'lt' if key.descending else 'gt'}": values[i]}))
        return Q(*clauses, join_type="OR")


NEWEST_FIRST = Order((Key("created_at", dt.datetime, descending=True), Key("id", str, descending=True)))
OLDEST_FIRST = Order((Key("created_at", dt.datetime), Key("id", str)))
RANKED = Order((Key("rank", int),))  # a list ranked in memory: the position of the item


@dataclass(frozen=True)
class PageRequest:
    """What a list request asks for: how many items, and the cursor's object (checked against the list's order)."""

    limit: int
    after: dict | None = None


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next (None on the last page)."""

    items: list
    next_cursor: str | None

    def map(self, shape: Callable) -> Page:
        """The same page with each item through `shape`."""
        return Page([shape(item) for item in self.items], self.next_cursor)

    def body(self, shape: Callable | None = None) -> dict:
        """The list answer, `{"items", "next_cursor"}`."""
        items = self.map(shape).items if shape else self.items
        return {"items": items, "next_cursor": self.next_cursor}


def page_request(args) -> PageRequest:
    """The limit and cursor of a list request's query string; 422 for a limit out of range or a cursor that is
    not base64url JSON of an object."""
    try:
        limit = int(args.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise ValidationFailed(fields={"limit": "必须是整数"}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(fields={"limit": f"取值范围 1 到 {MAX_LIMIT}"})
    cursor = args.get("cursor")
    if not cursor:
        return PageRequest(limit)
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are all ValueErrors
        raise _bad_cursor() from None
    if not isinstance(position, dict):
        raise _bad_cursor()
    return PageRequest(limit, position)


async def paginate(source, *, page: PageRequest, order: Order = NEWEST_FIRST) -> Page:
    """One page of `source` after the page's cursor: a query sorted by `order`, or a list already ranked in memory
    (keyed by rank position, whatever `order` says)."""
    if isinstance(source, list):
        (start,) = RANKED.decode(page.after) if page.after is not None else (-1,)
        start += 1
        rows = source[start:start + page.limit + 1]
        more = len(rows) > page.limit
        return Page(rows[:page.limit], RANKED.encode((start + page.limit - 1,)) if more else None)
    if page.after is not None:
        source = source.filter(order.after(order.decode(page.after)))
    try:
        rows = await source.order_by(*order.terms).limit(page.limit + 1)
    except OrmValidationError:
        # A filter value no column could hold (a 300-character `?dept=`, a `?status=` longer than any status): the
        # ORM refuses to send it, and no row could match it.
        return Page([], None)
    more = len(rows) > page.limit
    rows = rows[:page.limit]
    return Page(rows, order.encode(tuple(getattr(rows[-1], k.field) for k in order.keys)) if more else None)


def nothing(*, page: PageRequest, order: Order = NEWEST_FIRST) -> Page:
    """An empty page, after checking the cursor as `paginate` would: an empty list still refuses a forged one."""
    if page.after is not None:
        order.decode(page.after)
    return Page([], None)


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(fields={"cursor": "无效的分页游标"})

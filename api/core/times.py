"""One rule for every timestamp in an answer: Beijing time, ISO 8601 with `+08:00`, whatever zone it was made in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer, WithJsonSchema

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_iso(value: dt.datetime) -> str:
    """`value` as Beijing time in ISO 8601 with its offset (`2025-03-01T09:30:00+08:00`); a naive value is taken as
    Beijing time already (the process and the ORM run in Asia/Shanghai)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    return value.astimezone(BEIJING).isoformat()


# A datetime field of an answer: the type every response schema uses for a timestamp (a test holds them to it).
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(beijing_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2025-03-01T09:30:00+08:00"}),
]

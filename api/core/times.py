"""One rule for every timestamp in an answer: Beijing time, ISO 8601 with `+08:00`, whatever zone it was made in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_iso(value: dt.datetime) -> str:
    """`value` as Beijing time in ISO 8601 with its offset (`2025-03-01T09:30:00+08:00`); a naive value is taken as
    Beijing time already (the process and the ORM run in Asia/Shanghai)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=BEIJING)
    return value.astimezone(BEIJING).isoformat()


# The times this service deals in. A body's time outside them is 422: year 426 would be read back in Beijing's local
# mean time (+08:05:43), which the database drivers cannot parse, and no scan, mandate or policy lies there.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc)


def _in_service_range(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=BEIJING)
    if not EARLIEST <= aware < LATEST:
        raise ValueError("时间须在 2000 年至 2099 年之间")
    return value


# A datetime field of an answer or a body: the type every schema uses for a timestamp (a test holds answers to it).
Timestamp = Annotated[
    dt.datetime,
    AfterValidator(_in_service_range),
    PlainSerializer(beijing_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2025-03-01T09:30:00+08:00"}),
]

"""Shapes of the inbox routes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class InboxRead(BaseModel):
    id: str
    title: str
    body: str
    topic: str
    ref: dict[str, Any] | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxPage(BaseModel):
    items: list[InboxRead]
    next_cursor: str | None = None

"""Request and response shapes of the admin routes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class AdminLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AdminRead(BaseModel):
    username: str
    roles: list[str]
    depts: list[str]


class AdminTokens(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int
    admin: AdminRead


class AdminRefresh(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class AuditEntry(BaseModel):
    id: str
    created_at: dt.datetime
    actor_type: str
    actor_id: str
    on_behalf_of: str | None
    action: str
    target_type: str | None
    target_id: str | None
    request_id: str | None
    ip: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None

"""Request and response shapes of the admin routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.core.times import Timestamp


class AdminLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AdminRead(BaseModel):
    username: str
    roles: list[str]
    depts: list[str]


class StaffRead(BaseModel):
    """A staff account as a super admin manages it."""

    id: str
    username: str
    roles: list[str]
    depts: list[str]
    disabled: bool
    locked_until: Timestamp | None


class StaffUpdate(BaseModel):
    """New roles and/or departments of a staff account (a field left out keeps its value)."""

    roles: list[str] | None = Field(default=None, max_length=10)
    depts: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(default=None, max_length=50)


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
    created_at: Timestamp
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

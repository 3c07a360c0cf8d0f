"""Request and response shapes of the admin routes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.core.times import Timestamp


class AdminLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class AdminRead(BaseModel):
    username: str
    roles: list[str]
    depts: list[str]


class MeRead(AdminRead):
    id: str = Field(description="工作人员 id（与推送批次的 created_by、approved_by 同值，据此可知是否本人发布）")


class ConsoleSettings(BaseModel):
    maker_checker_threshold: int = Field(
        description="双人复核阈值：发布时受众超过此人数的，须另一名管理员批准后才开始匹配与推送")


class StaffRead(BaseModel):
    """A staff account as a super admin manages it."""

    id: str
    username: str
    roles: list[str]
    depts: list[str]
    disabled: bool
    locked_until: Timestamp | None
    created_at: Timestamp
    last_login_at: Timestamp | None


class StaffPage(BaseModel):
    items: list[StaffRead]
    next_cursor: str | None


Dept = Annotated[str, Field(min_length=1, max_length=64)]


class StaffCreate(BaseModel):
    """A new staff account: its sign-in name, first password, roles and departments (reviewers need one)."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=1, max_length=256)
    roles: list[str] = Field(min_length=1, max_length=10)
    depts: list[Dept] = Field(default_factory=list, max_length=50)


class StaffUpdate(BaseModel):
    """New roles and/or departments of a staff account (a field left out keeps its value)."""

    roles: list[str] | None = Field(default=None, max_length=10)
    depts: list[Dept] | None = Field(default=None, max_length=50)


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


class CalendarDay(BaseModel):
    """A day the notice names: a holiday (放假) or a make-up working day on a weekend (调休上班)."""

    date: dt.date
    kind: Literal["holiday", "workday"]
    name: str = Field(min_length=1, max_length=32)


class CalendarLoad(BaseModel):
    """A year's holidays and make-up working days, as the State Council's notice lists them (every other Monday to
    Friday works, every other weekend day rests). `year`, when given, must be the year of the path."""

    year: int | None = None
    source: str = Field(min_length=1, max_length=200)
    days: list[CalendarDay] = Field(min_length=1, max_length=200)


class CalendarFile(CalendarLoad):
    """The file `python server.py load-calendar FILE` reads: the route's body with its year."""

    year: int


class CalendarYearSummary(BaseModel):
    year: int
    origin: Literal["builtin", "loaded"]
    source: str
    holidays: int
    workdays: int
    loaded_at: Timestamp | None
    loaded_by: str | None


class CalendarYearRead(CalendarYearSummary):
    days: list[CalendarDay]


class CalendarYears(BaseModel):
    items: list[CalendarYearSummary]
    horizon_working_days: int
    missing: list[int]

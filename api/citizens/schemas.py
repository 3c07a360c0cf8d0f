"""Request and response shapes of the citizen routes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from api.citizens import idnumber
from api.core.times import Timestamp

DELEGATION_SCOPES = ("profile", "applications", "certificates", "licenses", "benefits", "inbox", "codes")
Scope = Literal["profile", "applications", "certificates", "licenses", "benefits", "inbox", "codes"]
PHONE_PATTERN = r"^1[3-9]\d{9}$"


class PlatformLink(BaseModel):
    platform: Literal["wechat", "alipay"]
    linked_at: Timestamp
    last_login_at: Timestamp | None = None


class CitizenRead(BaseModel):
    """A citizen as they see themselves: personal data masked unless revealed to the owner."""

    id: str
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    assurance_level: int = Field(description="1 手机号已验证, 2 实名核验, 3 人脸核验")
    real_name_verified: bool
    platforms: list[PlatformLink]
    masked: bool = True


class RealNameCreate(BaseModel):
    name: str = Field(min_length=2, max_length=32)
    id_number: str = Field(min_length=18, max_length=18)

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        reason = idnumber.problem(value)
        if reason:
            raise ValueError(reason)
        return value.strip().upper()

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class RealNameRead(BaseModel):
    assurance_level: int
    citizen: CitizenRead


class DelegationCreate(BaseModel):
    agent_phone: str = Field(pattern=PHONE_PATTERN, description="代办人的手机号")
    scopes: list[Scope] = Field(min_length=1, description="授权范围: " + ", ".join(DELEGATION_SCOPES))
    expires_at: Timestamp = Field(description="授权到期时间（带时区），一年以内")

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("时间需带时区")
        now = dt.datetime.now(dt.timezone.utc)
        if value <= now:
            raise ValueError("到期时间必须晚于现在")
        if value > now + dt.timedelta(days=366):
            raise ValueError("授权期限不能超过一年")
        return value

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class DelegationRead(BaseModel):
    id: str
    role: Literal["principal", "agent"] = Field(description="我在这份授权中是委托人还是代办人")
    principal_id: str
    principal_name: str | None = None
    agent_phone: str
    scopes: list[str]
    status: Literal["pending", "active", "revoked", "expired", "declined"] = Field(
        description="pending：待接受；active：生效中；revoked：已终止；expired：已过期；declined：受邀人已拒绝")
    expires_at: Timestamp
    created_at: Timestamp
    accepted_at: Timestamp | None = None
    declined_at: Timestamp | None = None


class DelegationPage(BaseModel):
    items: list[DelegationRead]
    next_cursor: str | None = None


class ImportJobRead(BaseModel):
    id: str
    dataset: str
    status: str = Field(description="queued, running, completed, failed")
    total_rows: int | None = Field(description="文件中的数据行数（记录数，不含表头与空行；"
                                               "一条记录可因引号内换行跨多行）")
    processed: int = Field(description="已处理的行数，恒等于 inserted + updated + rejected；与各批数据在同一事务中"
                                       "提交，所以任何时刻（包括失败后）登记数据中写入的正是这些行")
    inserted: int
    updated: int
    rejected: int = Field(description="被拒的行数：校验未通过或身份证号与文件中前面的行重复；逐行原因见 "
                                      "GET /api/v1/admin/imports/{id}/rejections")
    errors: list[dict] = Field(description="被拒的行：[{line, reason}]（行号含表头，最多 1000 条；全部见 rejections）")
    failure_reason: str | None = Field(description="status 为 failed 时的原因（机器可读），如 database_unavailable、"
                                                   "timed_out、worker_lost")
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class ImportJobPage(BaseModel):
    items: list[ImportJobRead]
    next_cursor: str | None


class ImportRejectionRead(BaseModel):
    line: int = Field(description="文件行号（表头为第 1 行；跨行的记录取其起始行）")
    reason: str = Field(description="被拒原因（只提列名与规则，不含行内容）")
    id_number: str | None = Field(description="该行的身份证号（脱敏，如 430***********123X）")


class ImportRejectionPage(BaseModel):
    items: list[ImportRejectionRead]
    next_cursor: str | None

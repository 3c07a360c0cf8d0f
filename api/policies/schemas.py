"""Request and response shapes of policies, campaigns, the policy calculator, grants and corrections."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.core.charts import RangeRead
from api.core.times import Timestamp

CHANNELS = ("wechat", "alipay", "inbox", "sms")


class PolicyCreate(BaseModel):
    title: str = Field(min_length=2, max_length=64)
    summary: str = Field(min_length=2, max_length=256)
    body: str = Field(min_length=2, max_length=20_000)
    mode: Literal["auto_grant", "notify"] = Field(
        description="auto_grant：免申即享，直接记录享受；notify：精准推送，告知并引导申请")
    rule: dict[str, Any] = Field(
        description='规则 JSON：{"all": [...]}、{"any": [...]}、{"not": 规则} 或条件 {"field", "op", "value"}')
    benefit: dict[str, Any] | str | None = Field(
        default=None, description='享受内容，如 {"name": "高龄津贴", "amount": 100, "unit": "元/月"}；字符串视为名称')
    channels: list[Literal["wechat", "alipay", "inbox", "sms"]] = Field(
        min_length=1, max_length=4, description="推送渠道，按顺序回退；站内信总会写入")
    apply_url: str | None = Field(default=None, max_length=256, description="notify 模式下的申请入口（小程序页面）")
    valid_from: dt.date | None = Field(default=None, description="政策生效日（含）；空为自发布起")
    valid_until: dt.date | None = Field(default=None, description="政策截止日（含）；空为长期有效")

    @field_validator("channels")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("渠道不能重复")
        return value

    @field_validator("valid_until")
    @classmethod
    def _after_start(cls, value: dt.date | None, info) -> dt.date | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value < start:
            raise ValueError("截止日不能早于生效日")
        return value


class PolicyRead(BaseModel):
    id: str
    title: str
    summary: str
    body: str
    mode: str
    rule: dict[str, Any]
    benefit: dict[str, Any] | str | None
    channels: list[str]
    apply_url: str | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: Literal["draft", "published", "archived"]
    created_at: Timestamp
    published_at: Timestamp | None
    archived_at: Timestamp | None


class PublicPolicyRead(BaseModel):
    id: str
    title: str
    summary: str
    body: str
    benefit: dict[str, Any] | str | None
    apply_url: str | None = Field(description="申请入口（小程序页面）；免申即享的政策可为空")
    valid_from: dt.date | None
    valid_until: dt.date | None
    status: Literal["published", "archived"] = Field(
        description="archived：政策已停止（仍可查看，以便打开旧推送的市民看到原文与“已停止”）")
    published_at: Timestamp | None


class PolicyPage(BaseModel):
    items: list[PolicyRead]
    next_cursor: str | None


class PreviewRead(BaseModel):
    matched: int
    sample: list[dict[str, Any]] = Field(description="脱敏样例（姓名、证件号、户籍地、年龄）")
    elapsed_ms: float
    as_of: dt.date


class CampaignCreated(BaseModel):
    campaign_id: str


class ChannelFigures(BaseModel):
    total: int
    by_channel: dict[str, int]


class FailureFigures(BaseModel):
    total: int
    by_channel: dict[str, dict[str, int]] = Field(description="渠道 → 原因 → 数量")


class CampaignRead(BaseModel):
    id: str
    policy_id: str
    status: Literal["queued", "running", "paused", "completed", "cancelled", "failed"]
    stage: str
    as_of: dt.date
    matched: int | None
    granted: int | None
    queued: int | None
    sent: ChannelFigures = Field(description="平台已受理")
    delivered: ChannelFigures = Field(description="已送达（站内信写入即送达）")
    failed: FailureFigures
    skipped: FailureFigures = Field(description="未在该渠道发送（无账号、未订阅、退订），已回退到下一渠道")
    uncertain: int = Field(description="发送中途进程中断、平台是否收到未知的条数（不重发，避免重复）")
    expired: int = Field(default=0, description="平台持续暂时不可用、超过重试时限（默认 4 小时）仍未发出的条数")
    pending: int
    read: int
    failure_reason: str | None = Field(description="status 为 failed 时的原因（机器可读），如 database_unavailable、"
                                                   "validation_failed、worker_lost")
    created_at: Timestamp
    started_at: Timestamp | None
    matched_at: Timestamp | None
    finished_at: Timestamp | None


class CampaignPage(BaseModel):
    items: list[CampaignRead]
    next_cursor: str | None


class Reason(BaseModel):
    field: str
    label: str | None = None
    op: str
    value: Any
    actual: Any
    passed: bool
    missing_dataset: str | None


class EligibleItem(BaseModel):
    policy_id: str
    title: str
    mode: str
    eligible: bool
    granted: bool
    reasons: list[Reason]
    correction: dict[str, Any] | None = Field(default=None, description="数据缺失时：如何申请补正")


class EligiblePage(BaseModel):
    items: list[EligibleItem]
    as_of: dt.date


class GrantRead(BaseModel):
    id: str
    policy_id: str
    title: str
    benefit: dict[str, Any] | str | None
    granted_at: Timestamp
    status: str


class GrantPage(BaseModel):
    items: list[GrantRead]
    next_cursor: str | None


class CorrectionCreate(BaseModel):
    dataset: Literal["population", "disability", "social_insurance", "health_card", "transit", "low_income"]
    field: str | None = Field(default=None, max_length=48)
    policy_id: str | None = Field(default=None, max_length=40)
    message: str = Field(min_length=2, max_length=500)


class CorrectionRead(BaseModel):
    id: str
    dataset: str
    field: str | None
    policy_id: str | None
    status: str
    created_at: Timestamp


class CorrectionAdminRead(CorrectionRead):
    citizen_id: str
    message: str


class CorrectionPage(BaseModel):
    items: list[CorrectionAdminRead]
    next_cursor: str | None


class AttributePage(BaseModel):
    items: list[dict[str, Any]]


class FunnelStage(BaseModel):
    stage: Literal["queued", "sent", "delivered", "read"]
    count: int


class CampaignFunnel(BaseModel):
    id: str
    policy_id: str
    title: str = Field(description="政策标题")
    status: str
    created_at: Timestamp
    queued: int = Field(description="匹配后排队待发的消息数（每人每渠道一条）")
    sent: int = Field(description="已发出的（交给平台或写入站内信，含已送达的）")
    delivered: int = Field(description="已送达的")
    read: int = Field(description="已读的（仅站内信可知是否已读）")
    failed: int = Field(description="发送失败的")
    funnel: list[FunnelStage] = Field(description="漏斗：queued → sent → delivered → read，可直接作为漏斗图数据")


class CampaignsDashboard(RangeRead):
    stages: list[str] = Field(description="漏斗各级的名称，依次为 queued、sent、delivered、read")
    items: list[CampaignFunnel] = Field(description="时间段内创建的最近的推送批次，最新在前")

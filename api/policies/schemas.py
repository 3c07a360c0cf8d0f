"""Request and response shapes of policies, campaigns, the policy calculator, grants and corrections."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.core.charts import RangeRead
from api.core.times import Timestamp

CHANNELS = ("wechat", "alipay", "inbox", "sms")
POLICY_STATUSES = ("draft", "published", "archived")
RULE_DESCRIPTION = '规则 JSON：{"all": [...]}、{"any": [...]}、{"not": 规则} 或条件 {"field", "op", "value"}'


def _distinct_channels(value: list[str] | None) -> list[str] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("渠道不能重复")
    return value


def _until_after_start(value: dt.date | None, info) -> dt.date | None:
    start = info.data.get("valid_from")
    if value is not None and start is not None and value < start:
        raise ValueError("截止日不能早于生效日")
    return value


class PolicyCreate(BaseModel):
    title: str = Field(min_length=2, max_length=64)
    summary: str = Field(min_length=2, max_length=256)
    body: str = Field(min_length=2, max_length=20_000)
    mode: Literal["auto_grant", "notify"] = Field(
        description="auto_grant：免申即享，直接记录享受；notify：精准推送，告知并引导申请")
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)
    benefit: dict[str, Any] | str | None = Field(
        default=None, description='享受内容，如 {"name": "高龄津贴", "amount": 100, "unit": "元/月"}；字符串视为名称')
    channels: list[Literal["wechat", "alipay", "inbox", "sms"]] = Field(
        min_length=1, max_length=4, description="推送渠道，按顺序回退；站内信总会写入")
    apply_url: str | None = Field(default=None, max_length=256, description="notify 模式下的申请入口（小程序页面）")
    valid_from: dt.date | None = Field(default=None, description="政策生效日（含）；空为自发布起")
    valid_until: dt.date | None = Field(default=None, description="政策截止日（含）；空为长期有效")

    _distinct = field_validator("channels")(_distinct_channels)
    _after_start = field_validator("valid_until")(_until_after_start)


def _no_defaults(schema: dict) -> None:
    # A field left out of an edit keeps its value: no default to document (and None is no title's default).
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class PolicyUpdate(BaseModel):
    """Any subset of the create fields; a field left out keeps its value (title, summary, body, mode, rule and
    channels cannot be null)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_defaults)

    title: str = Field(default=None, min_length=2, max_length=64)
    summary: str = Field(default=None, min_length=2, max_length=256)
    body: str = Field(default=None, min_length=2, max_length=20_000)
    mode: Literal["auto_grant", "notify"] = Field(default=None, description="auto_grant：免申即享；notify：精准推送")
    rule: dict[str, Any] = Field(default=None, description=RULE_DESCRIPTION)
    benefit: dict[str, Any] | str | None = Field(default=None, description="享受内容；null 为清空")
    channels: list[Literal["wechat", "alipay", "inbox", "sms"]] = Field(default=None, min_length=1, max_length=4)
    apply_url: str | None = Field(default=None, max_length=256)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    _distinct = field_validator("channels")(_distinct_channels)
    _after_start = field_validator("valid_until")(_until_after_start)


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
    version: int = Field(description="版本号（1、2……）：修改已发布的政策生成下一版本的草稿")
    previous_id: str | None = Field(description="上一版本的政策 id；第一版为空")
    family_id: str = Field(description="同一政策各版本共用的 id（第一版的 id）；一人只被同一政策触达一次，跨版本亦然")
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
    status: Literal["queued", "awaiting_approval"] = Field(
        default="queued", description="awaiting_approval：受众超过双人复核阈值，须另一名管理员批准后才开始")
    matched: int | None = Field(default=None, description="发布时按当日数据统计的受众人数（与预览同法）")


class ChannelFigures(BaseModel):
    total: int
    by_channel: dict[str, int]


class FailureFigures(BaseModel):
    total: int
    by_channel: dict[str, dict[str, int]] = Field(description="渠道 → 原因 → 数量")


class CampaignRead(BaseModel):
    id: str
    policy_id: str
    status: Literal["awaiting_approval", "queued", "running", "paused", "completed", "cancelled", "failed"]
    stage: str
    as_of: dt.date
    matched: int | None
    granted: int | None
    queued: int | None
    sent: ChannelFigures = Field(description="平台已受理")
    delivered: ChannelFigures = Field(description="已送达（站内信写入即送达）")
    failed: FailureFigures
    skipped: FailureFigures = Field(description="未在该渠道发送（无账号、未订阅、退订），已回退到下一渠道")
    uncertain: int = Field(description="发送中途进程中断或应答丢失、平台是否收到未知的条数（含 told_in_inbox_only）")
    uncertain_settled: int = Field(default=0, description="曾不确定、经短信平台回执查询（QuerySendDetails）确认已受理，"
                                                          "或确认未受理后补发一次的条数")
    told_in_inbox_only: int = Field(default=0, description="回执仍查不到、不补发（避免重复短信），改由站内信告知的条数")
    inbox_held: int = Field(default=0, description="无账号者的站内信，待其实名绑定账号后放入其收件箱的条数")
    expired: int = Field(default=0, description="平台持续暂时不可用、超过重试时限（默认 4 小时）仍未发出的条数")
    pending: int
    read: int
    failure_reason: str | None = Field(description="status 为 failed 时的原因（机器可读），如 database_unavailable、"
                                                   "validation_failed、worker_lost")
    created_by: str = Field(description="发布者（管理员 id）")
    approved_by: str | None = Field(description="批准者（管理员 id）；无须批准或尚未批准为空")
    approved_at: Timestamp | None
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


class Choice(BaseModel):
    value: Any
    label: str


class Operator(BaseModel):
    op: str
    label: str
    value: Literal["scalar", "list", "text_prefix", "bool"] = Field(
        description="值的形态：scalar 为与字段同类型的单值，list 为其列表，text_prefix 为前缀字符串，"
                    "bool 为 true/false")


class AttributeRead(BaseModel):
    name: str
    type: Literal["int", "str", "date", "bool"]
    label: str
    dataset: str
    dataset_label: str
    derivation: str
    ops: list[str]
    operators: list[Operator] = Field(description="可用运算及其中文名、值的形态")
    choices: list[Any] | None = Field(description="枚举字段的取值")
    options: list[Choice] | None = Field(description="枚举字段（及是/否字段）的取值与中文名")
    bounds: list[int] | None = Field(description="整数字段可用的最小、最大值")
    digits: int | None = Field(description="定长数字代码的位数（如行政区划 6 位）；前缀匹配可用 1 至该位数")
    format: str | None = Field(description="值的格式，如日期 YYYY-MM-DD")


class AttributePage(BaseModel):
    items: list[AttributeRead]


class RulePreviewRequest(BaseModel):
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)


class RuleExplainRequest(BaseModel):
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)
    id_number: str = Field(min_length=1, max_length=32, description="人口登记中的居民身份证号（18 位）")


class MaskedPerson(BaseModel):
    name: str | None = Field(description="脱敏姓名，如 张*")
    id_number: str = Field(description="脱敏证件号")


class ExplainRead(BaseModel):
    eligible: bool
    reasons: list[Reason]
    person: MaskedPerson
    as_of: dt.date


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

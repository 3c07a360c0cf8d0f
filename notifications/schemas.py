"""Shapes of the inbox, subscription and notification-preference routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from api.core.charts import RangeRead
from api.core.times import Timestamp


class InboxRead(BaseModel):
    id: str
    title: str
    body: str
    topic: str
    ref: dict[str, Any] | None
    created_at: Timestamp
    read_at: Timestamp | None


class InboxPage(BaseModel):
    items: list[InboxRead]
    next_cursor: str | None = None


class MessageRead(BaseModel):
    id: str
    topic: str
    title: str | None = Field(description="消息标题（政策推送为政策名称；站内信尚未写入时为空）")
    channel: str = Field(description="wechat、alipay、sms、inbox（subscribe：尚未选定平台的事件消息）")
    status: Literal["queued", "delivered", "failed", "expired", "uncertain"]
    ref: dict[str, Any] | None = Field(description="消息指向的对象 {kind, id}")
    created_at: Timestamp
    delivered_at: Timestamp | None


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None = None


class StaffNoticeRead(BaseModel):
    id: str
    dept: str
    title: str
    body: str
    ref: dict[str, Any]
    created_at: Timestamp


class StaffNoticePage(BaseModel):
    items: list[StaffNoticeRead]
    next_cursor: str | None = None


class SubscriptionCreate(BaseModel):
    platform: Literal["wechat", "alipay"]
    template_id: str = Field(min_length=1, max_length=64)
    result: Literal["accept", "reject", "ban"] = Field(
        description="wx.requestSubscribeMessage 的结果：accept、reject、ban")
    kind: Literal["one_time", "long_term"] = "one_time"


class SubscriptionRead(BaseModel):
    platform: str
    template_id: str
    one_time_remaining: int = Field(description="尚可发送的一次性订阅次数")
    long_term: bool
    banned: bool


class SubscriptionList(BaseModel):
    items: list[SubscriptionRead]


class MessageTemplateRead(BaseModel):
    platform: Literal["wechat", "alipay"]
    template_id: str
    topic: str
    kind: Literal["one_time", "long_term"] = Field(description="一次性订阅（每次授权可发一条）或长期订阅")
    fields: dict[str, str] = Field(description="模板字段及其类型，如 {\"thing1\": \"thing\"}")


class MessageTemplateList(BaseModel):
    items: list[MessageTemplateRead]


TOPICS = Literal["policy", "benefit", "application", "certificate", "code", "delegation"]


class PreferencesUpdate(BaseModel):
    channels: list[Literal["wechat", "alipay", "sms"]] = Field(
        default=[], max_length=3, description="不再接收推送的渠道（站内信不可退订）")
    topics: list[TOPICS] = Field(  # type: ignore[valid-type]
        default=[], max_length=6, description="不再接收推送的主题（仍会写入站内信）")
    sms_for_all_topics: bool = Field(
        default=False, description="短信默认只用于重要事项（补正、审批结果、证照、待遇、代办邀请、一码冻结）；"
                                   "开启后，其他办件进度消息在微信、支付宝都无法送达时也用短信告知")


class PreferencesRead(BaseModel):
    channels: list[str]
    topics: list[str]
    sms_for_all_topics: bool


class MessageOutcomeSeries(BaseModel):
    outcome: Literal["sent", "failed", "skipped", "uncertain", "pending", "expired"]
    counts: list[int] = Field(description="各渠道的条数，与 channels 一一对应")
    total: int


class MessagesDashboard(RangeRead):
    channels: list[str] = Field(description="渠道：wechat、alipay、sms、inbox")
    series: list[MessageOutcomeSeries] = Field(description="每种发送结果一个序列")
    total: int = Field(description="时间段内事件消息的总条数")
    uncertain_settled: int = Field(description="曾不确定、经短信回执查询确认已受理或已补发的条数")
    told_in_inbox_only: int = Field(description="回执仍查不到、不补发（避免重复短信），改由站内信告知的条数")
    told_nowhere: int = Field(description="回执仍查不到、且对方没有账号（无站内信可告知）的条数，应为 0")

"""Shapes of the sandbox's helper endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

PHONE_PATTERN = r"^1[3-9]\d{9}$"


class WeChatCodesRequest(BaseModel):
    openid: str | None = Field(default=None, min_length=6, max_length=64)
    unionid: str | None = Field(default=None, min_length=6, max_length=64)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    risky: bool = Field(default=False, description="微信判定为风险用户（jscode2session 返回 40226）")
    ttl_seconds: int = Field(default=300, ge=1, le=300, description="code 的有效期（秒，最长 5 分钟）")


class WeChatCodes(BaseModel):
    code: str = Field(description="wx.login 的 code")
    phone_code: str | None = Field(description="getPhoneNumber 的 code（请求带 phone 时）")
    openid: str


class AlipayCodesRequest(BaseModel):
    user_id: str | None = Field(default=None, pattern=r"^2088\d{12}$")
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    ttl_seconds: int = Field(default=300, ge=1, le=300)


class AlipayCodes(BaseModel):
    auth_code: str = Field(description="my.getAuthCode 的 authCode")
    phone_response: dict[str, Any] | None = Field(description="my.getPhoneNumber 的加密报文（请求带 phone 时）")
    user_id: str


class Messages(BaseModel):
    items: list[dict[str, Any]]


class SmsAnswer(BaseModel):
    """dysmsapi's answer to SendSms: `OK`, a business error (HTTP 200) or a request error (HTTP 4xx)."""

    Code: str
    Message: str
    RequestId: str
    BizId: str | None = Field(default=None, exclude_if=lambda value: value is None)


class SmsSendDetail(BaseModel):
    """One send as QuerySendDetails reports it."""

    PhoneNum: str
    SendStatus: int = Field(description="1 等待回执，2 发送失败，3 发送成功")
    ErrCode: str
    OutId: str | None
    TemplateCode: str
    BizId: str
    SendDate: str
    ReceiveDate: str


class SmsSendDetails(BaseModel):
    SmsSendDetailDTO: list[SmsSendDetail]


class SmsDetailsAnswer(BaseModel):
    """dysmsapi's answer to QuerySendDetails: the sends to one number on one day, a page at a time."""

    Code: str
    Message: str
    RequestId: str
    TotalCount: int | None = Field(default=None, exclude_if=lambda value: value is None)
    SmsSendDetailDTOs: SmsSendDetails | None = Field(default=None, exclude_if=lambda value: value is None)

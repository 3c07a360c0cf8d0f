"""Request and response shapes of the login routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.citizens.schemas import PHONE_PATTERN, CitizenRead


class WeChatLogin(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="wx.login 返回的 code")
    phone_code: str | None = Field(default=None, max_length=256, description="getPhoneNumber 返回的 code（可选）")


class AlipayLogin(BaseModel):
    auth_code: str = Field(min_length=1, max_length=128, description="my.getAuthCode 返回的 authCode")
    phone_response: dict[str, Any] | str | None = Field(
        default=None, description="my.getPhoneNumber 返回的加密报文（对象或其 JSON 字符串，可选）"
    )
    phone_otp: str | None = Field(
        default=None, pattern=r"^\d{6}$",
        description="发送至 phone_response 中手机号的短信验证码（POST /api/v1/auth/phone/otp）；"
                    "该手机号尚不是本支付宝账号已验证的手机号时必填，否则 401 phone_otp_required",
    )


class PhoneOtpRequest(BaseModel):
    phone: str = Field(pattern=PHONE_PATTERN, description="接收验证码的手机号（用户输入，须与登录所带手机号一致）")


class PhoneOtpSent(BaseModel):
    expires_in: int = Field(description="验证码有效期（秒）")
    resend_after: int = Field(description="多少秒后可再次获取")


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class CitizenTokens(TokenPair):
    citizen: CitizenRead
    created: bool = Field(description="本次登录是否新建了市民账号")


class Jwks(BaseModel):
    keys: list[dict[str, Any]]

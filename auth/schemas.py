"""Request and response shapes of the login routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.citizens.schemas import CitizenRead


class WeChatLogin(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="wx.login 返回的 code")
    phone_code: str | None = Field(default=None, max_length=256, description="getPhoneNumber 返回的 code（可选）")


class AlipayLogin(BaseModel):
    auth_code: str = Field(min_length=1, max_length=128, description="my.getAuthCode 返回的 authCode")
    phone_response: dict[str, Any] | str | None = Field(
        default=None, description="my.getPhoneNumber 返回的加密报文（对象或其 JSON 字符串，可选）"
    )


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

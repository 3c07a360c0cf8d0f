"""A WeChat-compatible upstream: cgi-bin/token, jscode2session, getuserphonenumber, subscribe/send."""

from __future__ import annotations

import json
import secrets
import time
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, HTTPResponse, text

from api.core.http import doc, parse, respond
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.inspection import USER_TTL, add_message_routes, add_user_routes
from miniapp_handlers.sandbox.schemas import WeChatCodes, WeChatCodesRequest

P = "wechat"
TOKEN_TTL = 7200
_FAULT_ERRCODES = {"busy": (-1, "system error"), "rate_limit": (45011, "api minute-quota reach limit"),
                   "token_invalid": (40001, "invalid credential, access_token is invalid or not latest"),
                   "user_refused": (43101, "user refuse to accept the msg"),
                   "quota": (45009, "reach max api daily quota limit")}


class OpenIds(BaseModel):
    openids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=state.BULK_LIMIT)


class WeChatStats(state.MessageStats):
    token_fetches: int = Field(description="cgi-bin/token 被调用的次数")


def _err(errcode: int, errmsg: str) -> HTTPResponse:
    # WeChat answers its errors with HTTP 200 and an errcode.
    return respond({"errcode": errcode, "errmsg": errmsg})


async def _fault(request, *, applies_to: tuple[str, ...]) -> tuple[HTTPResponse | None, bool]:
    """The answer an injected fault gives instead of the call's, and whether the call's own answer comes back
    malformed (every route takes `down` and `malformed`)."""
    mode = await state.apply_faults(request.app.ctx.deps.redis, P, applies_to=("down", "malformed", *applies_to))
    if mode == "down":
        return text("upstream down (sandbox fault)", status=503), False
    if mode and mode != "malformed":
        return _err(*_FAULT_ERRCODES[mode]), False
    return None, mode == "malformed"


async def _check_token(request) -> HTTPResponse | None:
    token = request.args.get("access_token")
    if not token:
        return _err(41001, "access_token missing")
    held = await state.recall(request.app.ctx.deps.redis, P, "token", token)
    if held is None:
        return _err(40001, "invalid credential, access_token is invalid or not latest")
    if held["expires_at"] < time.time():
        return _err(42001, "access_token expired")
    return None


def _check_app(request) -> HTTPResponse | None:
    s = request.app.ctx.deps.settings
    if request.args.get("appid") != s.wechat_appid:
        return _err(40013, "invalid appid")
    if request.args.get("secret") != s.wechat_secret:
        return _err(40125, "invalid appsecret")
    return None


def create_wechat_blueprint() -> Blueprint:
    """The WeChat twin and its helpers, under /sandbox/wechat."""
    bp = Blueprint("sandbox_wechat", url_prefix="/sandbox/wechat")

    @bp.get("/cgi-bin/token")
    @doc("沙箱：获取 access_token（同微信 cgi-bin/token）", tag="sandbox")
    async def token(request):
        failed, malformed = await _fault(request, applies_to=("busy", "rate_limit"))
        if failed:
            return failed
        if request.args.get("grant_type") != "client_credential":
            return _err(40002, "invalid grant_type")
        if bad := _check_app(request):
            return bad
        access_token = secrets.token_urlsafe(48)
        if malformed:
            return respond(state.spoiled({"access_token": access_token, "expires_in": TOKEN_TTL}))
        await state.remember(request.app.ctx.deps.redis, P, "token", access_token,
                             {"expires_at": time.time() + TOKEN_TTL}, TOKEN_TTL + 600)
        await state.count(request.app.ctx.deps.redis, P, "token_fetches")
        return respond({"access_token": access_token, "expires_in": TOKEN_TTL})

    @bp.get("/sns/jscode2session")
    @doc("沙箱：code 换 openid（同微信 sns/jscode2session）", tag="sandbox")
    async def jscode2session(request):
        failed, malformed = await _fault(request, applies_to=("busy", "rate_limit"))
        if failed:
            return failed
        if bad := _check_app(request):
            return bad
        outcome, user = await state.redeem(request.app.ctx.deps.redis, P, "code", request.args.get("js_code", ""))
        if outcome == "used":
            return _err(40163, "code been used")
        if outcome != "ok":
            return _err(40029, "invalid code")
        if user.get("risky"):
            return _err(40226, "high risk user")
        await state.remember(request.app.ctx.deps.redis, P, "user", user["openid"], {"openid": user["openid"]},
                             USER_TTL)
        answer = {"openid": user["openid"], "session_key": user["session_key"]}
        if user.get("unionid"):
            answer["unionid"] = user["unionid"]
        return respond(state.spoiled(answer) if malformed else answer)

    @bp.post("/wxa/business/getuserphonenumber")
    @doc("沙箱：手机号 code 换手机号（同微信 wxa/business/getuserphonenumber）", tag="sandbox")
    async def getuserphonenumber(request):
        failed, malformed = await _fault(request, applies_to=("busy", "rate_limit", "token_invalid"))
        if failed:
            return failed
        if bad := await _check_token(request):
            return bad
        try:
            code = json.loads(request.body or b"{}").get("code")
        except (ValueError, AttributeError):
            return _err(47001, "data format error")
        outcome, held = await state.redeem(request.app.ctx.deps.redis, P, "phone", code or "")
        if outcome != "ok":
            return _err(40029, "invalid code")
        phone = held["phone"]
        info = {"phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                "watermark": {"timestamp": int(time.time()), "appid": request.app.ctx.deps.settings.wechat_appid}}
        return respond({"errcode": 0, "errmsg": "ok", "phone_info": state.spoiled(info) if malformed else info})

    @bp.post("/cgi-bin/message/subscribe/send")
    @doc("沙箱：发送订阅消息（同微信 cgi-bin/message/subscribe/send）", tag="sandbox")
    async def subscribe_send(request):
        failed, malformed = await _fault(request, applies_to=("busy", "token_invalid", "user_refused", "quota"))
        if failed:
            return failed
        if malformed:  # a page in place of the JSON answer, say a proxy's (the message is not taken)
            return HTTPResponse("<html><body>502 Bad Gateway</body></html>", content_type="text/html")
        if bad := await _check_token(request):
            return bad
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return _err(47001, "data format error")
        if not isinstance(body, dict):
            return _err(47001, "data format error")
        if not body.get("template_id"):
            return _err(40037, "invalid template_id")
        known, refusing = await state.recipient(request.app.ctx.deps.redis, P, str(body["touser"])) \
            if body.get("touser") else (False, False)
        if not known:
            return _err(40003, "invalid openid")
        if refusing:
            return _err(*_FAULT_ERRCODES["user_refused"])
        data = body.get("data")
        if not isinstance(data, dict) or not data or not all(
                isinstance(v, dict) and isinstance(v.get("value"), str) and 0 < len(v["value"]) <= 64
                for v in data.values()):
            return _err(47003, "argument invalid! data.value invalid")
        message = {k: body.get(k) for k in ("touser", "template_id", "page", "data", "miniprogram_state", "lang")}
        await state.log_message(request.app.ctx.deps.redis, P, {**message, "received_at": int(time.time())})
        return respond({"errcode": 0, "errmsg": "ok", "msgid": secrets.randbits(48)})

    @bp.post("/codes")
    @doc("沙箱助手：生成 wx.login 与 getPhoneNumber 的 code", body=WeChatCodesRequest, response=WeChatCodes,
         errors=(422,), tag="sandbox")
    async def codes(request):
        body = parse(request, WeChatCodesRequest)
        redis = request.app.ctx.deps.redis
        openid = body.openid or "o" + secrets.token_urlsafe(20)
        user = {"openid": openid, "unionid": body.unionid, "risky": body.risky,
                "session_key": secrets.token_urlsafe(16)}
        code = await state.mint(redis, P, "code", user, body.ttl_seconds)
        phone_code = await state.mint(redis, P, "phone", {"phone": body.phone}, body.ttl_seconds) if body.phone \
            else None
        return respond({"code": code, "phone_code": phone_code, "openid": openid})

    add_message_routes(bp, P, received="订阅消息", stats_doc="调用计数", stats_model=WeChatStats,
                       counters=("token_fetches", state.ACCEPTED))

    add_user_routes(bp, P, body=OpenIds, field="openid", refusal="43101")
    return bp

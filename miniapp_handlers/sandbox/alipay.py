"""An Alipay-compatible gateway: oauth.token, user.info.share, mini templatemessage.send, RSA2 both ways."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, HTTPResponse, text

from api.core.http import doc, parse, respond
from api.core.keys import public_pem_of
from miniapp_handlers.alipay import crypto
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.inspection import USER_TTL, add_message_routes, add_user_routes
from miniapp_handlers.sandbox.schemas import AlipayCodes, AlipayCodesRequest

P = "alipay"
TOKEN_TTL = 15 * 24 * 3600
TIMESTAMP_SKEW = dt.timedelta(minutes=15)
REQUIRED = ("app_id", "method", "charset", "sign_type", "sign", "timestamp", "version")


class UserIds(BaseModel):
    user_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=state.BULK_LIMIT, description="user_id 或 open_id")


class _Failure(Exception):
    def __init__(self, code: str, msg: str, sub_code: str, sub_msg: str):
        super().__init__(sub_code)
        self.body = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def _invalid(sub_code: str, sub_msg: str) -> _Failure:
    return _Failure("40002", "Invalid Arguments", sub_code, sub_msg)


def _business(sub_code: str, sub_msg: str) -> _Failure:
    return _Failure("40004", "Business Failed", sub_code, sub_msg)


def _keys(app) -> tuple:
    # Read at request time: development keys are filled in by the server's start listener.
    cached = getattr(app.ctx, "sandbox_alipay_keys", None)
    if cached is None:
        s = app.ctx.deps.settings
        cached = (crypto.load_private_key(s.sandbox_alipay_private_key),
                  crypto.load_public_key(public_pem_of(s.alipay_app_private_key)))
        app.ctx.sandbox_alipay_keys = cached
    return cached


def _signed(app, response_key: str, inner: dict, *, corrupt: bool = False) -> HTTPResponse:
    # Alipay signs the raw text of the `<method>_response` value; the SDK verifies that exact text.
    inner_json = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    signature = crypto.sign_rsa2(_keys(app)[0], inner_json + ("x" if corrupt else ""))
    body = f'{{"{response_key}":{inner_json},"sign":"{signature}"}}'
    return HTTPResponse(body, content_type="application/json;charset=utf-8")


def _params(request) -> dict[str, str]:
    params = {k: v[0] for k, v in request.args.items()}
    if request.method == "POST" and request.form:
        params.update({k: v[0] for k, v in request.form.items()})
    return params


def _check_request(app, params: dict[str, str]) -> None:
    missing = [k for k in REQUIRED if not params.get(k)]
    if missing:
        raise _Failure("40001", "Missing Required Arguments", f"isv.missing-{missing[0].replace('_', '-')}",
                       f"缺少必选参数 {missing[0]}")
    if params["app_id"] != app.ctx.deps.settings.alipay_appid:
        raise _invalid("isv.invalid-app-id", "无效的AppID参数")
    if params["sign_type"] != "RSA2":
        raise _invalid("isv.invalid-signature-type", "无效的签名类型")
    if not crypto.verify_rsa2(_keys(app)[1], crypto.signed_request_string(params), params["sign"]):
        raise _invalid("isv.invalid-signature", "验签出错")
    try:
        sent = dt.datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise _invalid("isv.invalid-timestamp", "非法的时间戳参数") from None
    if abs(sent - dt.datetime.now()) > TIMESTAMP_SKEW:
        raise _invalid("isv.invalid-timestamp", "非法的时间戳参数")


async def _oauth_token(request, params: dict, biz: dict) -> dict:
    if params.get("grant_type") != "authorization_code":
        raise _invalid("isv.grant-type-invalid", "不支持的grant_type")
    redis = request.app.ctx.deps.redis
    outcome, user = await state.redeem(redis, P, "code", params.get("code", ""))
    if outcome != "ok":
        raise _invalid("isv.code-invalid", "授权码code无效")
    access_token = "authusrB" + secrets.token_hex(20)
    await state.remember(redis, P, "token", access_token, {"user_id": user["user_id"]}, TOKEN_TTL)
    await state.remember(redis, P, "user", user["user_id"], {"user_id": user["user_id"]}, USER_TTL)
    return {"user_id": user["user_id"], "access_token": access_token, "expires_in": TOKEN_TTL,
            "refresh_token": "authusrB" + secrets.token_hex(20), "re_expires_in": TOKEN_TTL * 2,
            "auth_start": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")}


async def _user_info_share(request, params: dict, biz: dict) -> dict:
    held = await state.recall(request.app.ctx.deps.redis, P, "token", params.get("auth_token", ""))
    if held is None:
        raise _Failure("20001", "Insufficient Token Permissions", "aop.invalid-auth-token", "无效的访问令牌")
    return {"code": "10000", "msg": "Success", "user_id": held["user_id"], "nick_name": "沙箱用户",
            "avatar": "https://example.invalid/avatar.png"}


async def _templatemessage_send(request, params: dict, biz: dict) -> dict:
    mode = await state.apply_faults(request.app.ctx.deps.redis, P, applies_to=("user_refused", "quota"))
    if mode == "user_refused":
        raise _business("USER_NOT_SUBSCRIBED", "用户未订阅该消息")
    if mode == "quota":
        raise _business("SEND_LIMIT_EXCEEDED", "发送次数超限")
    to = biz.get("to_user_id") or biz.get("to_open_id")
    known, refusing = await state.recipient(request.app.ctx.deps.redis, P, str(to)) if to else (False, False)
    if not known:
        raise _business("USER_NOT_EXIST", "用户不存在")
    if refusing:
        raise _business("USER_NOT_SUBSCRIBED", "用户未订阅该消息")
    if not biz.get("user_template_id"):
        raise _business("TEMPLATE_NOT_EXIST", "模板不存在")
    try:
        data = json.loads(biz.get("data") or "")
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict) or not data or not all(isinstance(v, dict) and v.get("value") for v in data.values()):
        raise _business("DATA_ILLEGAL", "消息数据格式错误")
    message = {k: biz.get(k) for k in ("to_user_id", "to_open_id", "user_template_id", "page")}
    await state.log_message(request.app.ctx.deps.redis, P, {**message, "data": data, "received_at": int(time.time())})
    return {"code": "10000", "msg": "Success"}


SENDS = frozenset({"alipay.open.app.mini.templatemessage.send"})
METHODS = {"alipay.system.oauth.token": _oauth_token, "alipay.user.info.share": _user_info_share,
           "alipay.open.app.mini.templatemessage.send": _templatemessage_send}


async def _gateway(request):
    mode = await state.apply_faults(request.app.ctx.deps.redis, P, applies_to=("down", "busy", "rate_limit",
                                                                          "bad_signature", "malformed"))
    if mode == "down":
        return text("upstream down (sandbox fault)", status=503)
    params = _params(request)
    method = params.get("method", "")
    response_key = method.replace(".", "_") + "_response" if method in METHODS else "error_response"
    try:
        if mode == "busy":
            raise _Failure("20000", "Service Currently Unavailable", "isp.unknow-error", "系统繁忙")
        if mode == "rate_limit":
            raise _Failure("20000", "Service Currently Unavailable", "isp.call-limited", "调用频率超限")
        _check_request(request.app, params)
        if method not in METHODS:
            raise _invalid("isv.invalid-method", "不存在的方法名")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            raise _invalid("isv.invalid-biz-content", "biz_content 不是合法的 JSON") from None
        if mode == "malformed" and method in SENDS:
            # As on every twin, a message answered malformed is not taken: a sender's retry is its only copy.
            inner = {"code": "10000", "msg": "Success"}
        else:
            inner = await METHODS[method](request, params, biz if isinstance(biz, dict) else {})
    except _Failure as failure:
        # Login and argument errors come back as error_response; business failures under the method's key.
        key = response_key if failure.body["code"] == "40004" else "error_response"
        response_key, inner = key, failure.body
    if mode == "malformed":
        inner = state.spoiled(inner)
    return _signed(request.app, response_key, inner, corrupt=mode == "bad_signature")


def create_alipay_blueprint() -> Blueprint:
    """The Alipay twin and its helpers, under /sandbox/alipay."""
    bp = Blueprint("sandbox_alipay", url_prefix="/sandbox/alipay")
    bp.add_route(doc("沙箱：支付宝开放平台网关（RSA2 签名）", tag="sandbox")(_gateway), "/gateway.do",
                 methods=["GET", "POST"], name="gateway")

    @bp.post("/codes")
    @doc("沙箱助手：生成 my.getAuthCode 的 authCode 与 my.getPhoneNumber 的加密报文", body=AlipayCodesRequest,
         response=AlipayCodes, errors=(422,), tag="sandbox")
    async def codes(request):
        body = parse(request, AlipayCodesRequest)
        user_id = body.user_id or f"2088{secrets.randbelow(10**12):012d}"
        auth_code = await state.mint(request.app.ctx.deps.redis, P, "code", {"user_id": user_id}, body.ttl_seconds)
        envelope = None
        if body.phone:
            # The envelope is Alipay's answer to my.getPhoneNumber: the `malformed` fault spoils it too.
            answer = crypto.phone_answer(body.phone)
            if await state.apply_faults(request.app.ctx.deps.redis, P, applies_to=("malformed",), wait=False):
                answer["mobile"] = [body.phone]
            envelope = crypto.seal_phone_envelope(answer, alipay_private_key=_keys(request.app)[0],
                                                  aes_key_b64=request.app.ctx.deps.settings.alipay_aes_key)
        return respond({"auth_code": auth_code, "phone_response": envelope, "user_id": user_id})

    add_message_routes(bp, P, received="小程序模板消息", stats_doc="消息计数")

    add_user_routes(bp, P, body=UserIds, field="user_id", refusal="USER_NOT_SUBSCRIBED")
    return bp

"""An SMS provider twin (Aliyun dysmsapi SendSms and QuerySendDetails): AccessKey and signature checks, phone and
template checks, and the delivery report of what it accepted, by number and day, with each send's OutId."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import re
import secrets
import time
import uuid
from urllib.parse import parse_qsl

from sanic import Blueprint, HTTPResponse, text

from api.core.http import doc, respond
from api.core.workdays import SHANGHAI
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.inspection import add_message_routes
from miniapp_handlers.sandbox.schemas import PHONE_PATTERN, SmsAnswer, SmsDetailsAnswer
from miniapp_handlers.sms.signing import SIGNATURE_METHOD, TIMESTAMP_FORMAT, signature

P = "sms"
TIMESTAMP_SKEW = dt.timedelta(minutes=15)
MAX_NUMBERS = 1000
SIGNED = ("AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp")
REQUIRED = (*SIGNED, "PhoneNumbers", "SignName")
QUERY_REQUIRED = (*SIGNED, "PhoneNumber", "SendDate", "PageSize", "CurrentPage")
QUERY_PAGE_SIZE = 50
PHONE = re.compile(PHONE_PATTERN)
_FAULT_CODES = {"busy": ("isp.SYSTEM_ERROR", "系统错误"),
                "rate_limit": ("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控"),
                "user_refused": ("isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"),
                "quota": ("isv.DAY_LIMIT_CONTROL", "触发日发送限额")}
# lost_answer: the message is accepted (and reported by QuerySendDetails) but the answer never comes in time: the
# client's read times out, as when a network drops the answer of a send the provider took. lost_request: the same
# timeout, but the provider never took it (nothing accepted, nothing reported).
LOST = ("lost_answer", "lost_request")
FAULTS = ("down", "malformed", *LOST, *_FAULT_CODES)
QUERY_FAULTS = ("down", "malformed", "busy")


def _answer(code: str, message: str, status: int = 200) -> HTTPResponse:
    # Business errors (isv.*, isp.*) come with HTTP 200; request errors (signature, key) with a 4xx.
    return respond({"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}, status=status)


def _params(request) -> dict[str, str]:
    # Parsed by hand: Sanic's form drops blank values, and every value counts for the signature.
    params = dict(parse_qsl(request.query_string, keep_blank_values=True)) if request.query_string else {}
    params.update(parse_qsl((request.body or b"").decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _check_request(settings, params: dict[str, str], required: tuple[str, ...] = REQUIRED) -> HTTPResponse | None:
    missing = next((k for k in required if not params.get(k)), None)
    if missing:
        return _answer(f"Missing{missing}", f"{missing} is mandatory for this action.", 400)
    if params["AccessKeyId"] != settings.sms_access_key_id:
        return _answer("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
    if params["SignatureMethod"] != SIGNATURE_METHOD:
        return _answer("InvalidSignatureMethod", "Specified signature method is not supported.", 400)
    try:
        sent = dt.datetime.strptime(params["Timestamp"], TIMESTAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:
        return _answer("InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.", 400)
    if abs(sent - dt.datetime.now(dt.UTC)) > TIMESTAMP_SKEW:
        return _answer("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.", 400)
    if not hmac.compare_digest(signature(params, settings.sms_access_key_secret), params["Signature"]):
        return _answer("SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400)
    return None


def _template_params(raw: str) -> dict | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _send_sms(request):
    redis = request.app.ctx.deps.redis
    mode = await state.apply_faults(redis, P, applies_to=FAULTS)
    if mode == "down":
        return text("upstream down (sandbox fault)", status=503)
    params = _params(request)
    if bad := _check_request(request.app.ctx.deps.settings, params):
        return bad
    if mode == "malformed":  # the fields' types wrong, and whether it went out unknown: it is not recorded
        return respond(state.spoiled({"Code": "OK", "Message": "OK", "BizId": f"{secrets.randbelow(10**15):015d}^0",
                                      "RequestId": str(uuid.uuid4()).upper()}))
    if mode in _FAULT_CODES:
        return _answer(*_FAULT_CODES[mode])
    if mode == "lost_request":
        await _lose_answer(request)
        return _answer("isp.SYSTEM_ERROR", "系统错误")
    phones = params["PhoneNumbers"].split(",")
    if len(phones) > MAX_NUMBERS:
        return _answer("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
    if not all(PHONE.match(p) for p in phones):
        return _answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    template_code = params.get("TemplateCode", "")
    if not template_code.strip():
        return _answer("isv.TEMPLATE_MISSING", "模板不存在")
    template_params = _template_params(params.get("TemplateParam", ""))
    if template_params is None:
        return _answer("isv.TEMPLATE_PARAMS_ILLEGAL", "模板变量不是合法的 JSON 对象")
    received_at = int(time.time())
    biz_id = f"{secrets.randbelow(10**15):015d}^0"
    out_id = params.get("OutId") or None
    # Taking a message and reporting it are one act at a provider: a client hanging up between the two awaits
    # (its handler cancelled) must not leave a message sent and never reported, which a settler would resend.
    await asyncio.shield(_accept(redis, phones, template_code=template_code, template_params=template_params,
                                 biz_id=biz_id, out_id=out_id, at=received_at))
    if mode == "lost_answer":
        await _lose_answer(request)
    return respond({"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4()).upper()})


async def _lose_answer(request) -> None:
    # Past the client's read timeout (the app's own platform timeout): its answer arrives after nobody waits.
    await asyncio.sleep(request.app.ctx.deps.settings.platform_timeout_seconds + 1)


def _report_key(phone: str, day: str) -> str:
    return f"sandbox:{P}:report:{phone}:{day}"


async def _accept(redis, phones: list[str], *, template_code: str, template_params: dict, biz_id: str,
                  out_id: str | None, at: int) -> None:
    await state.log_message(redis, P, *({"phone": p, "template_code": template_code, "params": template_params,
                                         "received_at": at, "out_id": out_id} for p in phones))
    await _report(redis, phones, template_code=template_code, biz_id=biz_id, out_id=out_id, at=at)


async def _report(redis, phones: list[str], *, template_code: str, biz_id: str, out_id: str | None, at: int) -> None:
    # The sandbox delivers at once: each accepted send is reported delivered (SendStatus 3), kept two days.
    local = dt.datetime.fromtimestamp(at, SHANGHAI)
    pipe = redis.pipeline(transaction=False)
    for phone in phones:
        key = _report_key(phone, local.strftime("%Y%m%d"))
        pipe.rpush(key, json.dumps({"PhoneNum": phone, "SendStatus": 3, "ErrCode": "DELIVERED", "OutId": out_id,
                                    "TemplateCode": template_code, "BizId": biz_id,
                                    "SendDate": local.strftime("%Y-%m-%d %H:%M:%S"),
                                    "ReceiveDate": local.strftime("%Y-%m-%d %H:%M:%S")}))
        pipe.expire(key, 2 * 86400)
    await pipe.execute()


async def _query_send_details(request):
    redis = request.app.ctx.deps.redis
    mode = await state.apply_faults(redis, P, applies_to=QUERY_FAULTS)
    if mode == "down":
        return text("upstream down (sandbox fault)", status=503)
    params = _params(request)
    if bad := _check_request(request.app.ctx.deps.settings, params, QUERY_REQUIRED):
        return bad
    if mode == "busy":
        return _answer(*_FAULT_CODES["busy"])
    if not PHONE.match(params["PhoneNumber"]):
        return _answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    try:
        day = dt.datetime.strptime(params["SendDate"], "%Y%m%d").strftime("%Y%m%d")
        size, page = int(params["PageSize"]), int(params["CurrentPage"])
    except ValueError:
        return _answer("isv.INVALID_PARAMETERS", "参数格式错误")
    if not (1 <= size <= QUERY_PAGE_SIZE and page >= 1):
        return _answer("isv.INVALID_PARAMETERS", "参数格式错误")
    raw = await redis.lrange(_report_key(params["PhoneNumber"], day), (page - 1) * size, page * size - 1)
    total = await redis.llen(_report_key(params["PhoneNumber"], day))
    answer = {"Code": "OK", "Message": "OK", "RequestId": str(uuid.uuid4()).upper(), "TotalCount": total,
              "SmsSendDetailDTOs": {"SmsSendDetailDTO": [json.loads(r) for r in raw]}}
    return respond(state.spoiled(answer) if mode == "malformed" else answer)


def create_sms_blueprint() -> Blueprint:
    """The SMS provider twin and its helpers, under /sandbox/sms."""
    bp = Blueprint("sandbox_sms", url_prefix="/sandbox/sms")
    bp.add_route(doc("沙箱：短信发送（同阿里云 dysmsapi SendSms，HMAC-SHA256 签名）", tag="sandbox", response=SmsAnswer,
                     errors=(400, 404), error_body=SmsAnswer)(_send_sms),
                 "/SendSms", methods=["POST"], name="send_sms")
    bp.add_route(doc("沙箱：短信发送状态查询（同阿里云 dysmsapi QuerySendDetails，按号码与日期，含 OutId）",
                     tag="sandbox", response=SmsDetailsAnswer, errors=(400, 404), error_body=SmsDetailsAnswer)(
                     _query_send_details), "/QuerySendDetails", methods=["POST"], name="query_send_details")

    add_message_routes(bp, P, received="短信", stats_doc="短信计数")
    return bp

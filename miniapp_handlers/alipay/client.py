"""The Alipay platform on python-alipay-sdk: auth codes, the phone envelope, template messages.

The SDK signs every request with the app's RSA2 key and verifies every answer with Alipay's
public key; it is synchronous (urllib), so calls run in the platform's bounded thread pool.
"""

from __future__ import annotations

import json

from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError
from alipay.utils import AliPayConfig
from pydantic import Field

from api.core.errors import InvalidLoginCode, UpstreamRejected, UpstreamUnavailable
from api.core.settings import Settings
from miniapp_handlers.alipay import crypto
from miniapp_handlers.base import (
    Answer,
    InvalidPhoneCredential,
    MessageRejected,
    PlatformIdentity,
    ThreadedPlatform,
    UpstreamInvalid,
    read_answer,
)

LOGIN_CODE_SUB_CODES = frozenset({"isv.code-invalid", "isv.code-expired", "isv.code-used"})
MESSAGE_REFUSALS = {"USER_NOT_SUBSCRIBED": "user_refused", "USER_NOT_EXIST": "bad_recipient",
                    "isv.invalid-user-id": "bad_recipient", "DATA_ILLEGAL": "bad_data",
                    "TEMPLATE_NOT_EXIST": "bad_template", "SEND_LIMIT_EXCEEDED": "quota"}


class _Status(Answer):
    """What every answer says about itself (the oauth token's success carries no code at all)."""

    code: str = "10000"
    sub_code: str = ""


class _OAuthToken(Answer):
    user_id: str | None = Field(default=None, min_length=1, max_length=64)
    open_id: str | None = Field(default=None, min_length=1, max_length=128)
    union_id: str | None = Field(default=None, max_length=128)
    access_token: str | None = Field(default=None, max_length=256)


class _Phone(Answer):
    code: str
    mobile: str | None = Field(default=None, pattern=r"^\+?\d{5,20}$")


class AlipayPlatform(ThreadedPlatform):
    """Alipay behind the Platform interface."""

    name = "alipay"
    # my.getPhoneNumber's envelope is AES-CBC with a zero IV: the same bytes for a number every time, no expiry, no
    # tie to the auth code.
    phone_proof_replayable = True

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.appid = settings.alipay_appid
        self.sdk = AliPay(appid=settings.alipay_appid, app_private_key_string=settings.alipay_app_private_key,
                          alipay_public_key_string=settings.alipay_public_key, sign_type="RSA2",
                          config=AliPayConfig(timeout=settings.platform_timeout_seconds))
        self.sdk._gateway = settings.alipay_gateway_url  # the SDK only knows the two public gateways
        self._alipay_public_key = crypto.load_public_key(settings.alipay_public_key)
        self._aes_key = settings.alipay_aes_key

    def _server_api(self, method: str, biz_content: dict | None = None, **params) -> dict:
        """One signed call; the verified `<method>_response`, or our error for its failure."""
        try:
            answer = self.sdk.server_api(method, biz_content, **params)
        except AliPayValidationError as exc:
            # An answer not signed by Alipay: someone in between, or a wrong public key in settings.
            raise UpstreamRejected("支付宝应答验签失败") from exc
        except AliPayException as exc:
            answer = _error_answer(exc)
        except (ValueError, AttributeError, TypeError) as exc:
            # The SDK choked on an answer that is no Alipay JSON (json.loads, or .keys() of a list).
            raise UpstreamInvalid("body") from exc
        status = read_answer(_Status, answer)
        if status.code != "10000":
            raise _AlipayFailure(status)
        return answer

    def _api(self, method: str, biz_content: dict | None = None, **params) -> dict:
        """`_server_api` for callers with no failure of their own to single out."""
        try:
            return self._server_api(method, biz_content, **params)
        except _AlipayFailure as failure:
            raise failure.as_app_error() from failure

    def _oauth(self, code: str) -> _OAuthToken:
        try:
            answer = self._server_api("alipay.system.oauth.token", grant_type="authorization_code", code=code)
        except _AlipayFailure as failure:
            if failure.sub_code in LOGIN_CODE_SUB_CODES:
                raise InvalidLoginCode() from failure
            raise failure.as_app_error() from failure
        token = read_answer(_OAuthToken, answer)
        if not (token.user_id or token.open_id):
            raise UpstreamInvalid("user_id")
        return token

    async def exchange_login_code(self, code: str) -> PlatformIdentity:
        """my.getAuthCode code → user_id (or open_id for apps on the new identifier)."""
        answer = await self.call("oauth_token", self._oauth, code)
        return PlatformIdentity(platform="alipay", platform_uid=answer.user_id or answer.open_id,
                                unionid=answer.union_id or None, appid=self.appid)

    async def fetch_phone(self, credential) -> str:
        """The mobile inside a my.getPhoneNumber envelope (local crypto: no call to Alipay)."""
        try:
            answer = crypto.open_phone_envelope(credential, alipay_public_key=self._alipay_public_key,
                                                aes_key_b64=self._aes_key)
        except crypto.EnvelopeInvalid as exc:
            raise InvalidPhoneCredential() from exc
        # Alipay signed it: a shape its answer never has is Alipay's fault, not the front end's.
        phone = read_answer(_Phone, answer)
        if phone.code != "10000":
            raise InvalidPhoneCredential()
        if not phone.mobile:
            raise UpstreamInvalid("mobile")
        return phone.mobile

    def _send(self, biz: dict) -> dict:
        try:
            return self._server_api("alipay.open.app.mini.templatemessage.send", biz)
        except _AlipayFailure as failure:
            reason = MESSAGE_REFUSALS.get(failure.sub_code)
            if reason:
                raise MessageRejected(failure.sub_code, reason) from failure
            raise failure.as_app_error() from failure

    async def send_message(self, *, to: str, template_id: str, page: str | None, data: dict) -> dict:
        """Send a mini-program template message to a user_id (2088…) or open_id."""
        biz = {"to_open_id" if not to.startswith("2088") else "to_user_id": to, "user_template_id": template_id,
               "data": json.dumps({k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()},
                                  ensure_ascii=False)}
        if page:
            biz["page"] = page
        return await self.call("templatemessage_send", self._send, biz)


class _AlipayFailure(Exception):
    """A signed answer (or error_response) with a code other than 10000."""

    def __init__(self, status: _Status):
        super().__init__(status.sub_code or status.code)
        self.code = status.code
        self.sub_code = status.sub_code

    def as_app_error(self) -> Exception:
        """Our error: 20000/isp.* (Alipay's side) is unavailable; anything else is a refusal."""
        if self.code == "20000" or self.sub_code.startswith("isp."):
            return UpstreamUnavailable()
        return UpstreamRejected(f"支付宝拒绝了请求 ({self.sub_code or self.code})")


def _error_answer(exc: AliPayException) -> dict:
    # The SDK keeps the raw answer only in its message; the error object is inside it.
    raw = getattr(exc, "_AliPayException__message", "") or ""
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        body = None
    if not isinstance(body, dict):
        return {"code": "20000", "sub_code": "isp.unreadable-answer"}
    inner = body.get("error_response") or next((v for k, v in body.items() if k.endswith("_response")), None)
    return inner if isinstance(inner, dict) else {"code": "20000", "sub_code": "isp.unknown"}

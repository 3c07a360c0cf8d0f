"""The WeChat platform on wechatpy: login codes, phone numbers, subscribe messages.

wechatpy is synchronous, so every call runs in the platform's bounded thread pool. The access
token lives in Redis (wechatpy's RedisStorage) so all workers share one; a token error
(40001/40014/42001) fetches a new one and retries exactly once.
"""

from __future__ import annotations

import secrets
import time

import requests
from pydantic import Field
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from api.core.errors import InvalidLoginCode, UpstreamRejected, UpstreamUnavailable
from api.core.redis import create_sync_redis
from api.core.settings import Settings
from miniapp_handlers.base import (
    Answer,
    InvalidPhoneCredential,
    MessageRejected,
    PlatformIdentity,
    ThreadedPlatform,
    TimeoutAdapter,
    UpstreamInvalid,
    read_answer,
)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
LOGIN_CODE_ERRORS = frozenset({40029, 40163})
BUSY_ERRORS = frozenset({-1, 45011, 45009})
MESSAGE_REFUSALS = {43101: "user_refused", 40003: "bad_recipient", 47003: "bad_data", 45009: "quota",
                    40037: "bad_template"}


class _Token(Answer):
    access_token: str = Field(min_length=1, max_length=512)
    expires_in: int = Field(default=7200, gt=0)


class _Session(Answer):
    openid: str = Field(min_length=1, max_length=128)
    unionid: str | None = Field(default=None, max_length=128)


class _Watermark(Answer):
    appid: str


class _PhoneInfo(Answer):
    phoneNumber: str | None = Field(default=None, pattern=r"^\+?\d{5,20}$")  # noqa: N815 - WeChat's names
    purePhoneNumber: str | None = Field(default=None, pattern=r"^\d{5,20}$")  # noqa: N815
    watermark: _Watermark


class _PhoneAnswer(Answer):
    phone_info: _PhoneInfo


class SandboxableWeChatClient(WeChatClient):
    """wechatpy's client with every base URL (the token one included) taken from settings."""

    def __init__(self, *, appid: str, secret: str, api_base: str, session, timeout: float, pool_size: int, redis):
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=False)
        # wechatpy keeps base URLs as class attributes; instance attributes point this client elsewhere.
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base
        self.api_base = api_base
        self._redis = redis
        adapter = TimeoutAdapter(timeout, pool_size)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    def _decode_result(self, res):
        """wechatpy's, but an answer that is no JSON object, or whose errcode is no number, is UpstreamInvalid
        (wechatpy would hand back the raw response, or fail in int())."""
        result = super()._decode_result(res)
        if not isinstance(result, dict):
            raise UpstreamInvalid("body")
        errcode = result.get("errcode", 0)
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise UpstreamInvalid("errcode")
        return result

    def fetch_access_token(self):
        """Fetch a new access token from `cgi-bin/token` into the shared storage (wechatpy hard-codes the real
        host, and trusts the answer's shape)."""
        res = self._http.get(self.api_base + "cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        try:
            res.raise_for_status()
        except requests.RequestException as exc:
            raise WeChatClientException(errcode=None, errmsg=None, client=self, request=exc.request,
                                        response=exc.response) from exc
        token = read_answer(_Token, self._handle_result(res))
        self.session.set(self.access_token_key, token.access_token, token.expires_in)
        self.expires_at = int(time.time()) + token.expires_in
        return token.model_dump()

    @property
    def access_token(self):
        """The shared token from Redis; fetched (by one worker at a time) when there is none."""
        return self.session.get(self.access_token_key) or self.renew_access_token(failed=None)

    def renew_access_token(self, *, failed: str | None) -> str:
        """A token other than `failed`: one another worker just fetched, or a new one we fetch."""
        lock_key, owner = f"wechatpy:{self.appid}:token-lock", secrets.token_hex(8)
        deadline = time.monotonic() + (self.timeout or 5)
        # Only one worker asks WeChat at a time: each fetch starts the old token's 5-minute end of life.
        while not self._redis.set(lock_key, owner, nx=True, px=int((self.timeout or 5) * 2000)):
            current = self.session.get(self.access_token_key)
            if current and current != failed:
                return current
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        try:
            current = self.session.get(self.access_token_key)
            if current and current != failed:
                return current
            self.fetch_access_token()
            return self.session.get(self.access_token_key)
        finally:
            if self._redis.get(lock_key) == owner:
                self._redis.delete(lock_key)


class WeChatPlatform(ThreadedPlatform):
    """WeChat behind the Platform interface."""

    name = "wechat"
    phone_proof_replayable = False  # a getPhoneNumber code is single-use and lives 5 minutes

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.appid = settings.wechat_appid
        redis = create_sync_redis(settings)
        self.client = SandboxableWeChatClient(
            appid=settings.wechat_appid, secret=settings.wechat_secret, api_base=settings.wechat_base,
            session=RedisStorage(redis, prefix="wechatpy"), timeout=settings.platform_timeout_seconds,
            pool_size=settings.platform_max_threads, redis=redis)

    def _with_token_retry(self, fn):
        """Run `fn`; on a token error, renew the shared token and run it exactly once more."""
        token = self.client.access_token
        try:
            return fn()
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            self.client.renew_access_token(failed=token)
            return fn()

    def _code_to_session(self, code: str) -> _Session:
        try:
            answer = self._with_token_retry(lambda: self.client.wxa.code_to_session(code))
        except WeChatClientException as exc:
            if exc.errcode in LOGIN_CODE_ERRORS:
                raise InvalidLoginCode() from exc
            raise _platform_error(exc) from exc
        return read_answer(_Session, answer)

    async def exchange_login_code(self, code: str) -> PlatformIdentity:
        """wx.login code → openid (and unionid when the app is bound to an Open Platform account)."""
        answer = await self.call("jscode2session", self._code_to_session, code)
        return PlatformIdentity(platform="wechat", platform_uid=answer.openid, unionid=answer.unionid or None,
                                appid=self.appid)

    def _phone(self, phone_code: str) -> str:
        try:
            answer = self._with_token_retry(lambda: self.client.post(
                "wxa/business/getuserphonenumber", api_base_url=self.client.api_base, data={"code": phone_code}))
        except WeChatClientException as exc:
            if exc.errcode in LOGIN_CODE_ERRORS:
                raise InvalidPhoneCredential() from exc
            raise _platform_error(exc) from exc
        info = read_answer(_PhoneAnswer, answer).phone_info
        if info.watermark.appid != self.appid:
            raise InvalidPhoneCredential("手机号凭证不属于本小程序")
        phone = info.purePhoneNumber or info.phoneNumber
        if not phone:
            raise UpstreamInvalid("phone_info.purePhoneNumber")
        return phone

    async def fetch_phone(self, credential) -> str:
        """getPhoneNumber code → the verified phone number."""
        if not isinstance(credential, str) or not credential:
            raise InvalidPhoneCredential()
        return await self.call("getuserphonenumber", self._phone, credential)

    def _send(self, body: dict) -> dict:
        try:
            return self._with_token_retry(lambda: self.client.post("message/subscribe/send", data=body))
        except WeChatClientException as exc:
            if exc.errcode in MESSAGE_REFUSALS:
                raise MessageRejected(str(exc.errcode), MESSAGE_REFUSALS[exc.errcode]) from exc
            raise _platform_error(exc) from exc

    async def send_message(self, *, to: str, template_id: str, page: str | None, data: dict) -> dict:
        """Send a subscribe message to an openid; values are wrapped as WeChat wants them ({"value": ...})."""
        body = {"touser": to, "template_id": template_id, "lang": "zh_CN", "miniprogram_state": "formal",
                "data": {k: v if isinstance(v, dict) else {"value": str(v)} for k, v in data.items()}}
        if page:
            body["page"] = page
        return await self.call("subscribe_send", self._send, body)

    async def close(self) -> None:
        """Close the HTTP session and the pool."""
        await super().close()
        self.client._http.close()


def _platform_error(exc: WeChatClientException) -> Exception:
    """Our error for a WeChat failure that is not about the code or the message itself."""
    if exc.errcode is None or exc.errcode in BUSY_ERRORS or exc.errcode in TOKEN_ERRORS:
        return UpstreamUnavailable()
    if exc.errcode == 40226:
        return UpstreamRejected("微信判定该账号存在风险，请在微信内完成安全验证后重试", code="platform_user_blocked",
                                status=403)
    return UpstreamRejected(f"微信拒绝了请求 ({exc.errcode})")


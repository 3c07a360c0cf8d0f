"""The SMS provider client: Aliyun dysmsapi `SendSms`, signed the Aliyun RPC way (miniapp_handlers.sms.signing).

The sandbox twin (miniapp_handlers/sandbox/sms.py) verifies the same signature. Phone numbers are
personal data: they go in the form body only and never into a log line or an error message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets

import aiohttp
from pydantic import Field

from api.core.errors import UpstreamOutcomeUnknown, UpstreamRejected, UpstreamUnavailable
from api.core.settings import Settings
from miniapp_handlers.base import Answer, MessageRejected, Provider, UpstreamInvalid, read_answer
from miniapp_handlers.sms.signing import SIGNATURE_METHOD, TIMESTAMP_FORMAT, signature

REFUSALS = {"isv.MOBILE_NUMBER_ILLEGAL": "bad_recipient",
            "isv.TEMPLATE_MISSING": "bad_data", "isv.SMS_TEMPLATE_ILLEGAL": "bad_data",
            "isv.TEMPLATE_PARAMS_ILLEGAL": "bad_data", "isv.TEMPLATE_MISSING_PARAMETERS": "bad_data",
            "isv.DAY_LIMIT_CONTROL": "quota", "isv.AMOUNT_NOT_ENOUGH": "quota",
            "isv.BLACK_KEY_CONTROL_LIMIT": "user_refused"}
# isv.BUSINESS_LIMIT_CONTROL is the per-number flow control (a few per minute/hour): later it goes through.
TRANSIENT = frozenset({"isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable"})


class _Answer(Answer):
    Code: str = Field(max_length=128)  # noqa: N815 - the provider's names
    BizId: str | None = Field(default=None, min_length=1, max_length=128)  # noqa: N815


class SmsClient(Provider):
    """Sends template SMS through the provider over one pooled HTTP client."""

    name = "sms"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.url = settings.sms_base + "SendSms"
        self.access_key_id = settings.sms_access_key_id
        self.sign_name = settings.sms_sign_name
        self._secret = settings.sms_access_key_secret
        self._pool = max(100, settings.push_senders * settings.push_concurrency)
        self._http: aiohttp.ClientSession | None = None  # made on first use, inside the running loop

    def _session(self) -> aiohttp.ClientSession:
        # aiohttp, not httpx: at a thousand sends a second httpx's pool bookkeeping costs 3-6 ms of CPU a
        # request here, aiohttp about 0.3 ms.
        if self._http is None:
            t = self.timeout
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool),
                timeout=aiohttp.ClientTimeout(total=None, connect=t, sock_connect=t, sock_read=t))
        return self._http

    def _form(self, *, phone: str, template_code: str, params: dict) -> dict[str, str]:
        form = {"Action": "SendSms", "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": self.access_key_id,
                "SignatureMethod": SIGNATURE_METHOD, "SignatureVersion": "1.0",
                "SignatureNonce": secrets.token_hex(16),
                "Timestamp": dt.datetime.now(dt.UTC).strftime(TIMESTAMP_FORMAT),
                "PhoneNumbers": phone, "SignName": self.sign_name, "TemplateCode": template_code,
                "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":"))}
        form["Signature"] = signature(form, self._secret)
        return form

    async def send(self, *, phone: str, template_code: str, params: dict) -> str:
        """Send one template SMS; the provider's BizId. MessageRejected for refusals of this message,
        UpstreamUnavailable for transient trouble, UpstreamRejected for our own misconfiguration."""
        with self.observed("send"):
            return await self._post(self._form(phone=phone, template_code=template_code, params=params))

    async def _post(self, form: dict[str, str]) -> str:
        try:
            async with self._session().post(self.url, data=form) as response:
                status = response.status
                body = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:  # never connected: nothing was taken
            raise UpstreamUnavailable() from exc
        except (aiohttp.SocketTimeoutError, asyncio.TimeoutError) as exc:
            raise UpstreamOutcomeUnknown() from exc  # the provider may have taken it: not safe to send again
        except aiohttp.ClientError as exc:  # refused connections, broken answers
            raise UpstreamUnavailable() from exc
        if status >= 500:
            raise UpstreamUnavailable()
        try:
            answer = read_answer(_Answer, json.loads(body))
        except ValueError as exc:  # no JSON at all (a proxy's page)
            raise UpstreamInvalid("body") from exc
        code = answer.Code
        if code == "OK":
            if not answer.BizId:
                raise UpstreamInvalid("BizId")
            return answer.BizId
        if code in REFUSALS:
            raise MessageRejected(code, REFUSALS[code])
        if code in TRANSIENT or code.startswith("Throttling"):
            raise UpstreamUnavailable()
        # SignatureDoesNotMatch, InvalidAccessKeyId.*, isv.SMS_SIGNATURE_ILLEGAL ...: retrying will not help.
        raise UpstreamRejected(f"短信平台拒绝了请求 ({code or status})")

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._http is not None:
            await self._http.close()

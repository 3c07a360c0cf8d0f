"""The SMS provider client: Aliyun dysmsapi `SendSms` (with our OutId) and `QuerySendDetails` (the delivery report
that settles a send whose answer was lost), signed the Aliyun RPC way (miniapp_handlers.sms.signing).

The sandbox twin (miniapp_handlers/sandbox/sms.py) verifies the same signature. Phone numbers are
personal data: they go in the form body only and never into a log line or an error message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from dataclasses import dataclass

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
QUERY_PAGE_SIZE = 50  # QuerySendDetails' largest page
QUERY_MAX_PAGES = 20  # a number gets at most a few dozen SMS a day (flow control): more pages is a broken answer
TRANSIENT = frozenset({"isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL", "ServiceUnavailable"})


class _Answer(Answer):
    Code: str = Field(max_length=128)  # noqa: N815 - the provider's names
    BizId: str | None = Field(default=None, min_length=1, max_length=128)  # noqa: N815


class _Detail(Answer):
    SendStatus: int = Field(ge=1, le=3)  # noqa: N815 - 1 waiting for the report, 2 failed, 3 delivered
    OutId: str | None = Field(default=None, max_length=256)  # noqa: N815 - others' sends on the account may be long
    ErrCode: str | None = Field(default=None, max_length=128)  # noqa: N815


class _Details(Answer):
    SmsSendDetailDTO: list[_Detail] = Field(default_factory=list, max_length=QUERY_PAGE_SIZE)  # noqa: N815


class _QueryAnswer(Answer):
    Code: str = Field(max_length=128)  # noqa: N815
    TotalCount: int | None = Field(default=None, ge=0)  # noqa: N815
    SmsSendDetailDTOs: _Details | None = None  # noqa: N815


@dataclass(frozen=True)
class SendDetail:
    """One send the provider reports for a number and day: its status (1 waiting, 2 failed, 3 delivered)."""

    status: int
    out_id: str | None
    error: str | None


class SmsClient(Provider):
    """Sends template SMS through the provider over one pooled HTTP client."""

    name = "sms"

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.url = settings.sms_base + "SendSms"
        self.query_url = settings.sms_base + "QuerySendDetails"
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

    def _signed(self, action: str, fields: dict[str, str]) -> dict[str, str]:
        form = {"Action": action, "Version": "2017-05-25", "Format": "JSON", "AccessKeyId": self.access_key_id,
                "SignatureMethod": SIGNATURE_METHOD, "SignatureVersion": "1.0",
                "SignatureNonce": secrets.token_hex(16),
                "Timestamp": dt.datetime.now(dt.UTC).strftime(TIMESTAMP_FORMAT), **fields}
        form["Signature"] = signature(form, self._secret)
        return form

    def _form(self, *, phones: list[str], template_code: str, params: dict, out_id: str | None = None
              ) -> dict[str, str]:
        fields = {"PhoneNumbers": ",".join(phones), "SignName": self.sign_name, "TemplateCode": template_code,
                  "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":"))}
        if out_id:
            fields["OutId"] = out_id
        return self._signed("SendSms", fields)

    async def send(self, *, phone: str | list[str], template_code: str, params: dict, out_id: str | None = None
                   ) -> str:
        """Send one template SMS to `phone` (or the same text to each of a list of up to 1000 numbers, in one
        request), tagged with `out_id` (what QuerySendDetails reports each number's send under); the provider's
        BizId. MessageRejected for refusals (of the whole request: one illegal number refuses all), UpstreamUnavailable
        for transient trouble, UpstreamRejected for our own misconfiguration."""
        phones = [phone] if isinstance(phone, str) else phone
        with self.observed("send"):
            answer = read_answer(_Answer, await self._post(
                self.url, self._form(phones=phones, template_code=template_code, params=params, out_id=out_id)))
            self._check_code(answer.Code)
            if not answer.BizId:
                raise UpstreamInvalid("BizId")
            return answer.BizId

    async def query(self, *, phone: str, send_date: dt.date, out_id: str | None = None) -> list[SendDetail]:
        """What the provider reports of the sends to `phone` on `send_date` (Beijing day), every page, only those
        tagged `out_id` when given. UpstreamUnavailable (UpstreamInvalid for a broken answer) when it cannot tell."""
        found: list[SendDetail] = []
        with self.observed("query"):
            for page in range(1, QUERY_MAX_PAGES + 1):
                form = self._signed("QuerySendDetails", {
                    "PhoneNumber": phone, "SendDate": send_date.strftime("%Y%m%d"),
                    "PageSize": str(QUERY_PAGE_SIZE), "CurrentPage": str(page)})
                try:
                    answer = read_answer(_QueryAnswer, await self._post(self.query_url, form))
                    self._check_code(answer.Code)
                except UpstreamOutcomeUnknown as exc:  # a lost answer to a read changes nothing: try later
                    raise UpstreamUnavailable() from exc
                items = answer.SmsSendDetailDTOs.SmsSendDetailDTO if answer.SmsSendDetailDTOs else []
                found += [SendDetail(status=d.SendStatus, out_id=d.OutId, error=d.ErrCode) for d in items
                          if out_id is None or d.OutId == out_id]
                if len(items) < QUERY_PAGE_SIZE or (answer.TotalCount or 0) <= page * QUERY_PAGE_SIZE:
                    return found
        raise UpstreamInvalid("TotalCount")

    async def _post(self, url: str, form: dict[str, str]) -> object:
        try:
            async with self._session().post(url, data=form) as response:
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
            return json.loads(body)
        except ValueError as exc:  # no JSON at all (a proxy's page)
            raise UpstreamInvalid("body") from exc

    @staticmethod
    def _check_code(code: str) -> None:
        if code == "OK":
            return
        if code in REFUSALS:
            raise MessageRejected(code, REFUSALS[code])
        if code in TRANSIENT or code.startswith("Throttling"):
            raise UpstreamUnavailable()
        # SignatureDoesNotMatch, InvalidAccessKeyId.*, isv.SMS_SIGNATURE_ILLEGAL ...: retrying will not help.
        raise UpstreamRejected(f"短信平台拒绝了请求 ({code or 'no code'})")

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._http is not None:
            await self._http.close()

"""The base every outbound provider client sits on (timeout, metric, log, error types), the one interface both
mini-program platforms sit behind, and the thread pool their SDKs run in."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ConfigDict, ValidationError
from requests.adapters import HTTPAdapter

from api.core import metrics
from api.core.errors import AppError, UpstreamOutcomeUnknown, UpstreamUnavailable
from api.core.settings import Settings

log = logging.getLogger("miniapp_handlers")


@dataclass(frozen=True)
class PlatformIdentity:
    """Who a login code belongs to on one platform."""

    platform: str  # wechat, alipay
    platform_uid: str  # WeChat openid; Alipay user_id or open_id
    unionid: str | None
    appid: str


class InvalidPhoneCredential(AppError):
    status, code, message = 401, "invalid_phone_credential", "手机号授权凭证无效或已过期，请重新授权"


class UpstreamInvalid(UpstreamUnavailable):
    """The platform answered something its API never answers (no JSON, a list where a string belongs): a proxy's
    error page or a broken release on its side. Passing, like an outage, for those who retry (502, not 503)."""

    status, code, message = 502, "upstream_invalid", "上游平台返回了无法识别的应答，请稍后再试"

    def __init__(self, where: str = "body"):
        super().__init__()
        self.where = where  # the part of the answer that broke its shape: field names, never values


class Answer(BaseModel):
    """The part of an upstream answer a client relies on, checked strictly (a list is no string, "1" no number);
    whatever else the platform sends is ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


AnswerT = TypeVar("AnswerT", bound=Answer)


def read_answer(model: type[AnswerT], answer: Any) -> AnswerT:
    """`answer` in the shape `model` declares; UpstreamInvalid (502 `upstream_invalid`) when it is anything else."""
    try:
        return model.model_validate(answer)
    except ValidationError as exc:
        where = ",".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3]) or "body"
        # Not chained: the validation error quotes the values, and an answer holds personal data (phones).
        raise UpstreamInvalid(where) from None


class MessageRejected(AppError):
    """The platform refused one message for a reason retrying will not fix (or not today)."""

    status, code = 502, "message_rejected"

    def __init__(self, platform_code: str, reason: str):
        super().__init__(f"平台拒收消息: {reason} ({platform_code})")
        self.platform_code, self.reason = str(platform_code), reason


class Provider:
    """An outbound provider's client: calls time out after the settings' platform timeout, and each call is timed,
    counted and logged by its outcome (never with its arguments: they hold personal data)."""

    name: str

    def __init__(self, settings: Settings):
        self.timeout = settings.platform_timeout_seconds

    @contextlib.contextmanager
    def observed(self, operation: str):
        """Time the block, count it in the upstream metric and log its outcome."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            yield
        except BaseException as exc:
            outcome = _outcome(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            metrics.UPSTREAM.labels(self.name, operation, "ok" if outcome == "ok" else "error").observe(elapsed)
            log.info("platform call %s.%s %s in %.1f ms", self.name, operation, outcome, elapsed * 1000)

    async def close(self) -> None:  # noqa: B027 - most providers hold nothing to release
        """Release the provider's resources."""


def _outcome(exc: BaseException) -> str:
    """A log label for a failed call: our error's code (and the platform's), with the cause's type."""
    if isinstance(exc, MessageRejected):
        return f"rejected:{exc.platform_code}"
    if isinstance(exc, UpstreamInvalid):
        return f"{exc.code}:{exc.where}"
    if not isinstance(exc, AppError):
        return f"error:{type(exc).__name__}"
    label = "outcome_unknown" if isinstance(exc, UpstreamOutcomeUnknown) else exc.code
    return label if exc.__cause__ is None else f"{label}:{type(exc.__cause__).__name__}"


class Platform(Provider, abc.ABC):
    """A mini-program platform: login codes, phone numbers, messages."""

    # Whether the phone proof `fetch_phone` opens can be presented again by someone else (no expiry, not single
    # use, not tied to the login code). Such a number links an account, or becomes one's, only with an SMS code
    # (auth.otp). A platform that does not say is taken as replayable: the safe side.
    phone_proof_replayable: bool = True

    @abc.abstractmethod
    async def exchange_login_code(self, code: str) -> PlatformIdentity:
        """The account behind a login code (wx.login / my.getAuthCode); codes are single-use."""

    @abc.abstractmethod
    async def fetch_phone(self, credential) -> str:
        """The verified phone number behind a getPhoneNumber credential."""

    @abc.abstractmethod
    async def send_message(self, *, to: str, template_id: str, page: str | None, data: dict) -> dict:
        """Send a subscribe/template message; MessageRejected when the platform refuses it."""


class TimeoutAdapter(HTTPAdapter):
    """A requests adapter that applies a default timeout: the SDKs leave some calls without one."""

    def __init__(self, timeout: float, pool_size: int):
        self._timeout = timeout
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size)

    def send(self, request, **kwargs):
        """Send with the default timeout unless the caller set one."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class ThreadedPlatform(Platform):
    """Runs a synchronous SDK in a bounded thread pool, with a timeout, timing and outcome logging."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self._pool = ThreadPoolExecutor(max_workers=settings.platform_max_threads,
                                        thread_name_prefix=f"{self.name}-sdk")

    async def call(self, operation: str, fn, *args, **kwargs):
        """Run `fn` in the pool; AppErrors pass through, anything else becomes UpstreamUnavailable.

        The timeout runs from when a thread takes the call, not while it waits for one: a call that times out
        after it started may have reached the platform (UpstreamOutcomeUnknown), one that never left did not."""
        loop = asyncio.get_running_loop()
        running = asyncio.Event()

        def run():
            loop.call_soon_threadsafe(running.set)
            return fn(*args, **kwargs)

        with self.observed(operation):
            future = loop.run_in_executor(self._pool, run)
            try:
                await running.wait()
                return await asyncio.wait_for(asyncio.shield(future), timeout=self.timeout)
            except asyncio.TimeoutError as exc:
                raise UpstreamOutcomeUnknown() from exc
            except AppError as exc:
                if isinstance(exc, UpstreamUnavailable) and _read_timed_out(exc):
                    raise UpstreamOutcomeUnknown() from exc
                raise
            except Exception as exc:  # an SDK failure we did not classify: the platform is not answering sanely
                raise (UpstreamOutcomeUnknown() if _read_timed_out(exc) else UpstreamUnavailable()) from exc

    async def close(self) -> None:
        """Stop the pool without waiting for calls that are stuck (their own timeout ends them)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def _read_timed_out(exc: BaseException) -> bool:
    """True when a socket read timed out somewhere in the chain: the request itself went out."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, (requests.exceptions.ReadTimeout, TimeoutError)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False

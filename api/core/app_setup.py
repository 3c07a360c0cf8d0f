"""Middleware, error rendering and operational routes (/healthz, /readyz, /metrics, /openapi.json)."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import re
import time
from typing import Literal

from pydantic import BaseModel
from sanic import Blueprint, HTTPResponse
from sanic.exceptions import RequestCancelled, SanicException
from sanic_ext.extensions.openapi.types import String

from api.core import db, ids, metrics, openapi, outages, workdays
from api.core.errors import AppError, Forbidden, ServiceUnavailable
from api.core.http import ErrorBody, client_ip, doc, dumps, refuse_nul_in_query, respond
from api.core.logging import get_logger, request_id_var

log = get_logger("api.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SANIC_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 400: "bad_request",
                408: "request_timeout", 401: "unauthorized", 403: "forbidden", 503: "service_unavailable"}


def _error_body(request, code: str, message: str, fields=None) -> dict:
    body = {"code": code, "message": message, "request_id": getattr(request.ctx, "request_id", None)}
    if fields:
        body["fields"] = fields
    return {"error": body}


CLIENT_CLOSED = 499  # nginx's status for a request whose client closed the connection first: not a server error


def render_error(request, exc: Exception) -> HTTPResponse:
    """The one error renderer: stable codes, real statuses, never a stack trace."""
    if isinstance(exc, AppError):
        status, body, headers = exc.status, _error_body(request, exc.code, exc.message, exc.fields), exc.headers
    elif isinstance(exc, SanicException):
        status = exc.status_code
        code = _SANIC_CODES.get(status, "http_error")
        message = {404: "请求的地址不存在", 405: "不支持的请求方法"}.get(status, "请求无法处理")
        body, headers = _error_body(request, code, message), dict(exc.headers or {})
        if status == 405 and "Allow" not in headers:
            headers["Allow"] = _allowed_methods(request)
    elif isinstance(exc, RequestCancelled):  # the client went away mid-request: its 499 is logged, never sent
        status, body, headers = CLIENT_CLOSED, _error_body(request, "client_closed_request", "客户端已断开连接"), {}
    elif (store := outages.unavailable_store(exc)) is not None:
        outages.note(store, exc, request.route.path if request.route else "unmatched")
        retry_after = str(request.app.ctx.deps.settings.outage_retry_after_seconds)
        unavailable = ServiceUnavailable()
        status, body = 503, _error_body(request, unavailable.code, unavailable.message)
        headers = {"Retry-After": retry_after}
    else:
        log.exception("unhandled_error", path=request.path, error_type=type(exc).__name__)
        status, body, headers = 500, _error_body(request, "internal_error", "服务器内部错误，请稍后再试"), {}
    return respond(body, status=status, headers=headers)


def _allowed_methods(request) -> str:
    """The methods the router serves this path with (its 405 names them only for paths without parameters)."""
    host = request.headers.get("host")
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        try:
            request.app.router.get(request.path, method, host)
        except SanicException:
            continue
        allowed.append(method)
    return ", ".join(allowed)


class PathSegment(String):
    """A route parameter type: the router calls it on the segment (ValueError is its 404), /openapi.json shows it as a
    string of this pattern and length."""

    def __init__(self, name: str, pattern: re.Pattern, max_length: int):
        super().__init__(pattern=f"^{pattern.pattern}$", maxLength=max_length)
        self.__name__ = name  # the router's generated matcher calls the cast by this name
        self._pattern = pattern

    def __call__(self, value: str) -> str:
        if not self._pattern.fullmatch(value):
            raise ValueError(f"not {self.__name__}")
        return value


def register_path_types(app) -> None:
    """The route parameter types `<x:id>` and `<x:code>`: a path segment no id or code column could hold is 404 from
    the router, before any guard or handler (the ORM would fail its length check with a 500)."""
    app.router.register_pattern("id", PathSegment("id_segment", ids.ID_PATTERN, ids.MAX_LENGTH), ids.ID_PATTERN)
    app.router.register_pattern("code", PathSegment("code_segment", ids.CODE_PATTERN, ids.CODE_MAX_LENGTH),
                                ids.CODE_PATTERN)


def install(app) -> None:
    """Path parameter types, request ids, access logs, metrics and the error handler (before any blueprint: a route
    naming a type the router does not know yet would take its label for a regular expression)."""
    register_path_types(app)

    @app.on_request(priority=100)
    async def _start(request):
        incoming = request.headers.get("x-request-id", "")
        request.ctx.request_id = incoming if _REQUEST_ID.match(incoming) else ids.request_id()
        request.ctx.started = time.perf_counter()
        request_id_var.set(request.ctx.request_id)
        refuse_nul_in_query(request)

    @app.on_response(priority=100)
    async def _finish(request, response):
        rid = getattr(request.ctx, "request_id", None)
        if rid and response is not None:
            response.headers["X-Request-ID"] = rid
        started = getattr(request.ctx, "started", None)
        if started is None or response is None:
            return
        elapsed = time.perf_counter() - started
        route = request.route.path if request.route else "unmatched"
        metrics.observe_request(request.method, route, response.status, elapsed)
        if app.ctx.deps.settings.access_log:
            log.info("request", method=request.method, route=route, status=response.status,
                     duration_ms=round(elapsed * 1000, 2))

    app.error_handler.add(Exception, render_error)
    app.error_handler.add(RequestCancelled, render_error)  # a CancelledError: not an Exception, so named on its own
    _one_document(app)


def _one_document(app) -> None:
    # sanic-ext's blueprint (what collects the operations) also serves its own build of the document at
    # /docs/openapi.json: that route answers ours, so both addresses tell the same contract.
    for route in app.router.routes:
        if route.name.endswith(".openapi.spec"):
            route.handler = openapi_json


ops = Blueprint("ops")


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


@ops.get("/healthz")
@doc("进程存活", response=Health, tag="ops")
async def healthz(request):
    return respond({"status": "ok"})


@ops.get("/readyz")
@doc("数据库与 Redis 均可用、且今年的工作日历已知时就绪（否则 503，checks 说明哪一项不可用；"
     "缺后续年份时 checks.calendar 注明，仍就绪；配置了只读从库时 checks.replica 报告它，不可用时读走主库，仍就绪）",
     response=Readiness, errors=(503,), tag="ops")
async def readyz(request):
    checks = {}
    try:
        await db.ping_db()
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await request.app.ctx.deps.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if db.has_replica():
        # Reported, never a reason to be unready: while it is down the lag-tolerant reads go to the primary.
        try:
            await db.ping_replica()
            checks["replica"] = "ok"
        except Exception as exc:
            checks["replica"] = f"error: {type(exc).__name__} (reads on the primary)"
    missing = workdays.readiness()  # a due date there would be refused: load the year's holiday notice
    checks["calendar"] = f"missing {', '.join(map(str, missing))}" if missing else "ok"
    # Only today's own year missing makes the process unready: a later year missing refuses the due dates that
    # reach it (and is logged every hour), while login, certificates, codes and policies keep serving. Taking
    # every instance out of the load balancer for it would be an outage of its own.
    if checks["database"] == checks["redis"] == "ok":
        outages.recovered()
    ready = checks["database"] == "ok" and checks["redis"] == "ok" and workdays.today().year not in missing
    return respond({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)


_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip")


def may_scrape(request) -> bool:
    """True for a scrape from METRICS_ALLOW_NETWORKS or one bearing `Authorization: Bearer <METRICS_TOKEN>`."""
    settings = request.app.ctx.deps.settings
    if settings.metrics_token:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode("utf-8", "replace"),
                                                              settings.metrics_token.encode()):
            return True
    if not request.remote_addr and any(name in request.headers for name in _FORWARDING):
        return False  # through a proxy TRUSTED_PROXIES does not count: the address seen is the proxy's own
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_networks)


@ops.get("/metrics")
@doc("Prometheus 指标（文本格式）", errors=(403,), tag="ops", secured=("metrics", ""),
     response_media={"text/plain": {"schema": {"type": "string"}}},
     description="仅对 METRICS_ALLOW_NETWORKS 中的地址（默认本机）"
                 "或带 Authorization: Bearer <METRICS_TOKEN> 的请求开放，其他来源 403。")
async def prometheus(request):
    if not may_scrape(request):
        raise Forbidden("指标仅对监控网络或持有指标令牌的请求开放")
    body, content_type = metrics.render()
    return HTTPResponse(body, content_type=content_type)


@ops.get("/openapi.json")
@doc("OpenAPI 3.0 文档（即本文件）", tag="ops", response_media={"application/json": {"schema": {"type": "object"}}})
async def openapi_json(request):
    # Built on the first ask (most processes never are) and kept: routes and models do not change while the process
    # runs. Building takes most of a second of pure Python: in a thread, so other requests go on meanwhile.
    ctx = request.app.ctx
    if getattr(ctx, "openapi_body", None) is None:
        if getattr(ctx, "openapi_lock", None) is None:
            ctx.openapi_lock = asyncio.Lock()
        async with ctx.openapi_lock:
            if getattr(ctx, "openapi_body", None) is None:
                ctx.openapi_body = await asyncio.to_thread(
                    lambda: dumps(openapi.document(request.app, error_model=ErrorBody)).encode())
    return HTTPResponse(ctx.openapi_body, content_type="application/json")

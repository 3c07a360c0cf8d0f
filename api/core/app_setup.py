"""Middleware, error rendering and operational routes (/healthz, /readyz, /metrics, /openapi.json)."""

from __future__ import annotations

import re
import time

from sanic import Blueprint, HTTPResponse
from sanic.exceptions import SanicException
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.types import String

from api.core import db, ids, metrics, workdays
from api.core.errors import AppError
from api.core.http import refuse_nul_in_query, respond
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


def render_error(request, exc: Exception) -> HTTPResponse:
    """The one error renderer: stable codes, real statuses, never a stack trace."""
    if isinstance(exc, AppError):
        status, body, headers = exc.status, _error_body(request, exc.code, exc.message, exc.fields), exc.headers
    elif isinstance(exc, SanicException):
        status = exc.status_code
        code = _SANIC_CODES.get(status, "http_error")
        message = {404: "请求的地址不存在", 405: "不支持的请求方法"}.get(status, "请求无法处理")
        body, headers = _error_body(request, code, message), {}
    else:
        log.exception("unhandled_error", path=request.path, error_type=type(exc).__name__)
        status, body, headers = 500, _error_body(request, "internal_error", "服务器内部错误，请稍后再试"), {}
    return respond(body, status=status, headers=headers)


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


ops = Blueprint("ops")


@ops.get("/healthz")
@openapi.definition(summary="进程存活", tag="ops")
async def healthz(request):
    return respond({"status": "ok"})


@ops.get("/readyz")
@openapi.definition(summary="数据库与 Redis 均可用、且今年的工作日历已知时就绪（缺后续年份时 checks.calendar 注明）", tag="ops")
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
    missing = workdays.readiness()  # a due date there would be refused: load the year's holiday notice
    checks["calendar"] = f"missing {', '.join(map(str, missing))}" if missing else "ok"
    # Only today's own year missing makes the process unready: a later year missing refuses the due dates that
    # reach it (and is logged every hour), while login, certificates, codes and policies keep serving. Taking
    # every instance out of the load balancer for it would be an outage of its own.
    ready = checks["database"] == "ok" and checks["redis"] == "ok" and workdays.today().year not in missing
    return respond({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)


@ops.get("/metrics")
@openapi.definition(summary="Prometheus 指标", tag="ops")
async def prometheus(request):
    body, content_type = metrics.render()
    return HTTPResponse(body, content_type=content_type)


@ops.get("/openapi.json")
@openapi.definition(summary="OpenAPI 文档", tag="ops")
async def openapi_json(request):
    return respond(SpecificationBuilder().build(request.app).serialize())

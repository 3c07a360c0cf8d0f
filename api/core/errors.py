"""One error hierarchy, rendered by one handler as the API's error body."""

from __future__ import annotations


class AppError(Exception):
    """An error a client may see: an HTTP status, a stable code and a readable message."""

    status = 400
    code = "bad_request"
    message = "请求有误"

    def __init__(self, message: str | None = None, *, code: str | None = None, status: int | None = None,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.status = status or self.status
        self.fields = fields
        self.headers = headers or {}
        super().__init__(self.message)


class ValidationFailed(AppError):
    status, code, message = 422, "validation_failed", "请求内容校验未通过"


class Unauthorized(AppError):
    status, code, message = 401, "unauthorized", "请先登录"


class Forbidden(AppError):
    status, code, message = 403, "forbidden", "无权执行此操作"


class NotFound(AppError):
    status, code, message = 404, "not_found", "资源不存在"


class Conflict(AppError):
    status, code, message = 409, "conflict", "请求与当前状态冲突"


class RateLimited(AppError):
    status, code, message = 429, "rate_limited", "操作过于频繁，请稍后再试"


class InvalidLoginCode(AppError):
    status, code, message = 401, "invalid_login_code", "登录凭证无效或已过期，请重新授权"


class UpstreamUnavailable(AppError):
    status, code, message = 503, "upstream_unavailable", "上游平台暂不可用，请稍后再试"


class UpstreamOutcomeUnknown(UpstreamUnavailable):
    """The call timed out after the request went out: the platform may or may not have acted on it."""


class UpstreamRejected(AppError):
    """The platform refused the request for a reason the user can act on (risky user, bad data)."""

    status, code, message = 502, "upstream_rejected", "上游平台拒绝了请求"


class ServiceUnavailable(AppError):
    """The database or Redis cannot be reached right now: try again in a few seconds."""

    status, code, message = 503, "service_unavailable", "服务暂时不可用，请稍后重试"

"""Request parsing, JSON answers and OpenAPI documentation shared by every blueprint."""

from __future__ import annotations

import datetime as dt
import json as _json
from functools import partial
from typing import TypeVar

import pydantic_core
from pydantic import BaseModel, Field, ValidationError
from sanic import HTTPResponse
from sanic.response import json as sanic_json
from sanic_ext import openapi
from sanic_ext.extensions.openapi.definitions import Parameter, Response
from sanic_ext.extensions.openapi.types import Integer, String

from api.core.errors import AppError, ValidationFailed
from api.core.field_messages import pydantic_problem
from api.core.openapi import ModelSchema
from api.core.times import beijing_iso

M = TypeVar("M", bound=BaseModel)


def _default(value):
    if isinstance(value, dt.datetime):
        return beijing_iso(value)  # every timestamp of every answer the same way, whatever zone it came in
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


dumps = partial(_json.dumps, ensure_ascii=False, default=_default, separators=(",", ":"))


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as `{"a.b.0": "problem in Chinese"}`."""
    fields = {}
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "$"
        fields[path] = pydantic_problem(err)
    return fields


NUL_PROBLEM = "不能包含 NUL 字符（\\u0000）"


def _invalid_json() -> AppError:
    return AppError("请求体不是合法的 JSON", code="invalid_json", status=400)


def _nul_paths(value, path: str = "") -> list[str]:
    """The paths (as field_errors writes them) of every string or key in a parsed JSON value holding a NUL."""
    if isinstance(value, str):
        return [path or "$"] if "\x00" in value else []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        inner = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            found.append(inner.replace("\x00", "\\u0000"))  # the answer names the key without carrying the NUL
        else:
            found += _nul_paths(item, inner)
    return found


def _refuse_nul(body: bytes, parsed=None) -> None:
    # PostgreSQL cannot store NUL in text: refused everywhere, on every store, naming the field. JSON can only carry
    # one escaped (a raw control character is not JSON), so a body without the escape is passed over unparsed.
    if b"\\u0000" not in body:
        return
    paths = _nul_paths(pydantic_core.from_json(body) if parsed is None else parsed)
    if paths:
        raise ValidationFailed(fields=dict.fromkeys(paths, NUL_PROBLEM))


def parse(request, model: type[M]) -> M:
    """The JSON body validated against `model`; 422 with the field paths when it does not fit."""
    body = request.body or b"{}"
    try:
        parsed = model.model_validate_json(body)  # parsed and checked in one pass
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise _invalid_json() from None
        _refuse_nul(body)
        raise ValidationFailed(fields=field_errors(exc)) from None
    _refuse_nul(body)
    return parsed


def json_object(request) -> dict:
    """The JSON body as a dict (`{}` when empty), for a route that reads it whole: 400 `invalid_json` when it is no
    JSON (or nested past the parser's depth limit), 422 when it is not an object or a string holds a NUL."""
    try:
        value = pydantic_core.from_json(request.body or b"{}")  # depth-limited: a deep body is no RecursionError
    except ValueError:
        raise _invalid_json() from None
    if not isinstance(value, dict):
        raise ValidationFailed(fields={"$": "请求体须为 JSON 对象"})
    _refuse_nul(request.body or b"", value)
    return value


def refuse_nul_in_query(request) -> None:
    """422 naming the query parameter whose name or value holds a NUL."""
    bad = [name for name, values in request.args.items() if "\x00" in name or any("\x00" in v for v in values)]
    if bad:
        raise ValidationFailed(fields=dict.fromkeys(bad, NUL_PROBLEM))


_FLAGS = {"true": True, "1": True, "false": False, "0": False}


def query_flag(request, name: str) -> bool | None:
    """A true/false query parameter (true, false, 1, 0 in any case); absent is None, anything else 422."""
    value = request.args.get(name)
    if value is None:
        return None
    if value.lower() not in _FLAGS:
        raise ValidationFailed(fields={name: "须为 true 或 false"})
    return _FLAGS[value.lower()]


def client_ip(request) -> str:
    """The caller's address (the proxy's forwarded one when TRUSTED_PROXIES is set)."""
    return request.remote_addr or request.ip


def respond(data, status: int = 200, headers: dict | None = None) -> HTTPResponse:
    """A JSON answer (models are dumped in JSON mode, Chinese kept as is)."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return sanic_json(data, status=status, headers=headers, dumps=dumps)


class ErrorDetail(BaseModel):
    code: str = Field(description="稳定的错误码（snake_case），如 invalid_json、validation_failed、not_found")
    message: str = Field(description="可读的说明（中文）")
    request_id: str | None = Field(description="本次请求的 id（亦见应答头 X-Request-ID）")
    fields: dict[str, str] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="仅校验错误（422）：字段路径 → 中文问题说明，如 {\"materials.0.file_id\": \"不能为空\"}")


class ErrorBody(BaseModel):
    error: ErrorDetail


IDEMPOTENCY_KEY = Parameter(
    "Idempotency-Key", String(pattern=r"^[A-Za-z0-9_.:-]{8,128}$"), location="header",
    description="同一键与同一请求体重放时返回首次的应答，不再生成；同一键配另一请求体为 409 idempotency_conflict")

PAGE_PARAMETERS = [
    Parameter("limit", Integer(minimum=1, maximum=100, default=20), description="每页条数，默认 20，最多 100"),
    Parameter("cursor", String(pattern=r"^[A-Za-z0-9_=-]*$"), description="上一页应答中的 next_cursor（不透明）"),
]


def binary(media_type: str) -> dict:
    """A `body_media` / `response_media` entry: bytes of this media type (a PDF, a CSV file)."""
    return {media_type: {"schema": {"type": "string", "format": "binary"}}}


def multipart_file(field: str = "file") -> dict:
    """A `body_media` entry: a multipart/form-data form whose `field` is the uploaded file."""
    return {"multipart/form-data": {"schema": {"type": "object", "required": [field],
                                               "properties": {field: {"type": "string", "format": "binary"}}}}}


def _json_content(model: type[BaseModel], mode: str) -> dict:
    return {"application/json": {"schema": ModelSchema(model, mode)}}


def doc(summary: str, *, body: type[BaseModel] | None = None, response: type[BaseModel] | None = None,
        status: int = 200, errors: tuple[int, ...] = (), description: str | None = None,
        secured: str | tuple[str, ...] | None = None,
        tag: str | None = None, query: dict[str, str] | None = None, body_media: dict[str, dict] | None = None,
        body_required: bool | None = None, response_media: dict[str, dict] | None = None,
        error_body: type[BaseModel] | None = None, idempotent: bool = False):
    """Documents a route in /openapi.json with its request and response shapes and error answers; a list (its answer
    has `next_cursor`) also gets `?limit`, `?cursor` and 422; `query` names its other query parameters (name →
    description). A JSON body brings 400 (`invalid_json`) and 422; `body_media` and `response_media` document other
    media types (`{"text/csv": {"schema": {...}}}`); a body is required when its model requires a field, or, without
    a model, unless `body_required` says otherwise. `secured` names the security scheme, or several that each
    suffice ("" for none: a route some callers reach without credentials). `error_body` replaces `ErrorBody` for a
    route that answers errors in another's shape (a sandbox twin speaks its platform's). `idempotent` documents the
    `Idempotency-Key` header the route honours (and its 409 `idempotency_conflict`, 422 for a malformed key)."""
    paged = response is not None and "next_cursor" in response.model_fields  # a list: it pages
    if paged:
        errors = (*errors, 422)  # a limit out of range or a cursor that is not one
    if body is not None or "application/json" in (body_media or {}):
        errors = (*errors, 400, 422)  # no JSON (invalid_json), or JSON that does not fit
    if idempotent:
        errors = (*errors, 409, 422)  # the key reused with another body, or a malformed key
    content = _json_content(response, "serialization") if response else {}
    responses = [Response({**content, **(response_media or {})}, status=status)]
    responses += [Response(_json_content(error_body or ErrorBody, "serialization"), status=code)
                  for code in sorted(set(errors))]
    kwargs = {"summary": summary, "response": responses}
    if body is not None or body_media:
        body_content = {**(_json_content(body, "validation") if body is not None else {}), **(body_media or {})}
        # An empty body reads as {}: it may be left out when the model asks for nothing.
        required = (any(field.is_required() for field in body.model_fields.values()) if body is not None
                    else body_required is not False)
        kwargs["body"] = {"content": body_content, "required": required}
    parameters = [Parameter(name, str, description=text) for name, text in (query or {}).items()]
    if idempotent:
        parameters.append(IDEMPOTENCY_KEY)
    if paged:
        parameters += PAGE_PARAMETERS
    if parameters:
        kwargs["parameter"] = parameters
    if description:
        kwargs["description"] = description
    if tag:
        kwargs["tag"] = tag
    documented = openapi.definition(**kwargs)
    alternatives = (secured,) if isinstance(secured, str) else secured or ()

    def decorator(handler):
        for scheme in alternatives:
            handler = openapi.secured({scheme: []} if scheme else {})(handler)
        return documented(handler)

    return decorator

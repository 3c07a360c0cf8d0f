"""The OpenAPI document: sanic-ext's operations, every pydantic model one named component, and names a client
generator turns into good functions."""

from __future__ import annotations

import functools
import re
from http import HTTPStatus

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from sanic_ext.extensions.openapi.builders import SpecificationBuilder
from sanic_ext.extensions.openapi.types import Schema

COMPONENT = "#/components/schemas/"
METHOD_NOT_ALLOWED = "#/components/responses/MethodNotAllowed"
SERVICE_UNAVAILABLE = "#/components/responses/ServiceUnavailable"
# The routes that answer without the database or Redis (every other one may answer 503 service_unavailable).
_STORELESS = ("/healthz", "/openapi.json", "/metrics", "/docs")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Every model a route names, in the order they were declared, with the mode it is used in: a request body is read
# ("validation"), an answer written ("serialization"). doc() adds to it when the views are imported.
_models: dict[tuple[type[BaseModel], str], None] = {}


class ModelSchema(Schema):
    """Stands for a pydantic model in sanic-ext's operations and serializes to the `$ref` of its component."""

    def __init__(self, model: type[BaseModel], mode: str):
        super().__init__()
        self.model, self.mode = model, mode
        _models[(model, mode)] = None

    def serialize(self) -> dict:
        return dict(components().refs[(self.model, self.mode)])


class _OpenAPISchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, as a client generator should read it."""

    def field_is_required(self, field, total: bool) -> bool:
        # An answer always carries every field it declares (defaults included): required, so a generated client
        # reads them as values rather than as "maybe unset".
        if self.mode == "serialization":
            return field.get("serialization_exclude_if") is None
        return super().field_is_required(field, total)

    def field_title_should_be_set(self, schema) -> bool:
        return False  # "Access Token" beside `access_token` says nothing; a model keeps its title


class Components:
    """The component schemas of a set of models and the `$ref` of each (model, mode)."""

    def __init__(self, keys: tuple[tuple[type[BaseModel], str], ...]):
        key_map, top = models_json_schema(keys, ref_template=COMPONENT + "{model}", schema_generator=_OpenAPISchema)
        defs = top.get("$defs", {})
        names = {name: _component_name(name) for name in defs}
        if len(set(names.values())) != len(names):
            names = {name: name.replace("-", "") for name in defs}  # pydantic's own names are unique

        def rename(value):
            if isinstance(value, dict):
                if "$ref" in value:
                    return {**value, "$ref": COMPONENT + names[value["$ref"].removeprefix(COMPONENT)]}
                return {k: rename(v) for k, v in value.items()}
            if isinstance(value, list):
                return [rename(v) for v in value]
            return value

        # The title is what generators name a class after: the component's name, unique as it is.
        self.schemas = {names[name]: {**openapi30(rename(schema)), "title": names[name]}
                        for name, schema in defs.items()}
        self.refs = {key: rename(ref) for key, ref in key_map.items()}


def _component_name(defs_name: str) -> str:
    """A component's name from pydantic's: the model's name; its domain before it where two models share a name
    (`api__codes__schemas__Jwks` → `CodesJwks`); `Output` after it where a model used both ways has two shapes
    (pydantic's `X-Output`: the body keeps `X`)."""
    name, _, mode = defs_name.partition("-")
    *modules, model = re.sub(r"__\d+$", "", name).split("__")
    domain = [m for m in modules if m not in ("api", "core", "schemas", "models", "views")][-1:]
    return "".join(part.title().replace("_", "") for part in domain) + model + ("Output" if mode == "Output" else "")


@functools.cache
def _components(keys: tuple) -> Components:
    return Components(keys)


def components() -> Components:
    """The components of every model declared so far (made once per set of models)."""
    return _components(tuple(_models))


def openapi30(schema):
    """Pydantic's JSON Schema (draft 2020-12) in the OpenAPI 3.0 dialect: `nullable` for a null member, `enum` for
    `const`, boolean exclusive bounds, one `example`, no siblings beside a `$ref`."""
    if isinstance(schema, list):
        return [openapi30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "$defs"):
            out[key] = {name: openapi30(item) for name, item in value.items()}
        elif key in ("const",):
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "examples":
            if value:
                out["example"] = value[0]
        elif key == "prefixItems":
            out["items"] = {"anyOf": openapi30(value)} if len(value) > 1 else openapi30(value[0])
            out["minItems"] = out["maxItems"] = len(value)
        elif key == "propertyNames":
            continue  # no such keyword in OpenAPI 3.0; the keys stay strings
        else:
            out[key] = openapi30(value)
    if "enum" in out and "const" in schema and "type" not in out:
        out["type"] = _json_type(schema["const"])
    for union in ("anyOf", "oneOf"):
        members = out.get(union)
        if members and {"type": "null"} in members:
            rest = [m for m in members if m != {"type": "null"}]
            del out[union]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            else:
                out[union] = rest
            out["nullable"] = True
    if "$ref" in out and len(out) > 1:
        out = {"allOf": [{"$ref": out.pop("$ref")}], **out}
    return out


def _json_type(value) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value), "string")


def _camel(words: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", words) if p]
    return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def _oas_path(route_path: str) -> str:
    return re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", "/" + route_path.strip("/"))


def operation_ids(app, operations: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The operationId of each documented (path, method): the handler's name in camelCase (`wechat_login` →
    `wechatLogin`); where several routes share a handler name, its blueprint's name before it
    (`sandboxWechatMessages`), and where one handler serves several methods, the method too."""
    names = {}
    for route in app.router.routes:
        _, _, rest = route.name.partition(".")  # "<app>.<blueprint>.<handler>"
        blueprint, _, handler = rest.rpartition(".")
        for method in route.methods:
            if (key := (_oas_path(route.path), method.lower())) in operations:
                names[key] = (blueprint, handler)
    routes_of: dict[str, set] = {}
    for path, method in names:
        routes_of.setdefault(names[(path, method)][1], set()).add((names[(path, method)][0], path))
    ids = {key: handler if len(routes_of[handler]) == 1 else f"{blueprint}_{handler}"
           for key, (blueprint, handler) in names.items()}
    uses: dict[str, int] = {}
    for name in ids.values():
        uses[name] = uses.get(name, 0) + 1
    return {key: _camel(f"{key[1]}_{name}" if uses[name] > 1 else name) for key, name in ids.items()}


def _implied_errors(path: str, operation: dict) -> list[str]:
    """The error answers every route of this shape can give, whatever its own documentation lists: 404 where the path
    names something (the router refuses a segment of the wrong shape, the service a row that is not the caller's),
    401 where credentials are required, 422 where the query has parameters (out of range, or a NUL), 503 where the
    database or Redis is used (either out of reach)."""
    implied = []
    if "{" in path:
        implied.append("404")
    security = operation.get("security")
    if security and {} not in security:
        implied.append("401")
    if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
        implied.append("422")
    if not path.startswith(_STORELESS):
        implied.append("503")
    return implied


def document(app, *, error_model: type[BaseModel]) -> dict:
    """The whole OpenAPI 3.0 document of `app` (built after the server started: the operations are collected then);
    `error_model` is the body of every error answer (405 included)."""
    error = ModelSchema(error_model, "serialization")
    spec = SpecificationBuilder().build(app).serialize()
    for key in ("servers", "security"):
        if not spec.get(key):
            spec.pop(key, None)
    parts = components()
    spec.setdefault("components", {})
    spec["components"]["schemas"] = parts.schemas
    spec["components"]["responses"] = {"MethodNotAllowed": {
        "description": "此路径不支持该请求方法；Allow 头列出支持的方法",
        "headers": {"Allow": {"description": "此路径支持的方法，如 GET, POST", "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": error.serialize()}},
    }, "ServiceUnavailable": {
        "description": "数据库或 Redis 暂时不可用（service_unavailable）；Retry-After 头给出建议的重试间隔",
        "headers": {"Retry-After": {"description": "建议多少秒后重试", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": error.serialize()}},
    }}
    ids = operation_ids(app, {(path, method) for path, item in spec["paths"].items() for method in item
                              if method in _HTTP_METHODS})
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in _HTTP_METHODS:
                continue
            operation["operationId"] = ids[(path, method)]
            responses = operation["responses"] = {str(k): v for k, v in operation.get("responses", {}).items()}
            for status in _implied_errors(path, operation):
                implied = {"$ref": SERVICE_UNAVAILABLE} if status == "503" else {
                    "content": {"application/json": {"schema": error.serialize()}}}
                responses.setdefault(status, implied)
            for status, response in responses.items():
                if status.isdigit() and "$ref" not in response and response.get("description") in (
                        None, "", "Default Response"):
                    response["description"] = HTTPStatus(int(status)).phrase
            responses["405"] = {"$ref": METHOD_NOT_ALLOWED}
    return spec


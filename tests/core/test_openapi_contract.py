"""/openapi.json can drive a client generator: named components, enums, required lists, operation ids, errors."""

import re
import types
import typing

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator
from pydantic import BaseModel

from api.applications.workflow import STAFF_ACTIONS
from api.core import openapi

METHODS = ("get", "put", "post", "delete", "patch")
COMPONENT = "#/components/schemas/"


@pytest.fixture
async def spec(client):
    r = await client.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return r.json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def _schemas_in(value, where=()):
    """Every schema object under `value` with the path to it."""
    if isinstance(value, dict):
        yield where, value
        for key, item in value.items():
            yield from _schemas_in(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _schemas_in(item, (*where, index))


def _media(operation):
    yield from operation.get("requestBody", {}).get("content", {}).items()
    for response in operation["responses"].values():
        yield from response.get("content", {}).items()


async def test_the_document_is_valid_openapi_30_and_the_same_at_both_addresses(client, spec):
    assert spec["openapi"].startswith("3.0")
    errors = [e.message for e in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []
    assert (await client.get("/docs/openapi.json")).json() == spec


async def test_the_title_makes_an_installable_package_name_and_the_description_is_chinese(spec):
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._-]*", spec["info"]["title"]), spec["info"]["title"]
    assert "北京时间" in spec["info"]["description"] and "+08:00" in spec["info"]["description"]


PLATFORM_ERROR_SHAPES = {("post", "/sandbox/sms/SendSms"): "SmsAnswer",  # dysmsapi's request errors
                         ("post", "/sandbox/sms/QuerySendDetails"): "SmsDetailsAnswer"}


async def test_shapes_are_named_components_referenced_by_every_operation(spec):
    schemas = spec["components"]["schemas"]
    for name in ("ErrorBody", "ErrorDetail", "ApplicationRead", "ApplicationPage", "ApplicationSummary",
                 "CitizenTokens", "CitizenRead", "StaffActionIn", "DraftPage", "InboxPage"):
        assert name in schemas, name
        assert schemas[name]["title"] == name  # what a generator names the class after
    for path, method, operation in _operations(spec):
        for media_type, media in _media(operation):
            if media_type == "application/json" and "properties" in str(media["schema"]):
                pytest.fail(f"{method} {path}: an inline object schema instead of a $ref: {media['schema']}")
    refs = [s["$ref"] for _, s in _schemas_in(spec) if "$ref" in s]
    assert len(refs) > 300
    for _, schema in _schemas_in(spec):
        if "$ref" in schema:
            assert set(schema) == {"$ref"}, schema  # OpenAPI 3.0 ignores anything beside a $ref
            name = schema["$ref"].removeprefix(COMPONENT)
            assert name in schemas or schema["$ref"].startswith("#/components/responses/"), schema["$ref"]
    # One Error: every error answer of every operation is the same component, but a sandbox twin's that speaks its
    # platform's own shape.
    for path, method, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and "content" in response:
                schema = response["content"]["application/json"]["schema"]
                error = PLATFORM_ERROR_SHAPES.get((method, path), "ErrorBody")
                assert schema == {"$ref": COMPONENT + error}, (method, path, status)


async def test_every_model_a_route_names_is_a_component_named_after_it(spec):
    schemas = spec["components"]["schemas"]
    refs = openapi.components().refs
    assert len(refs) > 100
    for (model, _), ref in refs.items():
        name = ref["$ref"].removeprefix(COMPONENT)
        assert name in schemas
        assert name.removesuffix("Output").endswith(model.__name__), (model, name)


def _literal_values(annotation):
    """The values of the Literal inside `annotation` (Optional[...] and list[...] looked through), or None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return list(typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _literal_values(arg)
            if found is not None:
                return found
    return None


def _enum_of(schema, schemas):
    """The enum a property schema allows (through nullable wrappers and array items)."""
    if "$ref" in schema:
        return _enum_of(schemas[schema["$ref"].removeprefix(COMPONENT)], schemas)
    if "enum" in schema:
        return schema["enum"]
    for key in ("items", "allOf", "anyOf", "oneOf"):
        inner = schema.get(key)
        for member in inner if isinstance(inner, list) else [inner] if inner else []:
            found = _enum_of(member, schemas)
            if found is not None:
                return found
    return None


def _models_within(model, seen):
    """`model` and every model its fields hold, each once."""
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for inner in _classes_in(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                _models_within(inner, seen)


def _classes_in(annotation):
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _classes_in(arg)


async def test_every_literal_is_an_enum_and_no_enum_is_an_object(spec):
    schemas = spec["components"]["schemas"]
    models = set()
    for model, _ in openapi.components().refs:
        _models_within(model, models)
    checked = 0
    for model in models:
        keys = {f.serialization_alias or f.alias or n for n, f in model.model_fields.items()}
        names = [n for n, c in schemas.items() if n.removesuffix("Output").endswith(model.__name__)
                 and set(c.get("properties", {})) == keys]
        assert names, model  # a nested model is a component of its own too
        for component in (schemas[n] for n in names):
            for name, field in model.model_fields.items():
                values = _literal_values(field.annotation)
                if values is None:
                    continue
                prop = component["properties"][field.serialization_alias or field.alias or name]
                assert _enum_of(prop, schemas) == values, (model.__name__, name, prop)
                checked += 1
    assert checked > 30
    for where, schema in _schemas_in(spec):
        if "enum" in schema:
            assert schema.get("type") in ("string", "integer", "number", "boolean"), (where, schema)


async def test_the_clerk_action_enum_lists_every_action(spec):
    action = spec["components"]["schemas"]["StaffActionIn"]["properties"]["action"]
    assert action["enum"] == list(STAFF_ACTIONS)
    assert {"accept", "reject", "request_supplement", "approve", "deny", "complete", "ship"} <= set(action["enum"])


async def test_required_lists_on_every_body_and_answer(spec):
    schemas = spec["components"]["schemas"]
    for (model, mode), ref in openapi.components().refs.items():
        component = schemas[ref["$ref"].removeprefix(COMPONENT)]
        fields = {f.serialization_alias or f.alias or n: f for n, f in model.model_fields.items() if not f.exclude}
        if mode == "serialization":
            # An answer carries every field it declares, defaults included (`fields` of an error only when set).
            expected = {n for n, f in fields.items() if getattr(f, "exclude_if", None) is None}
        else:
            expected = {n for n, f in fields.items() if f.is_required()}
        assert set(component.get("required", [])) == expected, (model.__name__, mode)
    assert spec["components"]["schemas"]["ErrorDetail"]["required"] == ["code", "message", "request_id"]
    for path, method, operation in _operations(spec):
        body = operation.get("requestBody")
        if body and "application/json" in body["content"]:
            ref = body["content"]["application/json"]["schema"].get("$ref")
            needs = bool(ref and schemas[ref.removeprefix(COMPONENT)].get("required"))
            assert body.get("required", False) is needs, (method, path)


async def test_operation_ids_are_unique_camel_case_names_from_the_handlers(spec):
    ids = {}
    for path, method, operation in _operations(spec):
        op_id = operation.get("operationId")
        assert op_id and re.fullmatch(r"[a-z][a-zA-Z0-9]*", op_id), (method, path, op_id)
        assert op_id not in ids, (op_id, ids.get(op_id), (method, path))
        ids[op_id] = (method, path)
    assert ids["wechatLogin"] == ("post", "/api/v1/auth/wechat/login")
    assert ids["alipayLogin"] == ("post", "/api/v1/auth/alipay/login")
    assert ids["listApplications"] == ("get", "/api/v1/applications")
    assert ids["getApplication"] == ("get", "/api/v1/applications/{application_id}")
    assert ids["staffLogin"] == ("post", "/api/v1/admin/auth/login")
    # Two handlers of one name: the blueprint tells them apart; one handler on two methods: the method does.
    assert ids["citizensMe"] == ("get", "/api/v1/me") and ids["adminMe"] == ("get", "/api/v1/admin/me")
    assert ids["sandboxWechatMessages"] == ("get", "/sandbox/wechat/messages")
    assert ids["postGateway"] == ("post", "/sandbox/alipay/gateway.do")


async def test_every_json_body_documents_400_invalid_json_and_422(client, spec):
    bodies = 0
    for path, method, operation in _operations(spec):
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            bodies += 1
            assert {"400", "422"} <= set(operation["responses"]), (method, path)
    assert bodies > 30
    # And it is what happens: a body that is no JSON on a public route.
    r = await client.post("/api/v1/auth/wechat/login", content=b'{"code": ')
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


async def test_405_answers_with_allow_and_is_documented(client, spec):
    r = await client.delete("/api/v1/me")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in {m.strip() for m in r.headers["allow"].split(",")}
    assert "DELETE" not in r.headers["allow"]
    r = await client.put("/api/v1/applications", json={})
    assert r.status_code == 405 and {"GET", "POST"} <= {m.strip() for m in r.headers["allow"].split(",")}
    shared = spec["components"]["responses"]["MethodNotAllowed"]
    assert "Allow" in shared["headers"]
    for path, method, operation in _operations(spec):
        assert operation["responses"]["405"] == {"$ref": "#/components/responses/MethodNotAllowed"}, (method, path)


async def test_non_json_bodies_and_answers_are_documented(spec):
    imports = spec["paths"]["/api/v1/admin/datasets/{name}/imports"]["post"]
    assert imports["requestBody"]["required"] is True
    assert set(imports["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
    assert imports["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
    upload = spec["paths"]["/api/v1/files"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    pdf = spec["paths"]["/api/v1/certificates/{certificate_id}/pdf"]["get"]["responses"]["200"]["content"]
    assert set(pdf) == {"application/pdf"}
    assert set(spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


async def test_list_parameters_state_their_bounds(spec):
    limit = next(p for p in spec["paths"]["/api/v1/applications"]["get"]["parameters"] if p["name"] == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100)


async def test_every_route_documents_the_errors_its_shape_implies(client, spec):
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        if "{" in path:
            assert "404" in responses, (method, path)  # a segment of the wrong shape, or someone else's row
        security = operation.get("security")
        if security and {} not in security:
            assert "401" in responses, (method, path)
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "422" in responses, (method, path)
        if path not in ("/healthz", "/openapi.json", "/metrics") and not path.startswith("/docs"):
            assert "503" in responses, (method, path)  # the database or Redis out of reach
    unavailable = spec["components"]["responses"]["ServiceUnavailable"]
    assert "Retry-After" in unavailable["headers"]
    assert spec["paths"]["/api/v1/applications/{application_id}"]["get"]["responses"]["503"] == {
        "$ref": "#/components/responses/ServiceUnavailable"}
    # The router's 404 for a segment no serial can be, on a public route that documents no 404 itself.
    r = await client.get("/api/v1/verify/" + "a" * 33)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    # /metrics: a token, or no credentials at all from an allowed network.
    assert spec["paths"]["/metrics"]["get"]["security"] == [{"metrics": []}, {}]
    assert spec["components"]["securitySchemes"]["metrics"] == {"type": "http", "scheme": "bearer"}


async def test_a_405_on_a_path_with_parameters_names_its_methods_too(client):
    r = await client.request("TRACE", "/api/v1/applications/app_0000000000")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"
    r = await client.post("/api/v1/drafts/drf_0000000000")
    assert r.status_code == 405
    assert {"GET", "PUT", "DELETE"} <= {m.strip() for m in r.headers["allow"].split(",")}


async def test_the_routes_that_honour_an_idempotency_key_document_it(spec):
    # Every route that reads the header says so, so that a generated client can send it; no other route does.
    honouring = {("post", "/api/v1/applications"), ("post", "/api/v1/certificates"),
                 ("post", "/api/v1/admin/policies/{policy_id}/publish")}
    documented = set()
    for path, method, operation in _operations(spec):
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        if any(p["name"] == "Idempotency-Key" for p in headers):
            documented.add((method, path))
            key = next(p for p in headers if p["name"] == "Idempotency-Key")
            assert not key.get("required") and key["schema"]["pattern"] == r"^[A-Za-z0-9_.:-]{8,128}$"
            assert {"409", "422"} <= set(operation["responses"]), (method, path)
    assert documented == honouring

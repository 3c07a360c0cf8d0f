"""A 422's `fields` say what is wrong in Chinese, for request bodies (pydantic) and item forms (JSON Schema) alike,
and the request changes nothing."""

import re

import pytest

from api.applications.models import Application
from api.citizens.models import Delegation
from api.core.field_messages import _PYDANTIC, FALLBACK, pydantic_problem
from tests.applications.helpers import body_a, form_a
from tests.factories import bearer, random_phone, verified_citizen, wechat_login

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"\b(should|Input|Field|required|valid|least|most|Value error|match|object)\b")


def _fields(r) -> dict:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] in ("validation_failed", "form_invalid")
    for path, problem in error["fields"].items():
        assert CHINESE.search(problem) and not ENGLISH_WORDS.search(problem), (path, problem)
    return error["fields"]


async def test_body_problems_are_in_chinese_and_change_nothing(client):
    tokens = await wechat_login(client, phone=random_phone())
    before = await Delegation.all().count()
    fields = _fields(await client.post("/api/v1/me/delegations", headers=bearer(tokens), json={
        "agent_phone": 13800138000, "scopes": ["nothing"], "expires_at": "tomorrow", "extra": 1}))
    assert fields["agent_phone"] == "应为字符串"
    assert fields["scopes.0"].startswith("取值须为以下之一：") and "applications" in fields["scopes.0"]
    assert fields["expires_at"].startswith("应为带时区的时间")
    assert await Delegation.all().count() == before
    fields = _fields(await client.post("/api/v1/me/delegations", headers=bearer(tokens), json={}))
    assert fields == {"agent_phone": "必填", "scopes": "必填", "expires_at": "必填"}
    fields = _fields(await client.post("/api/v1/me/delegations", headers=bearer(tokens), json={
        "agent_phone": "12", "scopes": [], "expires_at": "2020-01-01T00:00:00+08:00"}))
    assert fields["agent_phone"] == "格式不正确"
    assert fields["scopes"] == "至少 1 项"
    assert fields["expires_at"] == "到期时间必须晚于现在"  # our own validator's words, without pydantic's prefix
    assert await Delegation.all().count() == before


async def test_lengths_bounds_and_types_name_their_limits(client):
    tokens = await wechat_login(client, phone=random_phone())
    fields = _fields(await client.post("/api/v1/subscriptions", headers=bearer(tokens), json={
        "platform": "wechat", "template_id": "x" * 500, "result": "maybe", "kind": 3}))
    assert fields["result"] == "取值须为以下之一：accept、reject、ban"
    assert "长度不能超过" in fields["template_id"]
    fields = _fields(await client.get("/api/v1/applications?limit=1000", headers=bearer(tokens)))
    assert "1 到 100" in fields["limit"]


async def test_form_problems_of_an_item_are_in_chinese_and_nothing_is_submitted(client):
    tokens, _ = await verified_citizen(client)
    before = await Application.all().count()
    # (`note`: a free-text field; the applicant's own name is bound to the verified identity, see test_identity)
    body = await body_a(client, tokens, form=form_a(note=12, extra_field=True))
    del body["form"]["reason"]
    r = await client.post("/api/v1/applications", json=body, headers=bearer(tokens))
    fields = _fields(r)
    assert fields["form.reason"] == "必填"
    assert fields["form.note"] == "应为字符串" and fields["form.extra_field"] == "表单中没有这个字段", fields
    assert await Application.all().count() == before


def test_every_known_kind_has_chinese_words_and_an_unknown_one_a_chinese_fallback():
    for kind, template in _PYDANTIC.items():
        assert CHINESE.search(template), kind
    assert pydantic_problem({"type": "string_too_long", "ctx": {"max_length": 32}, "msg": "x"}) == \
        "长度不能超过 32 个字符"
    assert pydantic_problem({"type": "greater_than_equal", "ctx": {"ge": 1}, "msg": "x"}) == "须大于或等于 1"
    assert pydantic_problem({"type": "some_new_kind", "msg": "Input is wrong"}) == FALLBACK
    assert pydantic_problem({"type": "custom_kind", "msg": "手机号与身份证号不符"}) == "手机号与身份证号不符"


@pytest.mark.parametrize("body", [b'{"code": 5}', b'{"code": ""}', b'{"code": null}', b"{}"])
async def test_a_public_login_body_problem_is_in_chinese(client, body):
    r = await client.post("/api/v1/auth/wechat/login", content=body, headers={"Content-Type": "application/json"})
    assert "code" in _fields(r)

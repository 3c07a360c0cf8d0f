"""One rule for every timestamp in every answer: Beijing time, ISO 8601 with +08:00, the same on POST and GET."""

import datetime as dt
import re
import secrets

from pydantic import BaseModel

from api.core import openapi
from api.core.times import beijing_iso
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, submit
from tests.codes.helpers import super_admin, terminal
from tests.factories import bearer, random_phone, verified_citizen

TIMESTAMP_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
BEIJING_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")


def _timestamps(value, path=""):
    """(path, string) for every string in an answer that looks like a date and time."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _timestamps(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _timestamps(item, f"{path}.{index}")
    elif isinstance(value, str) and TIMESTAMP_LIKE.match(value):
        yield path, value


class Answers:
    """Every JSON answer of a walk through the API, to hold each timestamp in it to the rule."""

    def __init__(self, client):
        self.client, self.seen = client, []

    async def call(self, method, url, *, expect=(200, 201, 202), **kwargs):
        r = await self.client.request(method, url, **kwargs)
        assert r.status_code in expect, (method, url, r.status_code, r.text)
        body = r.json()
        self.seen.append((f"{method} {url}", body))
        return body

    def stamps(self):
        return [(where, path, value) for where, body in self.seen for path, value in _timestamps(body)]


async def test_every_timestamp_of_a_citizens_and_a_clerks_day_is_beijing_time(client, live):
    answers = Answers(client)
    tokens, _ = await verified_citizen(client, name="时一", hukou_region="430104")
    me = bearer(tokens)
    await answers.call("GET", "/api/v1/me", headers=me)
    # Stamped in UTC by the caller: answered in Beijing time, the same instant.
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0)
    created = await answers.call("POST", "/api/v1/me/delegations", headers=me, json={
        "agent_phone": random_phone(), "scopes": ["applications"], "expires_at": expires.isoformat()})
    assert created["expires_at"] == beijing_iso(expires)
    assert created["expires_at"].endswith("+08:00")
    listed = await answers.call("GET", "/api/v1/me/delegations", headers=me)
    again = next(d for d in listed["items"] if d["id"] == created["id"])
    assert (again["created_at"], again["expires_at"]) == (created["created_at"], created["expires_at"])
    await answers.call("GET", f"/api/v1/delegations/{created['id']}", headers=me)

    application = await submit(client, tokens, await body_a(client, tokens))
    answers.seen.append(("POST /api/v1/applications", application))
    read = await answers.call("GET", f"/api/v1/applications/{application['id']}", headers=me)
    assert read["created_at"] == application["created_at"]
    assert [e["at"] for e in read["timeline"]] == [e["at"] for e in application["timeline"]]
    await answers.call("GET", "/api/v1/applications", headers=me)
    draft = await answers.call("POST", "/api/v1/drafts", headers=me, json={"item_code": application["item_code"]})
    assert (await answers.call("GET", f"/api/v1/drafts/{draft['id']}", headers=me))["created_at"] == \
        draft["created_at"]

    staff = await staff_headers(client)
    case = await answers.call("GET", f"/api/v1/admin/applications/{application['id']}", headers=staff)
    accepted = await act(client, staff, case["id"], "accept")
    answers.seen.append(("POST actions", accepted))
    await answers.call("GET", "/api/v1/admin/applications", headers=staff)
    await answers.call("GET", "/api/v1/inbox", headers=me)
    await answers.call("GET", "/api/v1/me/messages", headers=me)

    certificate = await answers.call("POST", "/api/v1/certificates", json={"type_code": "HUKOU", "purpose": "就业"},
                                     headers={**me, "Idempotency-Key": secrets.token_hex(12)})
    assert certificate["status"] == "issued"
    got = await answers.call("GET", f"/api/v1/certificates/{certificate['id']}", headers=me)
    assert (got["issued_at"], got["expires_at"]) == (certificate["issued_at"], certificate["expires_at"])
    verified = await answers.call("GET", "/" + certificate["verify_url"].split("/", 3)[3])  # the QR code's URL
    assert verified["issued_at"] == certificate["issued_at"]
    wallet = await answers.call("GET", "/api/v1/licenses", headers=me)
    card = next(i for i in wallet["items"] if i["type"] == "resident_id_card")
    await answers.call("POST", f"/api/v1/licenses/{card['id']}/presentations", json={"fields": ["name"]}, headers=me)
    code = await answers.call("GET", "/api/v1/codes/me", headers=me)
    admin = await super_admin(client)
    gate = await terminal(client, "service", dept="gongan", admin=admin)
    await answers.call("POST", "/api/v1/scan", json={"payload": code["payload"], "scene": "service"},
                       headers=gate["headers"])
    await answers.call("GET", "/api/v1/codes/me/scans", headers=me)
    await answers.call("POST", "/api/v1/codes/me/freeze", headers=me)
    await answers.call("GET", "/api/v1/codes/me/status", headers=me)
    await answers.call("GET", "/api/v1/codes/revocations", headers=gate["headers"])
    await answers.call("GET", "/api/v1/admin/terminals", headers=admin)
    await answers.call("GET", "/api/v1/admin/audit-logs", headers=admin)

    stamps = answers.stamps()
    assert len(stamps) > 30
    wrong = [(where, path, value) for where, path, value in stamps if not BEIJING_ISO.match(value)]
    assert wrong == [], wrong


async def test_an_aware_time_in_any_zone_and_a_naive_one_are_written_the_same_way():
    instant = dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert beijing_iso(instant) == "2025-03-01T09:30:00+08:00"
    assert beijing_iso(instant.astimezone(dt.timezone(dt.timedelta(hours=-5)))) == "2025-03-01T09:30:00+08:00"
    assert beijing_iso(dt.datetime(2025, 3, 1, 9, 30)) == "2025-03-01T09:30:00+08:00"  # naive: Beijing already


def _datetime_nodes(schema, found):
    """Every datetime node of a pydantic core schema (walked through unions, lists, defaults, models)."""
    if isinstance(schema, dict):
        inner = schema.get("schema")
        wrapped = str(schema.get("type", "")).startswith("function-") and isinstance(inner, dict) \
            and inner.get("type") == "datetime"  # a validated datetime: the wrapper carries the serializer
        if schema.get("type") == "datetime" or wrapped:
            found.append(schema)
            return found
        for value in schema.values():
            _datetime_nodes(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _datetime_nodes(value, found)
    return found


def test_every_timestamp_field_of_every_documented_answer_uses_the_beijing_type():
    # A new answer field typed plain `dt.datetime` would leave pydantic's own zone in the JSON: Timestamp instead.
    models = {model for model, mode in openapi.components().refs if mode == "serialization"}
    nodes = []
    for model in models:
        assert issubclass(model, BaseModel)
        nodes += [(model.__name__, node) for node in _datetime_nodes(model.__pydantic_core_schema__, [])]
    assert len(nodes) > 30
    plain = [name for name, node in nodes
             if node.get("serialization", {}).get("function") is not beijing_iso]
    assert plain == []

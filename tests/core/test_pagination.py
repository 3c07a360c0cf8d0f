"""Every list pages the same way: a forged cursor is 422 `fields.cursor` on every list route, and paging a list
walks each item exactly once, in order, ties on the sort key included."""

import asyncio
import base64
import datetime as dt
import json
import secrets
import sys

from api.core import audit, db
from api.core.models import AuditLog
from api.core.pagination import Order
from notifications.models import InboxMessage
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen


def _cursor(position) -> str:
    raw = position if isinstance(position, bytes) else json.dumps(position).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _orders() -> set[Order]:
    """Every list order the loaded code declares (a new list's order is picked up without naming it here)."""
    return {value for name, module in list(sys.modules.items()) if name.split(".")[0] in ("api", "notifications")
            for value in vars(module).values() if isinstance(value, Order)}


_BAD_VALUES = {
    str: [7, None, ["id"]],
    int: [-1, -5, True, 2.5, "3", None],
    dt.date: ["2026-02-30", 20260101, "yesterday"],
    dt.datetime: ["not-a-time", "2026-01-01T08:00:00", "0001-01-01T00:00:00+14:00", 1700000000, None],
}


_NOT_CURSORS = ("%%%", "eyJvIjotNX0=", _cursor(b"not json"), _cursor(b"\xff\xfe"), _cursor([1, 2]), _cursor("x"),
                _cursor({}))


def _forged_cursors() -> set[str]:
    """Cursors no list may take: not base64, not JSON, not an object, and for every declared order its keys with one
    value of the wrong type or out of range, one key missing and one key too many."""
    forged = set(_NOT_CURSORS)
    for order in _orders():
        good = {k.field: {str: "x_1", int: 3, dt.date: "2026-01-05",
                          dt.datetime: "2026-01-05T08:00:00+08:00"}[k.kind] for k in order.keys}
        for key in order.keys:
            forged |= {_cursor({**good, key.field: bad}) for bad in _BAD_VALUES[key.kind]}
            forged.add(_cursor({k: v for k, v in good.items() if k != key.field}))
        forged.add(_cursor({**good, "extra": 1}))
    return forged


async def _concrete(client, path: str, admin: dict) -> str:
    """A list route's path with a row named for each of its path parameters."""
    if path == "/api/v1/admin/imports/{job_id}/rejections":
        r = await client.post("/api/v1/admin/datasets/transit/imports", headers={**admin, "Content-Type": "text/csv"},
                              content=b"id_number,ride_account,standing\n")
        return path.replace("{job_id}", r.json()["id"])
    assert "{" not in path, f"{path}: name a row for its path parameters here"
    return path


async def test_every_list_route_answers_a_forged_cursor_with_422_on_the_cursor(client, test_catalogue):
    spec = (await client.get("/openapi.json")).json()
    lists = [(path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
             if method == "get" and any(p["name"] == "cursor" and p["in"] == "query" for p in op.get("parameters", []))]
    assert {"/api/v1/admin/audit-logs", "/api/v1/inbox", "/api/v1/items", "/api/v1/admin/applications",
            "/api/v1/drafts", "/api/v1/codes/me/scans", "/api/v1/me/messages"} <= {path for path, _ in lists}
    tokens, _ = await verified_citizen(client)
    admin = await staff_headers(client, roles=("super_admin",), depts=())
    forged = sorted(_forged_cursors())
    assert len(forged) > 40

    async def check(path: str, headers: dict, cursor: str) -> tuple | None:
        r = await client.get(path, params={"cursor": cursor}, headers=headers)
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        error = body.get("error") or {}
        if (r.status_code, error.get("code"), list(error.get("fields") or {})) != (422, "validation_failed",
                                                                                   ["cursor"]):
            return path, cursor, r.status_code, r.text
        return None

    # Every route gets the cursors that are no cursor at all and its share of the rest; together the routes try
    # every forged cursor (the decoding is shared: a share each keeps the test to seconds).
    tried = set()
    for n, (path, op) in enumerate(lists):
        secured = {name for s in op.get("security", []) for name in s}
        headers = admin if "admin" in secured else bearer(tokens) if "citizen" in secured else {}
        path = await _concrete(client, path, admin)
        assert (await client.get(path, params={"limit": 1}, headers=headers)).status_code == 200, path
        share = {*_NOT_CURSORS, *forged[n::len(lists)]}
        tried |= share
        failures = [f for f in await asyncio.gather(*(check(path, headers, c) for c in share)) if f]
        assert failures == [], failures[:5]
    assert tried == set(forged)


def _tie() -> dt.datetime:
    """One instant for several rows, in the zone the ORM writes datetimes in (on SQLite an update writes the value as
    it is given, and the zone is known once the ORM has started)."""
    return db.as_stored(dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=dt.timezone.utc))


async def _inbox_of_25(client) -> tuple[str, dict, dict, list[str]]:
    tokens, _ = await verified_citizen(client)
    me = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    await InboxMessage.bulk_create([InboxMessage(citizen_id=me["id"], title=f"消息 {i}", body="正文", topic="test")
                                    for i in range(25)])
    rows = await InboxMessage.filter(citizen_id=me["id"]).order_by("id")
    # Ten messages share one instant across the first page break: only the id can order them.
    await InboxMessage.filter(id__in=[r.id for r in rows[5:15]]).update(created_at=_tie())
    expected = InboxMessage.filter(citizen_id=me["id"]).order_by("-created_at", "-id")
    return "/api/v1/inbox", {}, bearer(tokens), list(await expected.values_list("id", flat=True))


async def _audit_log_of_25(client) -> tuple[str, dict, dict, list[str]]:
    actor = f"adm_paging_{secrets.token_hex(4)}"
    for i in range(25):
        await audit.record(actor_type="admin", actor_id=actor, action="test.paging", detail={"i": i})
    rows = await AuditLog.filter(actor_id=actor).order_by("id")
    await AuditLog.filter(id__in=[r.id for r in rows[8:18]]).update(created_at=_tie())
    expected = AuditLog.filter(actor_id=actor).order_by("-created_at", "-id")
    auditor = await staff_headers(client, roles=("auditor",), depts=())
    return "/api/v1/admin/audit-logs", {"actor_id": actor}, auditor, list(await expected.values_list("id", flat=True))


async def test_paging_25_items_by_10_returns_each_once_in_order(client):
    for make in (_inbox_of_25, _audit_log_of_25):
        path, filters, headers, expected = await make(client)
        assert len(expected) == 25
        seen, pages, cursor = [], [], None
        while True:
            params = {**filters, "limit": 10, **({"cursor": cursor} if cursor else {})}
            r = await client.get(path, params=params, headers=headers)
            assert r.status_code == 200, r.text
            page = r.json()
            pages.append(len(page["items"]))
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [10, 10, 5], path
        assert seen == expected, path

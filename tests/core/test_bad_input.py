"""Bad input is a 4xx with the usual error body, never a 500: over-long and odd ids in every path, over-long and junk
query filters on every list."""

import asyncio
import re
from pathlib import Path

from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen

_ODD_IDS = ("x" * 300, "x" * 41, "cit_" + "A" * 37, "a'b", "%E4%B8%AD")


def _is_error(r, statuses) -> bool:
    try:
        error = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return r.status_code in statuses and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)


async def _callers(client) -> dict:
    tokens, _ = await verified_citizen(client)
    return {"citizen": bearer(tokens), "staff": await staff_headers(client, roles=("super_admin",), depts=()),
            "nobody": {}}


async def test_every_path_parameter_route_answers_an_id_no_column_could_hold_with_a_4xx(client, test_catalogue):
    spec = (await client.get("/openapi.json")).json()
    routes = [(method, path) for path, ops in spec["paths"].items() if "{" in path and not path.startswith("/sandbox")
              for method in ops]
    assert len(routes) >= 30, routes
    callers = await _callers(client)

    gate = asyncio.Semaphore(16)

    async def check(method, path, who, odd):
        url = re.sub(r"\{[^}]+\}", odd, path)
        async with gate:
            r = await client.request(method.upper(), url, headers=callers[who], json={})
        return None if _is_error(r, {401, 403, 404, 422}) else (method, path, who, len(odd), r.status_code, r.text[:99])

    failures = [f for f in await asyncio.gather(*(check(m, p, who, odd) for m, p in routes for who in callers
                                                   for odd in _ODD_IDS)) if f]
    assert failures == [], failures[:10]


async def test_an_id_of_the_right_shape_still_reaches_the_handler(client):
    r = await client.get("/api/v1/verify/" + "A" * 32)
    assert r.status_code == 200 and r.json()["status"] == "invalid", r.text
    r = await client.get("/api/v1/verify/" + "A" * 33)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text


def _query_names() -> set[str]:
    """Every query parameter a view reads (a filter added later is tried without naming it here)."""
    names = set()
    for package in ("api", "auth", "notifications"):
        for source in Path(package).rglob("*.py"):
            names |= set(re.findall(r"args\.get\(\"([a-z_]+)\"", source.read_text()))
    return names - {"cursor", "limit"}  # tested by test_pagination


async def test_every_get_route_answers_an_over_long_or_junk_filter_with_422_or_an_answer(client, test_catalogue):
    spec = (await client.get("/openapi.json")).json()
    callers = await _callers(client)
    documented = {p["name"] for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)
                  for p in op.get("parameters", []) if p.get("in") == "query"}
    names = _query_names() | (documented - {"cursor", "limit"})
    assert {"dept", "status", "sla_state", "q", "policy_id", "actor_id", "since"} <= names, names
    routes = []
    for path, ops in spec["paths"].items():
        secured = {name for s in ops.get("get", {}).get("security", []) for name in s}
        if ("get" in ops and path.startswith("/api/") and "terminal" not in secured
                and ("{" not in path or path.startswith("/api/v1/verify/"))):
            routes.append((path.replace("{serial}", "A" * 20),
                           "staff" if "admin" in secured else "citizen" if "citizen" in secured else "nobody"))
    assert ("/api/v1/admin/applications", "staff") in routes and ("/api/v1/items", "nobody") in routes, routes

    gate = asyncio.Semaphore(16)

    async def check(path, who, name, value):
        async with gate:
            r = await client.get(path, params={name: value}, headers=callers[who])
        if r.status_code == 200 or _is_error(r, {422}):
            return None
        return path, name, value[:10], len(value), r.status_code, r.text[:120]

    tries = [(path, who, name, value) for path, who in routes for name in names for value in ("x" * 300, "中" * 41)]
    failures = [f for f in await asyncio.gather(*(check(*t) for t in tries)) if f]
    assert failures == [], failures[:10]

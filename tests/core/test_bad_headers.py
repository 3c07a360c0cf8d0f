"""Non-ASCII bytes (and junk) in the credential headers are a 4xx with the usual error body, never a 500."""

from __future__ import annotations

import pytest

from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen

JUNK = ["Bearer 令牌".encode(), "Bearer \xe9\xff".encode("latin-1"), b"Bearer abc\x80def", "令牌".encode()]


def _error(r) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    return r.json()["error"]["code"]


@pytest.mark.parametrize("value", JUNK)
async def test_a_token_of_other_bytes_is_401(client, value):
    for path in ("/api/v1/me", "/api/v1/admin/me", "/api/v1/me/messages"):
        r = await client.get(path, headers={"Authorization": value})
        assert r.status_code == 401 and _error(r), (path, r.text)


@pytest.mark.parametrize("value", JUNK)
async def test_a_terminal_credential_of_other_bytes_is_refused(client, value):
    r = await client.post("/api/v1/scan", headers={"Authorization": b"Terminal " + value},
                          json={"payload": "x", "scene": "transit"})
    assert r.status_code in (401, 403) and _error(r), r.text


async def test_on_behalf_of_anything_but_a_citizen_id_is_403(client, live):
    tokens, _ = await verified_citizen(client)
    for value in ["张三".encode(), b"cit_\xff\xfe", b"x" * 300, b"' OR 1=1 --"]:
        r = await client.get("/api/v1/applications", headers={**bearer(tokens), "X-On-Behalf-Of": value})
        assert r.status_code == 403 and _error(r) == "delegation_denied", (value, r.text)
    # Staff headers are unaffected by the rule and still work.
    assert (await client.get("/api/v1/admin/me", headers=await staff_headers(client))).status_code == 200

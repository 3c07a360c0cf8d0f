"""Helpers of the application tests: staff, uploads."""

import secrets
import time

from api.admin import service as admin_service
from api.admin.models import AdminAccount
from tests import cleanup
from tests.factories import bearer

PASSWORD = "correct-horse-battery"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# (roles, depts, who) -> (username, when logged in, header). Staff log in once per session: each argon2 hash
# (64 MiB, 3 passes) costs about half a second of CPU, twice per account. Their rows outlive each test's cleanup.
_staff: dict[tuple, tuple[str, float, dict]] = {}
RELOGIN_AFTER_SECONDS = 600  # well inside the 15-minute access token


async def staff_headers(client, *, roles=("reviewer",), depts=("gongan",), who: str = "") -> dict:
    """A staff member's Authorization header: the session's one staff member with these roles and departments
    (name another with `who`), created and logged in on first use."""
    key = (tuple(roles), tuple(depts), who)
    held = _staff.get(key)
    if held and time.monotonic() - held[1] < RELOGIN_AFTER_SECONDS:
        return held[2]
    if held:
        name = held[0]
    else:
        name = f"staff_{secrets.token_hex(4)}"
        account = await admin_service.create_or_update(username=name, password=PASSWORD, roles=list(roles),
                                                       depts=list(depts))
        cleanup.keep(AdminAccount, account.id)
    r = await client.post("/api/v1/admin/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    _staff[key] = (name, time.monotonic(), bearer(r.json()))
    return _staff[key][2]


async def upload(client, tokens, *, data: bytes = PDF, name: str = "证明.pdf", content_type="application/pdf",
                 headers=None) -> dict:
    """Upload a file as the citizen (or their agent); the answer."""
    r = await client.post("/api/v1/files", files={"file": (name, data, content_type)},
                          headers={**bearer(tokens), **(headers or {})})
    assert r.status_code == 201, r.text
    return r.json()

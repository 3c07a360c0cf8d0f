"""Helpers of the application tests: staff, uploads."""

import secrets

from api.admin import service as admin_service
from tests.factories import bearer

PASSWORD = "correct-horse-battery"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def staff_headers(client, *, roles=("reviewer",), depts=("gongan",)) -> dict:
    """A staff member's Authorization header."""
    name = f"staff_{secrets.token_hex(4)}"
    await admin_service.create_or_update(username=name, password=PASSWORD, roles=list(roles), depts=list(depts))
    r = await client.post("/api/v1/admin/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return bearer(r.json())


async def upload(client, tokens, *, data: bytes = PDF, name: str = "证明.pdf", content_type="application/pdf",
                 headers=None) -> dict:
    """Upload a file as the citizen (or their agent); the answer."""
    r = await client.post("/api/v1/files", files={"file": (name, data, content_type)},
                          headers={**bearer(tokens), **(headers or {})})
    assert r.status_code == 201, r.text
    return r.json()

"""Staff accounts for the admin tests: made directly (as `create-admin` does) and logged in through the API."""

import secrets

from api.admin import service as admin_service

PASSWORD = "correct-horse-battery"


async def new_staff(roles=("reviewer",), depts=("gongan",)) -> str:
    """A fresh staff account with these roles and departments; its username."""
    name = f"staff_{secrets.token_hex(4)}"
    await admin_service.create_or_update(username=name, password=PASSWORD, roles=list(roles), depts=list(depts))
    return name


async def staff_login(client, username, password=PASSWORD):
    """POST /api/v1/admin/auth/login's answer."""
    return await client.post("/api/v1/admin/auth/login", json={"username": username, "password": password})

"""Staff identity: the lock-out holds under parallel guesses; roles, departments and the disabled flag take
effect on live sessions at once."""

import asyncio
import secrets
from datetime import datetime, timedelta, timezone

from api.admin import service as admin_service
from api.admin.models import AdminAccount

PASSWORD = "correct-horse-battery"


async def _admin(roles=("reviewer",), depts=("gongan",)):
    name = f"staff_{secrets.token_hex(4)}"
    await admin_service.create_or_update(username=name, password=PASSWORD, roles=list(roles), depts=list(depts))
    return name


async def _login(client, username, password=PASSWORD):
    return await client.post("/api/v1/admin/auth/login", json={"username": username, "password": password})


async def test_parallel_wrong_passwords_lock_at_the_sixth(client):
    name = await _admin()
    answers = await asyncio.gather(*(_login(client, name, f"wrong-password-{i}") for i in range(20)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 5 + [423] * 15, statuses
    assert all(r.json()["error"]["code"] == "account_locked" for r in answers if r.status_code == 423)
    r = await _login(client, name)  # the right password does not open a locked account
    assert r.status_code == 423
    account = await AdminAccount.get(username=name)
    assert account.locked_until is not None


async def test_a_lock_that_ran_out_counts_afresh(client):
    name = await _admin()
    for _ in range(6):
        await _login(client, name, "wrong-password-1")
    assert (await _login(client, name)).status_code == 423
    await AdminAccount.filter(username=name).update(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1))
    r = await _login(client, name, "wrong-password-1")  # the first failure after the lock: 401, not locked again
    assert r.status_code == 401
    assert (await _login(client, name)).status_code == 200
    account = await AdminAccount.get(username=name)
    assert account.failed_logins == 0 and account.locked_until is None

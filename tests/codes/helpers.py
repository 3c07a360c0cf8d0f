"""Helpers of the code tests: citizens with registry data behind each scene, terminals, codes and scans."""

from __future__ import annotations

import asyncio
import secrets
import time

from api.citizens import registry
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen


async def code_holder(client, *, health: bool = True, transit: str | None = "good",
                      social: str | None = "正常参保", name: str = "赵六") -> tuple[dict, dict]:
    """A level-2 citizen with a health card, a ride account of `transit` standing and a social security card of
    `social` status (None: no row in that registry); their tokens and registry rows."""
    tokens, person = await verified_citizen(client, name=name)
    idn = person["id_number"]
    person["health_card_no"] = f"HC{secrets.token_hex(6).upper()}"
    person["ride_account"] = f"RA{secrets.randbelow(10**10):010d}"
    person["card_no"] = f"SS{secrets.randbelow(10**9):09d}"
    if health:
        await _one("health_card", {"id_number": idn, "health_card_no": person["health_card_no"]})
    if transit:
        await _one("transit", {"id_number": idn, "ride_account": person["ride_account"], "standing": transit})
    if social:
        await _one("social_insurance", {"id_number": idn, "card_no": person["card_no"], "status": social,
                                        "insured_since": "2015-01-01"})
    return tokens, person


async def _one(dataset: str, row: dict) -> None:
    report = await registry.import_rows(dataset, [row])
    assert report.inserted + report.updated == 1, report.as_dict()


async def super_admin(client) -> dict:
    """A super admin's Authorization header."""
    return await staff_headers(client, roles=("super_admin",), depts=())


async def terminal(client, scene: str, *, dept: str = "jiaotong", admin: dict | None = None) -> dict:
    """A registered terminal of `scene`: {terminal_id, secret, headers, ...}."""
    admin = admin or await super_admin(client)
    r = await client.post("/api/v1/admin/terminals", json={"name": f"{scene} 终端", "scene": scene, "dept": dept},
                          headers=admin)
    assert r.status_code == 201, r.text
    body = r.json()
    body["headers"] = {"Authorization": f"Terminal {body['terminal_id']}:{body['secret']}"}
    return body


async def next_second() -> None:
    """Wait until the clock is in a later whole second than now (code ids change with the issue second)."""
    await asyncio.sleep(1.0 - time.time() % 1.0 + 0.01)


async def my_code(client, tokens: dict) -> dict:
    """A fresh code of the citizen."""
    r = await client.get("/api/v1/codes/me", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    return r.json()


async def scan(client, term: dict, payload: str, scene: str | None = None):
    """The terminal scans `payload` for `scene` (its own by default); the raw response."""
    return await client.post("/api/v1/scan", json={"payload": payload, "scene": scene or term["scene"]},
                             headers=term["headers"])

"""The request faults of bench/faults.py: a burst of application submissions, each retried with its own
Idempotency-Key on 503, 409 and connection errors, while PostgreSQL restarts or the server gets SIGTERM; then the
applications created against those intended."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from collections import Counter

import asyncpg
import httpx

from bench.applications import FORM, ITEM, PDF
from bench.fault_campaigns import Result, pg_dsn
from bench.topology import Topology
from tests.applications.catalogue_fixture import CATALOGUE

RETRY = (409, 503)


async def citizens(t: Topology, count: int) -> list[tuple[str, str]]:
    """`count` level-2 citizens logged in through the sandbox WeChat, each with an uploaded file: (token, file id)."""
    if not getattr(t, "catalogue_loaded", False):
        catalogue = t.dir / "catalogue.json"
        catalogue.write_text(json.dumps(CATALOGUE, ensure_ascii=False), encoding="utf-8")
        t.cli("load-catalogue", str(catalogue))
        t.catalogue_loaded = True
    out = []
    conn = await asyncpg.connect(pg_dsn(t))
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(count):
            phone = f"137{secrets.randbelow(10**8):08d}"
            codes = (await client.post(f"{t.sandbox_url}/sandbox/wechat/codes", json={"phone": phone})).json()
            r = await client.post(f"{t.api_url}/api/v1/auth/wechat/login",
                                  json={"code": codes["code"], "phone_code": codes["phone_code"]})
            r.raise_for_status()
            tokens = r.json()
            await conn.execute("UPDATE citizen SET assurance_level = 2 WHERE id = $1", tokens["citizen"]["id"])
            # As the app does after a real-name check: refresh, so the access token carries level 2.
            fresh = (await client.post(f"{t.api_url}/api/v1/auth/refresh",
                                       json={"refresh_token": tokens["refresh_token"]})).json()
            headers = {"Authorization": f"Bearer {fresh['access_token']}"}
            r = await client.post(f"{t.api_url}/api/v1/files", headers=headers,
                                  files={"file": ("a.pdf", PDF, "application/pdf")})
            r.raise_for_status()
            out.append((fresh["access_token"], r.json()["file_id"], tokens["citizen"]["id"]))
    await conn.close()
    return out


class Burst:
    """Clients that each submit applications one after another, retrying each with its key until answered."""

    def __init__(self, t: Topology, people: list, *, per_client: int, give_up_s: float):
        self.t, self.people, self.per_client, self.give_up_s = t, people, per_client, give_up_s
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.answers: dict[str, set[str]] = {}  # key -> application ids answered
        self.unanswered: list[str] = []
        self.successes: list[float] = []

    async def _one(self, client: httpx.AsyncClient, token: str, file_id: str, key: str) -> None:
        body = {"item_code": ITEM, "form": FORM, "delivery": {"method": "pickup"}, "applicant_region": "430104",
                "materials": [{"material_code": "M_ID_CARD", "file_id": file_id},
                              {"material_code": "M_RESIDENCE_PROOF", "commitment": True},
                              {"material_code": "M_PHOTO", "deferred": True}]}
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        deadline = time.monotonic() + self.give_up_s
        pause = 0.2
        while time.monotonic() < deadline:
            try:
                r = await client.post("/api/v1/applications", json=body, headers=headers)
            except httpx.ConnectError:
                self.errors["refused"] += 1
            except httpx.TransportError as e:  # reset, or closed without an answer, after the request went out
                self.errors[f"reset ({type(e).__name__})"] += 1
            else:
                self.statuses[r.status_code] += 1
                if r.status_code < 300:
                    self.answers.setdefault(key, set()).add(r.json()["id"])
                    self.successes.append(time.monotonic())
                    return
                if r.status_code not in RETRY:
                    self.errors[f"gave up on {r.status_code}"] += 1
                    self.unanswered.append(key)
                    return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
        self.unanswered.append(key)

    async def _client(self, token: str, file_id: str) -> None:
        async with httpx.AsyncClient(base_url=self.t.api_url, timeout=30) as client:
            for _ in range(self.per_client):
                await self._one(client, token, file_id, f"faults-{secrets.token_hex(10)}")

    async def run(self) -> None:
        """Every client to its end."""
        await asyncio.gather(*(self._client(token, file_id) for token, file_id, _ in self.people))

    def resumed_after(self, at: float) -> float | None:
        """Seconds from `at` to the first success after it."""
        return next((s - at for s in sorted(self.successes) if s >= at), None)


async def _tally(t: Topology, burst: Burst, result: Result) -> None:
    ids = sorted({i for found in burst.answers.values() for i in found})
    conn = await asyncpg.connect(pg_dsn(t))
    try:
        created = await conn.fetchval("SELECT count(*) FROM application WHERE parent_id IS NULL "
                                      "AND citizen_id = ANY($1::text[])", [c for _, _, c in burst.people])
        stored = await conn.fetchval("SELECT count(*) FROM application WHERE id = ANY($1::text[])", ids)
    finally:
        await conn.close()
    intended = len(burst.people) * burst.per_client
    # Lost: answered 201 and not stored. Uncertain: no answer but an error the client cannot act on (a 500 says
    # nothing of whether the application was made), or none before the client gave up.
    result.lost = len(ids) - stored
    # Two ids answered for one key, or more rows than submissions: the same submission made twice. (A row beyond the
    # answered ones is a submission that was made though its client got no answer: uncertain, not duplicated.)
    result.duplicated = max(created - intended, 0) + sum(len(f) - 1 for f in burst.answers.values())
    result.uncertain = len(burst.unanswered)
    result.e503 = burst.statuses[503]
    result.e500 = sum(n for s, n in burst.statuses.items() if s >= 500 and s != 503)
    other = {s: n for s, n in burst.statuses.items() if s >= 300 and s != 503}
    result.notes.append(f"{intended} submissions intended, {len(burst.answers)} answered 201, {created} applications "
                        f"created; statuses {dict(sorted(burst.statuses.items()))}; client errors {dict(burst.errors)}"
                        + (f"; non-2xx {other}" if other else ""))


async def pg_restart(t: Topology, *, clients: int, per_client: int, give_up_s: float) -> Result:
    """A burst of submissions; 2 s in, PostgreSQL stops (fast), stays down 5 s and starts again."""
    result = Result("pg_restart")
    people = await citizens(t, clients)
    burst = Burst(t, people, per_client=per_client, give_up_s=give_up_s)
    task = asyncio.create_task(burst.run())
    await asyncio.sleep(2)
    await asyncio.to_thread(t.pg_stop, "fast")
    await asyncio.sleep(5)
    await asyncio.to_thread(t.pg_start)
    back = time.monotonic()
    await task
    result.resume_s = burst.resumed_after(back)
    result.notes.append("PostgreSQL primary stopped (-m fast) 2 s into the burst, down 5 s")
    await _tally(t, burst, result)
    return result


async def sigterm_under_load(t: Topology, *, clients: int, per_client: int, give_up_s: float) -> Result:
    """A burst of submissions; 2 s in, SIGTERM to the server's process group (systemd's stop); its supervisor
    starts it again 2 s after it exits (RestartSec=2)."""
    result = Result("sigterm_load")
    people = await citizens(t, clients)
    burst = Burst(t, people, per_client=per_client, give_up_s=give_up_s)
    task = asyncio.create_task(burst.run())
    await asyncio.sleep(2)
    server = t.apps["server"]
    old = server.proc
    signalled = time.monotonic()
    server.signal(signal.SIGTERM, group=True)
    code = await asyncio.to_thread(old.wait, 60)
    exited = time.monotonic() - signalled
    await task
    after_exit = burst.resumed_after(signalled + exited)
    result.resume_s = None if after_exit is None else exited + after_exit  # from the SIGTERM
    result.notes.append(f"old server exited {code} {exited:.1f} s after SIGTERM")
    await _tally(t, burst, result)
    return result

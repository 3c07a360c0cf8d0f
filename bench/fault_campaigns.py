"""The campaign faults of bench/faults.py: an auto_grant policy sent over SMS to the sandbox while a job worker is
killed (matching, sending), Redis fails over or restarts; then what the sandbox received against the outbox."""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
import httpx

from bench import synthetic
from bench.push import GRANT
from bench.topology import Topology

SENT = ("sent", "delivered")
OPEN = ("queued", "claimed", "sending", "uncertain")
SANDBOX_LOG_LIMIT = 10_000  # miniapp_handlers/sandbox/state.py keeps this many messages
_ADMINS: dict[int, dict] = {}


@dataclass
class Result:
    """One scenario's figures, as the table prints them."""

    name: str
    lost: int | None = None
    duplicated: int | None = None
    uncertain: int | None = None
    e500: int | None = None
    e503: int | None = None
    resume_s: float | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None

    def failed(self) -> bool:
        """Whether a figure the goal wants at 0 is not, or the scenario could not be measured."""
        figures = (self.lost, self.duplicated, self.uncertain, self.e500)
        return self.error is not None or self.skipped is None and any(v for v in figures)


def pg_dsn(t: Topology) -> str:
    """The asyncpg DSN of the topology's primary."""
    return t.db_url.replace("postgres://", "postgresql://", 1)


def import_population(t: Topology, people: int) -> None:
    """Write `people` synthetic people and import them through `python server.py import` (as bench/push.py)."""
    csv_path = t.dir / "population.csv"
    synthetic.write_population(csv_path, people)
    t.cli("import", "population", str(csv_path))
    csv_path.unlink()


async def admin_headers(t: Topology, client: httpx.AsyncClient) -> dict:
    """A policy admin's bearer header."""
    password = secrets.token_hex(12)
    t.cli("create-admin", "--username", "faults-policy", "--password", password, "--role", "policy_admin")
    r = await client.post("/api/v1/admin/auth/login", json={"username": "faults-policy", "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _pids_by_port(*filters: str) -> Counter:
    out = subprocess.run(["ss", "-tnpH", *filters], capture_output=True, text=True).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+)", out))


def sandbox_connections(t: Topology) -> dict[str, int]:
    """Connections each live job worker holds to the sandbox now (the senders' HTTP pools)."""
    counts = _pids_by_port("state", "established", f"dst 127.0.0.1:{t.sandbox_port}")
    return {name: counts[pid] for name, pid in t.job_worker_pids().items()}


def worker_sending(t: Topology) -> str | None:
    """The job worker holding the most connections to the sandbox now (the one sending), if any."""
    best = max(((n, name) for name, n in sandbox_connections(t).items()), default=(0, None))
    return best[1] if best[0] else None


async def worker_matching(t: Topology, conn: asyncpg.Connection) -> str | None:
    """The job worker whose database connection runs a statement now (matching, when the campaign is in `match`)."""
    ports = [r["client_port"] for r in await conn.fetch(
        "SELECT client_port FROM pg_stat_activity WHERE datname = 'gov' AND state = 'active' "
        "AND pid <> pg_backend_pid() AND client_port > 0")]
    live = {pid: name for name, pid in t.job_worker_pids().items()}
    for port in ports:
        for pid in _pids_by_port(f"sport = :{port}"):
            if pid in live:
                return live[pid]
    return None


async def _statuses(conn, campaign_id: str) -> Counter:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM outbox_delivery WHERE campaign_id = $1 "
                            "AND channel = 'sms' GROUP BY status", campaign_id)
    return Counter({r["status"]: r["n"] for r in rows})


class Progress:
    """Samples the campaign's sent count every 0.2 s: the first progress after a fault is the resume."""

    def __init__(self, dsn: str, campaign_id: str):
        self.dsn, self.campaign_id, self.samples = dsn, campaign_id, []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        conn = await asyncpg.connect(self.dsn)  # its own: asyncpg runs one statement at a time per connection
        try:
            while True:
                s = await _statuses(conn, self.campaign_id)
                self.samples.append((time.monotonic(), sum(s[k] for k in SENT)))
                await asyncio.sleep(0.2)
        finally:
            await conn.close()

    def all_sent_after(self, at: float) -> float | None:
        """Seconds from `at` until the sent count reached its last value (the campaign's tail after the fault)."""
        if not self.samples:
            return None
        last = self.samples[-1][1]
        return next((ts - at for ts, n in self.samples if n == last), None)

    def resumed_after(self, at: float, base: int) -> float | None:
        """Seconds from `at` until the sent count first passed `base`, if it did."""
        return next((ts - at for ts, n in self.samples if ts >= at and n > base), None)

    async def stop(self) -> None:
        """Stop sampling."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _wait(predicate, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(step)
    return False


async def run_campaign(t: Topology, *, name: str, fault, timeout: float) -> Result:
    """Publish a fresh SMS policy, let `fault(t, ctx)` strike (it returns (fault end, sent then, note)), wait for the
    campaign to end, and count."""
    result = Result(name)
    async with httpx.AsyncClient(base_url=t.api_url, timeout=30) as client, \
            httpx.AsyncClient(base_url=t.sandbox_url, timeout=60) as sandbox:
        if id(t) not in _ADMINS:
            _ADMINS[id(t)] = await admin_headers(t, client)
        admin = _ADMINS[id(t)]
        restarts = {n: a.restarts for n, a in t.apps.items()}
        (await sandbox.delete("/sandbox/sms/messages")).raise_for_status()
        r = await client.post("/api/v1/admin/policies", headers=admin, json={
            "title": f"故障演练 {name}", "summary": "故障演练", "body": "故障演练", "mode": "auto_grant", "rule": GRANT,
            "benefit": {"name": "津贴", "amount": 100, "unit": "元/月"}, "channels": ["sms"]})
        r.raise_for_status()
        policy_id = r.json()["id"]
        # The audience counted before publishing: a campaign killed mid-match may have no rows to count yet.
        r = await client.post(f"/api/v1/admin/policies/{policy_id}/preview", headers=admin)
        r.raise_for_status()
        audience = r.json()["matched"]
        conn = await asyncpg.connect(pg_dsn(t))
        try:
            published = time.monotonic()
            r = await client.post(f"/api/v1/admin/policies/{policy_id}/publish",
                                  headers={**admin, "Idempotency-Key": f"faults-{name}-{secrets.token_hex(4)}"})
            r.raise_for_status()
            campaign_id = r.json()["campaign_id"]
            progress = Progress(pg_dsn(t), campaign_id)
            ctx = {"conn": await asyncpg.connect(pg_dsn(t)), "campaign_id": campaign_id, "progress": progress}
            try:
                fault_end, base, note = await fault(t, ctx)
            finally:
                await ctx["conn"].close()
            if note:
                result.notes.append(note)

            async def settled() -> bool:
                row = await conn.fetchrow("SELECT status FROM campaign WHERE id = $1", campaign_id)
                s = await _statuses(conn, campaign_id)
                return row["status"] in ("completed", "failed", "cancelled") and not any(s[k] for k in OPEN)

            finished = await _wait(settled, timeout, step=0.5)
            await progress.stop()
            if fault_end is not None:
                result.resume_s = progress.resumed_after(fault_end, base)
                tail = progress.all_sent_after(fault_end)
                if tail is not None:
                    result.notes.append(f"last send {max(tail, 0):.1f} s after the fault")
            campaign = await conn.fetchrow("SELECT status, matched, queued FROM campaign WHERE id = $1", campaign_id)
            rows = await conn.fetch("SELECT id, status, reason, provider_ref FROM outbox_delivery "
                                    "WHERE campaign_id = $1 AND channel = 'sms'", campaign_id)
        finally:
            await conn.close()
        got = (await sandbox.get("/sandbox/sms/messages")).json()["items"]
    by_out = Counter(m.get("out_id") for m in got)
    by_phone = Counter(m["phone"] for m in got)
    expected = {r["id"] for r in rows}
    status = Counter(r["status"] for r in rows)
    # Lost: a row that ended (sent, failed, expired...) and never reached the sandbox, counted per OutId (a row's own
    # id, or the id of the request that carried it with up to SMS_NUMBERS_PER_SEND others: its provider_ref). Rows
    # still open, and people of the audience with no row yet (a match that has not run again), are left uncertain:
    # not told, not given up. Duplicated: a second message to one person (each has one phone and one SMS row).
    ended = Counter(r["provider_ref"] or r["id"] for r in rows if r["status"] not in OPEN)
    result.lost = sum(max(0, n - by_out[out_id]) for out_id, n in ended.items())
    result.duplicated = sum(n - 1 for n in by_phone.values() if n > 1)
    unqueued = max(0, audience - len(expected))
    result.uncertain = sum(status[k] for k in OPEN) + unqueued
    if unqueued:
        result.notes.append(f"{unqueued} of the previewed audience of {audience} have no SMS row yet")
    result.notes.append(
        f"campaign {campaign['status']}, matched {campaign['matched']}, {len(expected)} SMS rows "
        f"({', '.join(f'{k} {v}' for k, v in sorted(status.items()))}); sandbox got {len(got)} messages, "
        f"{len(by_out)} distinct OutIds, {sum(n - 1 for n in by_phone.values() if n > 1)} repeats by phone; "
        f"{'settled' if finished else f'NOT settled after {timeout:.0f} s'} "
        f"{time.monotonic() - published:.0f} s after publish")
    restarted = {n: a.restarts - restarts[n] for n, a in t.apps.items() if a.restarts != restarts[n]}
    if restarted:
        result.notes.append(f"supervisor restarts: {restarted}")
    reasons = Counter(r["reason"] for r in rows if r["status"] not in SENT and r["reason"])
    if reasons:
        result.notes.append("reasons: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common(5)))
    if len(expected) > SANDBOX_LOG_LIMIT:
        result.notes.append(f"over the sandbox's {SANDBOX_LOG_LIMIT}-message log: lost is overstated, use fewer people")
    return result


async def _sent_now(ctx) -> int:
    # Counted after the fault: the sampler's last figure may predate sends the dead worker finished before it died.
    s = await _statuses(ctx["conn"], ctx["campaign_id"])
    return sum(s[k] for k in SENT)


async def _until_sent(ctx, share: float, timeout: float = 120) -> bool:
    conn, campaign_id = ctx["conn"], ctx["campaign_id"]

    async def far() -> bool:
        s = await _statuses(conn, campaign_id)
        total = sum(s.values())
        stage = await conn.fetchval("SELECT stage FROM campaign WHERE id = $1", campaign_id)
        return stage != "match" and total > 0 and sum(s[k] for k in SENT) >= share * total

    return await _wait(far, timeout, step=0.1)


async def kill_while_matching(t: Topology, ctx) -> tuple:
    """SIGKILL the job worker running the match; its supervisor starts it again 1 s later."""
    conn, campaign_id = ctx["conn"], ctx["campaign_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stage = await conn.fetchval("SELECT stage FROM campaign WHERE id = $1", campaign_id)
        if stage != "match":
            return None, 0, "the match ended before a worker was seen running it: no kill (use more --people)"
        name = await worker_matching(t, conn)
        if name:
            t.kill_worker(name)
            return time.monotonic(), 0, f"killed {name} mid-match"
        await asyncio.sleep(0.02)
    return None, 0, "no worker ran the match within 60 s"


async def kill_while_sending(t: Topology, ctx) -> tuple:
    """At a third sent, SIGKILL the job worker with the most connections to the SMS sandbox."""
    if not await _until_sent(ctx, 0.3):
        return None, 0, "the campaign never reached a third sent"
    held = sandbox_connections(t)
    name = worker_sending(t) or "worker1"
    t.kill_worker(name)
    return time.monotonic(), await _sent_now(ctx), f"killed {name} mid-send (connections to the sandbox: {held})"


async def redis_failover(t: Topology, ctx) -> tuple:
    """At a third sent, SENTINEL FAILOVER: the replica becomes the primary."""
    if not await _until_sent(ctx, 0.3):
        return None, 0, "the campaign never reached a third sent"
    before = t.redis_primary()[0]
    t.redis_failover()
    started = time.monotonic()
    await _wait(lambda: asyncio.sleep(0, result=t.redis_primary()[0] != before), 30, step=0.2)
    return time.monotonic(), await _sent_now(ctx), (
        f"primary {before} -> {t.redis_primary()[0]} in {time.monotonic() - started:.1f} s")


async def redis_restart(t: Topology, ctx) -> tuple:
    """At a third sent, stop the Redis primary (SIGTERM) for 5 s and start it again from its append-only file."""
    if not await _until_sent(ctx, 0.3):
        return None, 0, "the campaign never reached a third sent"
    name = t.redis_primary()[0]
    t.redis_stop(name)
    await asyncio.sleep(5)
    t.redis_start(name)
    return time.monotonic(), await _sent_now(ctx), f"{name} down 5 s (appendonly yes)"

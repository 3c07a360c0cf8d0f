"""Scanning a code: online at a terminal, or uploaded later by a terminal that verified it offline.

Every scan is logged, accepted or refused. A scanner learns only its own scene's fields. A code is good
for one transit ride: the first scan takes it (a unique row), so a second gate refuses it online, and an
offline gate's second use is flagged when its batch arrives.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib

from api.codes import cose, scenes
from api.codes.errors import refused
from api.codes.models import CodeScan
from api.codes.service import CodeRuntime, runtime
from api.codes.terminals import TerminalInfo, when
from api.core import db, rawsql
from api.core.batcher import Batcher
from api.core.deps import Deps
from api.core.ids import new_id


class _Verdict(Exception):
    def __init__(self, reason: str, *, code_id: str | None = None, holder_id: int | None = None):
        super().__init__(reason)
        self.reason, self.code_id, self.holder_id = reason, code_id, holder_id


async def _verify(env: CodeRuntime, payload: str, *, at: dt.datetime, scene: str,
                  offline: bool) -> tuple[dict, int, dict]:
    """The claims of a code acceptable at `at` for `scene`, its holder number and the holder's row for the scene."""
    try:
        opened = cose.open_unverified(payload)
        kid = cose.kid_text(opened.kid)
        key = await env.keyring.any_key(kid, env.clock())
        claims = cose.check(opened, key, now=at.timestamp(), skew=env.skew)
        holder_id, issued_at = env.code_ids.open(claims[cose.CLAIM_CTI])
    except cose.CodeRefused as e:
        raise _Verdict(e.reason) from None
    except ValueError:
        raise _Verdict("code_invalid") from None
    code_id = claims[cose.CLAIM_CTI].hex()
    if issued_at != claims[cose.CLAIM_IAT] & 0xFFFFFFFF:
        raise _Verdict("code_invalid", code_id=code_id)
    if scene not in (claims.get(cose.CLAIM_SCENES) or ()):
        raise _Verdict("scene_not_held", code_id=code_id, holder_id=holder_id)
    row = await _batcher(env, f"read:{scene}", functools.partial(scenes.read_for_scans, scene)).submit(holder_id)
    if row is None:
        raise _Verdict("code_invalid", code_id=code_id)
    revoked_before = row["revoked_before"]
    stopped = row["status"] != "active" and not offline
    if stopped or (revoked_before is not None and claims[cose.CLAIM_IAT] <= revoked_before
                   and at.timestamp() >= revoked_before):
        raise _Verdict("code_revoked", code_id=code_id, holder_id=holder_id)
    return claims, holder_id, row


async def _take_ride(code_id: str, *, scan_id: str, terminal_id: str, at: dt.datetime) -> bool:
    """True when this scan takes the code's one ride (or already holds it, on a replayed upload)."""
    took = await rawsql.execute(
        "INSERT INTO code_ride (code_id, scan_id, terminal_id, used_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (code_id) DO NOTHING", [code_id, scan_id, terminal_id, at])
    if took:
        return True
    return await rawsql.fetch_value("SELECT scan_id FROM code_ride WHERE code_id = ?", [code_id]) == scan_id


_SCAN_COLUMNS = ("id", "terminal_id", "scene", "code_id", "holder_id", "outcome", "reason", "source", "used_twice",
                 "scanned_at", "recorded_at")


async def _insert_scans(rows: list[tuple]) -> list[None]:
    # The scans of every request that came in meanwhile, written at once.
    await rawsql.insert_rows("code_scan", _SCAN_COLUMNS, rows)
    return [None] * len(rows)


def _batcher(env: CodeRuntime, name: str, run) -> Batcher:
    batcher = env.batchers.get(name)
    if batcher is None:
        batcher = env.batchers[name] = Batcher(run, hold=rawsql.held)
    return batcher


async def _log(env: CodeRuntime, terminal: TerminalInfo, *, scene: str, outcome: str, at: dt.datetime,
               scan_id: str | None = None, reason: str | None = None, code_id: str | None = None,
               holder_id: int | None = None) -> str:
    """Record an online scan (the answer waits until the row is written)."""
    scan_id = scan_id or new_id("scn")
    stored = db.as_stored(at)
    await _batcher(env, "log", _insert_scans).submit(
        (scan_id, terminal.id, scene, code_id, holder_id, outcome, reason, "online", False, stored, stored))
    return scan_id


async def scan(*, deps: Deps, terminal: TerminalInfo, payload: str, scene: str,
               now: dt.datetime | None = None) -> dict:
    """Check a code shown at this terminal and answer only `scene`'s fields (the scan is logged either way)."""
    env = runtime(deps)
    now = now or env.clock()
    if scene != terminal.scene:
        await _log(env, terminal, scene=scene, outcome="refused", reason="scene_not_allowed", at=now)
        raise refused("scene_not_allowed")
    try:
        claims, holder_id, row = await _verify(env, payload, at=now, scene=scene, offline=False)
    except _Verdict as v:
        await _log(env, terminal, scene=scene, outcome="refused", reason=v.reason, code_id=v.code_id,
                   holder_id=v.holder_id, at=now)
        raise refused(v.reason) from None
    code_id = claims[cose.CLAIM_CTI].hex()
    data = scenes.answer(scene, row)
    if data is None:
        await _log(env, terminal, scene=scene, outcome="refused", reason="scene_not_held", code_id=code_id,
                   holder_id=holder_id, at=now)
        raise refused("scene_not_held")
    scan_id = new_id("scn")
    outcome, reason = "accepted", None
    if scene == "transit":
        if not data["may_ride"]:
            outcome, reason = "refused", data["reason"]
        elif not await _take_ride(code_id, scan_id=scan_id, terminal_id=terminal.id, at=now):
            await _log(env, terminal, scene=scene, outcome="refused", reason="code_already_used", code_id=code_id,
                       holder_id=holder_id, at=now)
            raise refused("code_already_used")
    await _log(env, terminal, scan_id=scan_id, scene=scene, outcome=outcome, reason=reason, code_id=code_id,
               holder_id=holder_id, at=now)
    return {"scan_id": scan_id, "scene": scene, "code_id": code_id,
            "expires_at": dt.datetime.fromtimestamp(claims[cose.CLAIM_EXP], dt.timezone.utc), **data}


def _offline_scan_id(terminal_id: str, terminal_scan_id: str) -> str:
    # Derived, not random: two uploads of one scan racing each other name the same row and the same ride.
    return "scn_" + hashlib.sha256(f"{terminal_id}:{terminal_scan_id}".encode()).hexdigest()[:32]


async def _judge_offline(env: CodeRuntime, terminal: TerminalInfo, item: dict, *, scan_id: str,
                         now: dt.datetime) -> dict:
    at = when(item["scanned_at"])
    fields = {"outcome": "accepted", "reason": None, "code_id": None, "holder_id": None, "used_twice": False}
    try:
        if at.timestamp() > now.timestamp() + env.skew:
            raise _Verdict("scanned_in_future")
        claims, holder_id, _row = await _verify(env, item["payload"], at=at, scene=terminal.scene, offline=True)
    except _Verdict as v:
        return {**fields, "outcome": "refused", "reason": v.reason, "code_id": v.code_id, "holder_id": v.holder_id}
    code_id = claims[cose.CLAIM_CTI].hex()
    fields.update(code_id=code_id, holder_id=holder_id)
    if terminal.scene == "transit" and not await _take_ride(code_id, scan_id=scan_id, terminal_id=terminal.id, at=at):
        fields.update(used_twice=True, reason="code_already_used")  # the gate let them through: flag it
    return fields


def _item(row: CodeScan) -> dict:
    return {"scan_id": row.terminal_scan_id, "outcome": row.outcome, "reason": row.reason, "code_id": row.code_id,
            "used_twice": row.used_twice}


async def upload_batch(*, deps: Deps, terminal: TerminalInfo, items: list[dict],
                       now: dt.datetime | None = None) -> dict:
    """Record the scans an offline terminal verified; each once, however often the batch is sent."""
    env = runtime(deps)
    now = now or env.clock()
    ids = {item["scan_id"]: _offline_scan_id(terminal.id, item["scan_id"]) for item in items}
    existing = {s.terminal_scan_id for s in
                await CodeScan.filter(terminal_id=terminal.id, terminal_scan_id__in=list(ids)).only("terminal_scan_id")}
    rows, seen = [], set(existing)
    for item in items:
        if item["scan_id"] in seen:
            continue
        seen.add(item["scan_id"])
        verdict = await _judge_offline(env, terminal, item, scan_id=ids[item["scan_id"]], now=now)
        rows.append(CodeScan(id=ids[item["scan_id"]], terminal_id=terminal.id, scene=terminal.scene, source="offline",
                             terminal_scan_id=item["scan_id"], scanned_at=when(item["scanned_at"]), **verdict))
    if rows:
        await CodeScan.bulk_create(rows, ignore_conflicts=True)
    stored = {s.terminal_scan_id: s for s in
              await CodeScan.filter(terminal_id=terminal.id, terminal_scan_id__in=list(ids))}
    answers = [_item(stored[sid]) for sid in dict.fromkeys(item["scan_id"] for item in items) if sid in stored]
    return {"recorded": len(rows), "already_recorded": len(existing), "items": answers,
            "flagged": [a["scan_id"] for a in answers if a["used_twice"]]}

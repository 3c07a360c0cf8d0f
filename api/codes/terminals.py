"""Scanning terminals: registered by admins for one scene and department, authenticated by id and secret."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from api.codes.models import Terminal
from api.core import audit
from api.core.errors import NotFound
from api.core.pagination import Page, PageRequest, paginate
from api.core.workdays import utc_now

CACHE_SECONDS = 300


class SecretHasher:
    """Keyed SHA-256 of terminal secrets: they are 256 random bits, so no slow password hash is needed, and
    the key keeps a stolen table from being checked offline."""

    def __init__(self, key: bytes):
        self._key = hmac.new(key, b"codes.terminal_secret", hashlib.sha256).digest()

    def hash(self, secret: str) -> str:
        """The stored form of a secret."""
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored: str) -> bool:
        """True when `secret` is the one stored (in constant time)."""
        return hmac.compare_digest(self.hash(secret), stored)


def read(terminal: Terminal) -> dict:
    """A terminal as admins see it (never its secret)."""
    return {"terminal_id": terminal.id, "name": terminal.name, "scene": terminal.scene, "dept": terminal.dept,
            "created_at": terminal.created_at, "disabled_at": terminal.disabled_at,
            "status": "disabled" if terminal.disabled_at else "active", "secret": None}


async def register(*, hasher: SecretHasher, actor, name: str, scene: str, dept: str) -> dict:
    """A new terminal and its secret, which is shown this once."""
    secret = secrets.token_urlsafe(32)
    async with in_transaction():
        terminal = await Terminal.create(name=name, scene=scene, dept=dept, secret_hash=hasher.hash(secret),
                                         created_by=actor.actor_id)
        await audit.record_for(actor, action="terminal.register", target_type="terminal", target_id=terminal.id,
                               detail={"scene": scene, "dept": dept})
    return {**read(terminal), "secret": secret}


async def disable(*, actor, redis, terminal_id: str) -> dict:
    """Stop a terminal (lost, stolen, retired): its requests are refused from now on."""
    terminal = await Terminal.get_or_none(id=terminal_id)
    if terminal is None:
        raise NotFound("终端不存在")
    if terminal.disabled_at is None:
        terminal.disabled_at = utc_now()
        async with in_transaction():
            await terminal.save(update_fields=["disabled_at"])
            await audit.record_for(actor, action="terminal.disable", target_type="terminal", target_id=terminal.id)
        await _cache(redis, terminal, overwrite=True)
        for key in [k for k in _checked if k[0] == terminal.id]:
            _checked.pop(key, None)
    return read(terminal)


async def page(*, scene: str | None, paging: PageRequest) -> Page:
    """Registered terminals, newest first."""
    query = Terminal.all() if scene is None else Terminal.filter(scene=scene)
    return (await paginate(query, page=paging)).map(read)


@dataclass(frozen=True)
class TerminalInfo:
    """What a request needs of the terminal making it."""

    id: str
    scene: str
    dept: str
    secret_hash: str
    disabled: bool


def _cache_key(terminal_id: str) -> str:
    return f"codes:terminal:{terminal_id}"


async def _cache(redis, terminal: Terminal, *, overwrite: bool) -> None:
    # Disabling overwrites; a fill after a miss does not, so it cannot bring back an enabled terminal.
    info = {"id": terminal.id, "scene": terminal.scene, "dept": terminal.dept, "secret_hash": terminal.secret_hash,
            "disabled": terminal.disabled_at is not None}
    await redis.set(_cache_key(terminal.id), json.dumps(info), ex=CACHE_SECONDS, nx=not overwrite)


# Credentials this process checked in the last moments: a gate scans many times a second. Disabling a
# terminal reaches other processes within LOCAL_SECONDS (this one at once).
LOCAL_SECONDS = 2.0
_checked: dict[tuple[str, str], tuple[TerminalInfo, float]] = {}


async def authenticate(*, hasher: SecretHasher, redis, terminal_id: str, secret: str) -> TerminalInfo | None:
    """The active terminal these credentials belong to, else None (its record is cached in Redis)."""
    if len(terminal_id) > 40:
        return None
    hit = _checked.get((terminal_id, secret))
    if hit is not None and hit[1] > time.monotonic():
        return hit[0]
    info = await _check(hasher=hasher, redis=redis, terminal_id=terminal_id, secret=secret)
    if info is not None:
        if len(_checked) > 10_000:
            _checked.clear()
        _checked[(terminal_id, secret)] = (info, time.monotonic() + LOCAL_SECONDS)
    return info


async def _check(*, hasher: SecretHasher, redis, terminal_id: str, secret: str) -> TerminalInfo | None:
    raw = await redis.get(_cache_key(terminal_id))
    if raw is None:
        terminal = await Terminal.get_or_none(id=terminal_id)
        if terminal is None:
            return None
        await _cache(redis, terminal, overwrite=False)
        info = TerminalInfo(terminal.id, terminal.scene, terminal.dept, terminal.secret_hash,
                            terminal.disabled_at is not None)
    else:
        info = TerminalInfo(**json.loads(raw))
    if info.disabled or not hasher.matches(secret, info.secret_hash):
        return None
    return info


def when(at: dt.datetime) -> dt.datetime:
    """A terminal-reported time as an aware UTC datetime (naive ones are taken as UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)

"""A citizen's code state (holder number, status, scenes) in Redis, so issuing a code needs no database.

Filled with SET NX after a miss and overwritten (not deleted) on every status change: a fill racing a
freeze can then never put the older, active state back after the freeze wrote its own. Registry
imports change scenes without touching it; the TTL bounds how long a scene outlives its data here (a
scan still reads the registry itself).
"""

from __future__ import annotations

import json

TTL_SECONDS = 300
_KEY = "codes:state:{}"


def key(citizen_id: str) -> str:
    """The Redis key of a citizen's cached code state."""
    return _KEY.format(citizen_id)


def parse(raw: str | None) -> dict | None:
    """The state a Redis read returned (None on a miss)."""
    return json.loads(raw) if raw else None


async def fill(redis, citizen_id: str, state: dict) -> None:
    """Cache the state read from the database, unless a status change wrote one meanwhile."""
    await redis.set(_KEY.format(citizen_id), json.dumps(state), ex=TTL_SECONDS, nx=True)


async def put(redis, citizen_id: str, state: dict) -> None:
    """Cache the state a status change just committed."""
    await redis.set(_KEY.format(citizen_id), json.dumps(state), ex=TTL_SECONDS)

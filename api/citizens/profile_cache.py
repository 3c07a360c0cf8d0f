"""The citizen's profile as `/me` shows it, kept in Redis so the busiest route needs no database.

Only ciphertexts are cached (personal data stays encrypted in Redis as in the database); every
write to a citizen or their platform accounts forgets the entry, and a short TTL bounds what a
write racing a read could leave behind.
"""

from __future__ import annotations

import json

from api.citizens.models import Citizen, PlatformAccount

TTL_SECONDS = 60
_KEY = "citizen:profile:{}"


def key(citizen_id: str) -> str:
    """The Redis key of a citizen's cached profile (for callers that batch it with other reads)."""
    return _KEY.format(citizen_id)


async def load(*, redis, citizen_id: str, cached: str | None = None) -> dict | None:
    """The profile snapshot: `cached` (its Redis value if the caller already read it), Redis, else the
    database (then cached); None if there is no such citizen."""
    raw = cached if cached is not None else await redis.get(_KEY.format(citizen_id))
    if raw is not None:
        return json.loads(raw)
    citizen = await Citizen.get_or_none(id=citizen_id)
    if citizen is None:
        return None
    accounts = await PlatformAccount.filter(citizen_id=citizen.id).order_by("created_at")
    snapshot = {
        "id": citizen.id, "name_enc": citizen.name_enc, "phone_enc": citizen.phone_enc,
        "id_number_enc": citizen.id_number_enc, "assurance_level": citizen.assurance_level,
        "real_name_verified": citizen.real_name_verified_at is not None,
        "platforms": [{"platform": a.platform, "linked_at": a.created_at.isoformat(),
                       "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None}
                      for a in accounts],
    }
    await redis.set(_KEY.format(citizen_id), json.dumps(snapshot), ex=TTL_SECONDS)
    return snapshot


async def forget(*, redis, citizen_ids: list[str]) -> None:
    """Drop the cached profiles after a write (call it after the transaction commits)."""
    if citizen_ids:
        await redis.delete(*(_KEY.format(cid) for cid in citizen_ids))

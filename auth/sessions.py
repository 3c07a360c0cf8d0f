"""Token pairs for citizens and admins."""

from __future__ import annotations

from api.citizens.models import Citizen
from api.core.deps import Deps
from api.core.guards import ADMIN_AUDIENCE, CITIZEN_AUDIENCE
from auth import tokens


async def citizen_pair(*, deps: Deps, citizen: Citizen, family_id: str | None = None) -> dict:
    """A new access token and refresh token for a citizen (a new session unless `family_id`)."""
    refresh, family_id = await tokens.issue_refresh(
        subject_type="citizen", subject_id=citizen.id, ttl_seconds=deps.settings.refresh_token_ttl_seconds,
        family_id=family_id,
    )
    access = deps.tokens.issue_access(
        subject=citizen.id, audience=CITIZEN_AUDIENCE, session_id=family_id, claims={"lvl": citizen.assurance_level}
    )
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": deps.settings.access_token_ttl_seconds}


async def admin_pair(*, deps: Deps, admin, family_id: str | None = None) -> dict:
    """A new token pair for a staff member, carrying roles and departments."""
    refresh, family_id = await tokens.issue_refresh(
        subject_type="admin", subject_id=admin.id, ttl_seconds=deps.settings.admin_refresh_token_ttl_seconds,
        family_id=family_id,
    )
    access = deps.tokens.issue_access(
        subject=admin.id, audience=ADMIN_AUDIENCE, session_id=family_id,
        claims={"roles": admin.roles, "depts": admin.depts, "usr": admin.username},
    )
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": deps.settings.access_token_ttl_seconds}

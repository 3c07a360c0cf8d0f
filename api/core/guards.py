"""Request guards: who is calling (citizen, agent for a citizen, admin) and what they may do.

They import no domain: the access token is checked by `deps.tokens`, the session-revocation marker and any
key the route wants are read through `deps.redis_reads`, an agent's mandate (亲友代办) is asked of
`deps.delegations` and a staff member's current roles and departments of `deps.staff`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from api.core.errors import Forbidden, Unauthorized
from api.core.http import client_ip
from api.core.ids import could_be_id

CITIZEN_AUDIENCE = "citizen"
ADMIN_AUDIENCE = "admin"
# Set on logout or refresh-token reuse (auth.tokens.revoke_family) for as long as the session's access tokens live.
REVOKED_SESSION_KEY = "auth:revoked_sid:{}"


@dataclass
class Actor:
    """The caller of a request, as the audit log records them."""

    kind: str  # citizen, agent, admin
    actor_id: str
    session_id: str
    citizen_id: str | None = None  # whose data the request touches (the principal, for an agent)
    on_behalf_of: str | None = None
    assurance_level: int = 0
    roles: list[str] = field(default_factory=list)
    depts: list[str] = field(default_factory=list)
    request_id: str | None = None
    ip: str | None = None

    @property
    def is_agent(self) -> bool:
        """True when a relative or helper acts for the citizen."""
        return self.on_behalf_of is not None


class InvalidToken(Unauthorized):
    code, message = "invalid_token", "登录凭证无效，请重新登录"


class DelegationDenied(Forbidden):
    code, message = "delegation_denied", "未获得该市民在此事项上的代办授权"


def _bearer(request) -> str:
    header = request.headers.get("authorization", "")
    if not header.isascii():  # no token of ours holds other bytes: refused before any decoder sees them
        raise Unauthorized()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return token.strip()


async def _claims(request, audience: str, *, also_read=None) -> tuple[dict, list]:
    """The token's claims once its session is known to be live, and the Redis values at the keys `also_read`
    gives for the claims, fetched in the same round trip."""
    deps = request.app.ctx.deps
    claims = deps.tokens.decode_access(_bearer(request), audience=audience)
    extra = list(also_read(claims)) if also_read else []
    values = await deps.redis_reads.mget([REVOKED_SESSION_KEY.format(claims["sid"]), *extra])
    if values[0]:
        raise InvalidToken("该登录会话已退出，请重新登录")
    return claims, values[1:]


async def authenticate_citizen(request, *, scope: str | None, also_read=None) -> Actor:
    """The citizen (or agent within `scope`) behind a citizen access token; `also_read(citizen_id)` names one
    more Redis key the route wants read in the same round trip (its value lands in request.ctx.also_read)."""
    principal = request.headers.get("x-on-behalf-of")
    if principal is not None and not (principal.isascii() and could_be_id(principal)):
        raise DelegationDenied("X-On-Behalf-Of 不是市民编号")

    def keys(claims):
        # The key is of whoever the request is about: read before the delegation is checked, handed out after.
        return [also_read(principal or claims["sub"])]

    claims, values = await _claims(request, CITIZEN_AUDIENCE, also_read=keys if also_read else None)
    actor = Actor(kind="citizen", actor_id=claims["sub"], session_id=claims["sid"], citizen_id=claims["sub"],
                  assurance_level=claims.get("lvl", 0), request_id=request.ctx.request_id, ip=client_ip(request))
    if principal and principal != actor.actor_id:
        if scope is None:
            raise DelegationDenied("此操作不能代办")
        level = await request.app.ctx.deps.delegations(principal_id=principal, agent_id=actor.actor_id, scope=scope)
        if level is None:
            raise DelegationDenied()
        actor.kind, actor.citizen_id, actor.on_behalf_of, actor.assurance_level = "agent", principal, principal, level
    request.ctx.also_read = values[0] if also_read else None
    return actor


async def authenticate_admin(request, *, roles: tuple[str, ...]) -> Actor:
    """The staff member behind an admin access token, holding one of `roles` (any role if empty) now."""
    claims, _ = await _claims(request, ADMIN_AUDIENCE)
    # Roles, departments and the disabled flag are read from the account on every request, not from the token:
    # a change by an admin holds at once in every worker, with no cache to invalidate (staff calls are few).
    current = await request.app.ctx.deps.staff(admin_id=claims["sub"])
    if current is None:
        raise InvalidToken("账号已停用，请联系管理员")
    held, depts = current
    if roles and not (set(roles) & set(held)):
        raise Forbidden("当前账号的角色无权执行此操作")
    return Actor(kind="admin", actor_id=claims["sub"], session_id=claims["sid"], roles=list(held), depts=list(depts),
                 request_id=request.ctx.request_id, ip=client_ip(request))


def citizen_required(scope: str | None = None, *, also_read=None):
    """Guard a route for citizens; agents may call it with X-On-Behalf-Of only when `scope` is named.
    `also_read(citizen_id)`: a Redis key to read along with the session check (see authenticate_citizen)."""

    def decorate(handler):
        @wraps(handler)
        async def guarded(request, *args, **kwargs):
            request.ctx.actor = await authenticate_citizen(request, scope=scope, also_read=also_read)
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate


def admin_required(*roles: str):
    """Guard a route for staff holding one of `roles` (any staff member if none are named)."""

    def decorate(handler):
        @wraps(handler)
        async def guarded(request, *args, **kwargs):
            request.ctx.actor = await authenticate_admin(request, roles=roles)
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate

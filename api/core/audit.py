"""The audit trail: admin actions and reads of personal data."""

from __future__ import annotations

from api.core.models import AuditLog
from api.core.pagination import Page, PageRequest, paginate


async def record(*, actor_type: str, actor_id: str, action: str, target_type: str | None = None,
                 target_id: str | None = None, on_behalf_of: str | None = None, request_id: str | None = None,
                 ip: str | None = None, detail: dict | None = None) -> None:
    """Append one audit entry (never with personal data in `detail`)."""
    await AuditLog.create(
        actor_type=actor_type, actor_id=actor_id, action=action, target_type=target_type, target_id=target_id,
        on_behalf_of=on_behalf_of, request_id=request_id, ip=ip, detail=detail or {},
    )


async def record_for(actor, *, action: str, target_type: str | None = None, target_id: str | None = None,
                     detail: dict | None = None) -> None:
    """Append an entry for a request's actor (see api.core.guards.Actor)."""
    await record(
        actor_type=actor.kind, actor_id=actor.actor_id, on_behalf_of=actor.on_behalf_of, action=action,
        target_type=target_type, target_id=target_id, request_id=actor.request_id, ip=actor.ip, detail=detail,
    )


async def page(*, paging: PageRequest, actor_id: str | None = None, target_id: str | None = None,
               action: str | None = None) -> Page:
    """Newest entries first, filtered."""
    query = AuditLog.all()
    if actor_id:
        query = query.filter(actor_id=actor_id)
    if target_id:
        query = query.filter(target_id=target_id)
    if action:
        query = query.filter(action=action)
    return await paginate(query, page=paging)

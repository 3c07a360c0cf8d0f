"""Builds a process's dependencies (server worker or job worker) from settings, and closes them."""

from __future__ import annotations

from api.admin import calendar
from api.admin import service as admin_service
from api.citizens import service as citizens_service
from api.core import db, pii
from api.core.deps import Deps
from api.core.keys import ensure_keys
from api.core.queue import create_job_queue
from api.core.redis import CoalescedReads, create_async_redis
from api.core.settings import Settings
from api.core.storage import LocalDiskStorage
from api.core.workdays import utc_now
from auth.tokens import TokenService
from miniapp_handlers import close_platforms, create_platforms
from notifications import templates as notification_templates


async def open_deps(settings: Settings) -> Deps:
    """Open the database and Redis and make the clients (inside the running loop: pools never cross a fork)."""
    settings = ensure_keys(settings)
    pii.configure(settings)
    await db.open_db(settings)
    redis = create_async_redis(settings)
    deps = Deps(
        settings=settings, redis=redis, redis_reads=CoalescedReads(redis), clock=utc_now,
        jobs=await create_job_queue(settings), storage=LocalDiskStorage(settings.data_dir / "uploads"),
        platforms=create_platforms(settings),
        tokens=TokenService(private_key_pem=settings.jwt_private_key, issuer=settings.jwt_issuer,
                            access_ttl=settings.access_token_ttl_seconds),
        delegations=citizens_service.delegated_level, staff=admin_service.current_grants,
    )
    notification_templates.of(deps)  # a bad message template stops the start, not a send
    await calendar.start(deps)  # the loaded holiday years; an error in the log while a needed year is missing
    return deps


async def close_deps(deps: Deps) -> None:
    """Close what `open_deps` opened."""
    await calendar.stop(deps)
    await deps.jobs.close()
    await close_platforms(deps.platforms)
    await deps.redis.aclose()
    await db.close_db()

"""Background jobs (arq): each states its retries, is idempotent and ends in a terminal state."""

from __future__ import annotations

import datetime as dt

from arq import cron
from arq.connections import RedisSettings

from api.core import db, pii
from api.core.keys import ensure_keys
from api.core.logging import configure_logging, get_logger
from api.core.settings import Settings, load_settings
from auth.models import RefreshToken

log = get_logger("api.jobs")


async def purge_expired_refresh_tokens(ctx) -> int:
    """Delete refresh tokens that expired more than a day ago (safe to run any number of times)."""
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    deleted = await RefreshToken.filter(expires_at__lt=cutoff).delete()
    log.info("purged_refresh_tokens", count=deleted)
    return deleted


async def purge_idempotency_records(ctx) -> int:
    """Forget Idempotency-Key answers older than a week (a client retries within minutes, not weeks)."""
    from api.core.models import IdempotencyRecord

    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)
    deleted = await IdempotencyRecord.filter(created_at__lt=cutoff).delete()
    log.info("purged_idempotency_records", count=deleted)
    return deleted


async def scan_deadlines(ctx) -> dict:
    """Move open cases to `warning`/`overdue` and tell their departments (each notice once per case and state)."""
    from api.applications import staff

    result = await staff.scan_deadlines()
    log.info("scanned_deadlines", **result)
    return result


async def _startup(ctx) -> None:
    settings = ensure_keys(load_settings())
    configure_logging(settings.log_level)
    pii.configure(settings)
    await db.open_db(settings)


async def _shutdown(ctx) -> None:
    await db.close_db()


def worker_settings(settings: Settings) -> dict:
    """The arq worker configuration for these settings."""
    return {
        "functions": [purge_expired_refresh_tokens, purge_idempotency_records, scan_deadlines],
        "cron_jobs": [cron(purge_expired_refresh_tokens, minute={17}, max_tries=3, unique=True),
                      cron(purge_idempotency_records, hour={3}, minute={40}, max_tries=3, unique=True),
                      cron(scan_deadlines, minute={2, 17, 32, 47}, max_tries=3, unique=True)],
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "max_tries": 5,
        "job_timeout": 300,
        "keep_result": 3600,
    }

"""Background jobs (arq): each states its retries, is idempotent and ends in a terminal state."""

from __future__ import annotations

import datetime as dt

from arq import cron, func
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
    deleted = await RefreshToken.filter(expires_at__lt=db.as_stored(cutoff)).delete()
    log.info("purged_refresh_tokens", count=deleted)
    return deleted


async def purge_idempotency_records(ctx) -> int:
    """Forget Idempotency-Key answers older than a week (a client retries within minutes, not weeks)."""
    from api.core.models import IdempotencyRecord

    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=7)
    deleted = await IdempotencyRecord.filter(created_at__lt=db.as_stored(cutoff)).delete()
    log.info("purged_idempotency_records", count=deleted)
    return deleted


async def purge_code_revocations(ctx) -> int:
    """Drop revocations of codes that have expired anyway (terminals refuse those by their expiry)."""
    from api.codes import service as codes

    deleted = await codes.purge_revocations(now=dt.datetime.now(dt.timezone.utc))
    log.info("purged_code_revocations", count=deleted)
    return deleted


async def scan_deadlines(ctx) -> dict:
    """Move open cases to `warning`/`overdue` and tell their departments (each notice once per case and state)."""
    from api.applications import staff

    result = await staff.scan_deadlines()
    log.info("scanned_deadlines", **result)
    return result


async def run_import_job(ctx, job_id: str) -> dict:
    """Import an uploaded registry file (rows already written are updated in place when a retry repeats them)."""
    from api.citizens import imports

    return await imports.run_job(job_id=job_id, storage=ctx["storage"])


async def run_campaign(ctx, campaign_id: str) -> str:
    """Match a campaign's policy over the population, record grants and queue deliveries (idempotent)."""
    from api.policies import campaigns

    return await campaigns.run(campaign_id=campaign_id, jobs=ctx["jobs"], settings=ctx["settings"])


async def send_deliveries(ctx, campaign_id: str) -> dict:
    """Send a campaign's queued deliveries, batch by batch, until none is left or the campaign stops."""
    from notifications import sender

    return await sender.send_campaign(campaign_id=campaign_id, env=ctx["push"])


async def campaign_watchdog(ctx) -> int:
    """Restart senders for running campaigns whose senders went quiet (a worker died): nothing is left behind."""
    from api.policies import campaigns

    return await campaigns.watchdog(jobs=ctx["jobs"], settings=ctx["settings"], redis=ctx["app_redis"])


def build_context(ctx: dict, *, settings: Settings, redis, jobs, platforms, storage, sms) -> None:
    """Fill a job context with what the jobs use (the same objects the app holds, when inline)."""
    from notifications.sender import PushEnv

    # arq puts its own bytes client at ctx["redis"]; ours (decoding) lives at "app_redis".
    ctx.update(settings=settings, app_redis=redis, jobs=jobs, storage=storage,
               push=PushEnv(settings=settings, redis=redis, platforms=platforms, sms=sms))


async def _startup(ctx) -> None:
    from api.applications.storage import LocalDiskStorage
    from api.core.queue import create_job_queue
    from api.core.redis import create_async_redis
    from miniapp_handlers import create_platforms
    from notifications.sms import create_sms_client

    settings = ensure_keys(load_settings())
    configure_logging(settings.log_level)
    pii.configure(settings)
    await db.open_db(settings)
    build_context(ctx, settings=settings, redis=create_async_redis(settings),
                        jobs=await create_job_queue(settings), platforms=create_platforms(settings),
                        storage=LocalDiskStorage(settings.data_dir / "uploads"), sms=create_sms_client(settings))


async def _shutdown(ctx) -> None:
    from miniapp_handlers import close_platforms

    await close_platforms(ctx["push"].platforms)
    await ctx["push"].sms.close()
    await ctx["jobs"].close()
    await ctx["app_redis"].aclose()
    await db.close_db()


def worker_settings(settings: Settings) -> dict:
    """The arq worker configuration for these settings."""
    queue = settings.job_queue

    def cron_of(coroutine, **when):
        # arq makes a unique cron run's job id from the job's name and time alone; without the queue in the
        # name, another deployment (or test queue) on the same Redis takes every run and this one's never runs.
        return cron(coroutine, name=f"cron:{queue}:{coroutine.__name__}", unique=True, **when)

    return {
        "functions": [purge_expired_refresh_tokens, purge_idempotency_records, purge_code_revocations, scan_deadlines,
                      func(run_import_job, timeout=3600, max_tries=3),
                      func(run_campaign, timeout=600, max_tries=5),
                      func(send_deliveries, timeout=3600, max_tries=5)],
        "cron_jobs": [cron_of(purge_expired_refresh_tokens, minute={17}, max_tries=3),
                      cron_of(purge_idempotency_records, hour={3}, minute={40}, max_tries=3),
                      cron_of(purge_code_revocations, minute={7, 37}, max_tries=3),
                      cron_of(scan_deadlines, minute={2, 17, 32, 47}, max_tries=3),
                      cron_of(campaign_watchdog, second=set(range(0, 60, 5)), max_tries=1, run_at_startup=True)],
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url) if settings.redis_url else None,
        "queue_name": settings.job_queue,
        "max_jobs": 8,
        "max_tries": 5,
        "job_timeout": 300,
        "keep_result": 60,
    }

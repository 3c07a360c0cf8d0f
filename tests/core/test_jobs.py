"""Housekeeping jobs are idempotent."""

import datetime as dt

from auth.jobs import purge_expired_refresh_tokens
from auth.models import RefreshToken


async def test_purge_removes_only_long_expired_tokens(live):
    now = dt.datetime.now(dt.timezone.utc)
    old = await RefreshToken.create(token_hash="h-old-" + now.isoformat(), family_id="ses_x", subject_type="citizen",
                                    subject_id="cit_x", expires_at=now - dt.timedelta(days=3))
    fresh = await RefreshToken.create(token_hash="h-new-" + now.isoformat(), family_id="ses_x",
                                      subject_type="citizen", subject_id="cit_x", expires_at=now + dt.timedelta(days=3))
    assert await purge_expired_refresh_tokens({}) >= 1
    assert await purge_expired_refresh_tokens({}) == 0  # running again changes nothing
    assert not await RefreshToken.exists(id=old.id)
    assert await RefreshToken.exists(id=fresh.id)


async def test_purge_forgets_only_old_idempotency_records(live):
    from api.core.jobs import purge_idempotency_records
    from api.core.models import IdempotencyRecord

    old = await IdempotencyRecord.create(scope="s", key=f"old-{dt.datetime.now().timestamp()}", body_hash="h",
                                         status=201, response={})
    await IdempotencyRecord.filter(id=old.id).update(created_at=dt.datetime.now(dt.timezone.utc)
                                                     - dt.timedelta(days=8))
    fresh = await IdempotencyRecord.create(scope="s", key=f"new-{dt.datetime.now().timestamp()}", body_hash="h",
                                           status=201, response={})
    assert await purge_idempotency_records({}) >= 1
    assert not await IdempotencyRecord.exists(id=old.id) and await IdempotencyRecord.exists(id=fresh.id)


def test_cron_runs_of_two_queues_on_one_redis_do_not_collide(live):
    # arq keys a unique cron run by name and time only: queues sharing names would take each other's runs.
    from worker import worker_settings

    names = [{c.name for c in worker_settings(live.settings.model_copy(update={"job_queue": q}))["cron_jobs"]}
             for q in ("arq:queue", "other")]
    assert names[0] and not names[0] & names[1]
    assert all(c.unique for c in worker_settings(live.settings)["cron_jobs"])

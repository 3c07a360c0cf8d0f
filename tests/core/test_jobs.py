"""Housekeeping jobs are idempotent."""

import datetime as dt

from api.core.jobs import purge_expired_refresh_tokens
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

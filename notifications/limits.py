"""Per-citizen limits on policy pushes, across all campaigns: quiet hours and the rolling weekly cap.

They apply to campaign rows on the external channels (WeChat, Alipay, SMS) only: the inbox row is always
written at once, and an event message (an outbox row with no campaign) ignores both. The time of day is
`deps.clock`'s, read through `now` only, so tests can move it.
"""

from __future__ import annotations

import datetime as dt

from api.core.deps import Deps
from api.core.settings import Settings
from api.core.workdays import SHANGHAI

WEEK = dt.timedelta(days=7)


def now(deps: Deps) -> dt.datetime:
    """The current time as the push limits see it (`deps.clock`), in UTC."""
    return deps.clock().astimezone(dt.timezone.utc)


def quiet_until(settings: Settings, at: dt.datetime) -> dt.datetime | None:
    """The end of the quiet period `at` falls in (UTC), or None when pushes may go out at `at`."""
    start, end = settings.push_quiet_start, settings.push_quiet_end
    if start == end:
        return None
    local = at.astimezone(SHANGHAI)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= t < end, local.date()
    else:  # across midnight (22:00 to 08:00)
        inside = t >= start or t < end
        end_day = local.date() + dt.timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=SHANGHAI).astimezone(dt.timezone.utc)

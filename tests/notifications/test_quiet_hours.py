"""The quiet period a time falls in (Beijing time), at its edges and across midnight."""

from __future__ import annotations

import datetime as dt

from api.core.settings import Settings
from api.core.workdays import SHANGHAI
from notifications.limits import quiet_until


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.timezone.utc)


def test_quiet_hours_run_from_22_to_8_beijing_time():
    s = Settings()
    assert quiet_until(s, _at(1, 21, 59)) is None
    assert quiet_until(s, _at(1, 22, 0)) == _at(2, 8)
    assert quiet_until(s, _at(1, 23, 0)) == _at(2, 8)
    assert quiet_until(s, _at(2, 7, 59)) == _at(2, 8)
    assert quiet_until(s, _at(2, 8, 0)) is None


def test_a_daytime_period_and_equal_ends():
    s = Settings(push_quiet_start="12:00", push_quiet_end="14:00")
    assert quiet_until(s, _at(1, 11, 59)) is None and quiet_until(s, _at(1, 14)) is None
    assert quiet_until(s, _at(1, 13)) == _at(1, 14)
    assert quiet_until(Settings(push_quiet_start="00:00", push_quiet_end="00:00"), _at(1, 3)) is None

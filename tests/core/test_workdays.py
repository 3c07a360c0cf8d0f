"""Due dates on the mainland calendar: holidays and make-up working days."""

import datetime as dt

from api.core.workdays import add_working_days, is_working_day, sla_state, working_days_between


def test_national_day_and_the_make_up_saturday():
    # 2026: 1-7 October are holidays, Saturday 10 October is a make-up working day, Sunday 11 is not.
    assert not is_working_day(dt.date(2026, 10, 1))
    assert is_working_day(dt.date(2026, 10, 10))
    assert not is_working_day(dt.date(2026, 10, 11))
    # Accepted on Wednesday 30 September with 5 working days: 8, 9, 10 (make-up Saturday), 12, 13 October.
    assert add_working_days(dt.date(2026, 9, 30), 5) == dt.date(2026, 10, 13)
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 13)) == 5


def test_an_ordinary_week_skips_the_weekend():
    assert add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday → Monday


def test_sla_states():
    due = dt.date(2026, 11, 25)
    assert sla_state(due_date=due, on=dt.date(2026, 11, 24), paused=False) == "on_track"
    assert sla_state(due_date=due, on=due, paused=False) == "warning"
    assert sla_state(due_date=due, on=dt.date(2026, 11, 26), paused=False) == "overdue"
    assert sla_state(due_date=due, on=dt.date(2026, 11, 26), paused=True) == "paused"

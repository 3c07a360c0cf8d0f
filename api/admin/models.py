"""Admin and staff accounts, and the working-day calendar's loaded years."""

from tortoise import fields
from tortoise.models import Model

from api.core.models import keyed

ROLES = ("super_admin", "policy_admin", "reviewer", "auditor")


class AdminAccount(keyed("adm")):
    """A staff member: roles, departments (for reviewers), a memory-hard password hash, lock-out."""

    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.TextField()
    roles = fields.JSONField(default=list)
    depts = fields.JSONField(default=list)
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    disabled = fields.BooleanField(default=False)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "admin_account"


class WorkCalendarYear(Model):
    """A year of the working-day calendar an admin loaded (the State Council's notice): it extends chinese-calendar's
    years, or replaces the built-in one of the same year."""

    year = fields.IntField(primary_key=True, generated=False)
    source = fields.CharField(max_length=200)  # the notice, e.g. 国办发明电〔2026〕N号
    days = fields.JSONField()  # [{"date", "kind": "holiday"|"workday", "name"}], in date order
    loaded_by = fields.CharField(max_length=40)  # the admin's id, or "cli"
    loaded_at = fields.DatetimeField()  # set by every load: processes compare it to see a change

    class Meta:
        table = "work_calendar_year"

"""Admin and staff accounts."""

from tortoise import fields

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

"""Admin and staff accounts."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id

ROLES = ("super_admin", "policy_admin", "reviewer", "auditor")


class AdminAccount(Model):
    """A staff member: roles, departments (for reviewers), a memory-hard password hash, lock-out."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("adm"))
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.TextField()
    roles = fields.JSONField(default=list)
    depts = fields.JSONField(default=list)
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    disabled = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "admin_account"

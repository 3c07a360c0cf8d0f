"""Refresh tokens, stored hashed, in families that rotate."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id


class RefreshToken(Model):
    """One refresh token; a family is one login session, revoked whole on logout or reuse."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("rft"))
    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.CharField(max_length=40, db_index=True)
    subject_type = fields.CharField(max_length=16)  # citizen, admin
    subject_id = fields.CharField(max_length=40, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"

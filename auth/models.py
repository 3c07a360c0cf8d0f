"""Refresh tokens, stored hashed, in families that rotate."""

from tortoise import fields

from api.core.models import keyed


class RefreshToken(keyed("rft")):
    """One refresh token; a family is one login session, revoked whole on logout or reuse."""

    token_hash = fields.CharField(max_length=64, unique=True)
    family_id = fields.CharField(max_length=40, db_index=True)
    subject_type = fields.CharField(max_length=16)  # citizen, admin
    subject_id = fields.CharField(max_length=40, db_index=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "refresh_token"

"""Certificate requests and issued certificates."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id


class Certificate(Model):
    """One certificate request: decided at once from registry data, by a reviewer, or refused."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("crt"))
    citizen_id = fields.CharField(max_length=40, db_index=True)
    requested_by = fields.CharField(max_length=40)
    type_code = fields.CharField(max_length=32)
    dept = fields.CharField(max_length=32, db_index=True)
    purpose = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16, db_index=True)  # pending_review, issued, rejected, revoked
    reason = fields.TextField(null=True)
    serial = fields.CharField(max_length=32, unique=True)
    verify_code = fields.CharField(max_length=16)
    facts_enc = fields.TextField(null=True)  # the certified facts (names, id numbers): encrypted
    pdf_key = fields.CharField(max_length=64, null=True)
    issued_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    status_changed_at = fields.DatetimeField(auto_now=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "certificate"

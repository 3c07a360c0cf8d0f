"""Certificate requests and issued certificates."""

from tortoise import fields

from api.core.models import keyed


class Certificate(keyed("crt")):
    """One certificate request: decided at once from registry data, by a reviewer, or refused."""

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

    class Meta:
        table = "certificate"
        indexes = (("dept", "issued_at"),)  # the certificates dashboard's days

"""Cross-domain tables: the audit log and idempotency records."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id


class AuditLog(Model):
    """One admin action or personal-data read: who (and for whom), what, when, from where."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("aud"))
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_type = fields.CharField(max_length=16)  # citizen, agent, admin, system
    actor_id = fields.CharField(max_length=40, db_index=True)
    on_behalf_of = fields.CharField(max_length=40, null=True, db_index=True)
    action = fields.CharField(max_length=64, db_index=True)
    target_type = fields.CharField(max_length=32, null=True)
    target_id = fields.CharField(max_length=40, null=True, db_index=True)
    request_id = fields.CharField(max_length=64, null=True)
    ip = fields.CharField(max_length=64, null=True)
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "audit_log"


class IdempotencyRecord(Model):
    """The first answer to a create request, replayed for the same key and body."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("idm"))
    scope = fields.CharField(max_length=96)
    key = fields.CharField(max_length=128)
    body_hash = fields.CharField(max_length=64)
    status = fields.SmallIntField()
    response = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("scope", "key"),)

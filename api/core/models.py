"""The abstract bases every table is built on, and the cross-domain tables: the audit log and idempotency records."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import MAX_LENGTH, new_id


class Timestamped(Model):
    """A row that records when it was made."""

    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        abstract = True


def keyed(prefix: str, *, created_at: bool = True) -> type[Model]:
    """An abstract base with an opaque string primary key, `new_id(prefix)` (e.g. `cit_3k9v...`), and a
    `created_at` stamp unless `created_at=False` (the table has none, or its own)."""

    class Keyed(Timestamped if created_at else Model):
        id = fields.CharField(max_length=MAX_LENGTH, primary_key=True, default=lambda: new_id(prefix))

        class Meta:
            abstract = True

    Keyed.__name__ = Keyed.__qualname__ = f"Keyed_{prefix}"
    return Keyed


class AuditLog(keyed("aud", created_at=False)):
    """One admin action or personal-data read: who (and for whom), what, when, from where."""

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


class IdempotencyRecord(keyed("idm")):
    """The first answer to a create request, replayed for the same key and body."""

    scope = fields.CharField(max_length=96)
    key = fields.CharField(max_length=128)
    body_hash = fields.CharField(max_length=64)
    status = fields.SmallIntField()
    response = fields.JSONField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("scope", "key"),)

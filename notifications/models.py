"""Inbox messages, staff notices and queued deliveries (the outbox the push workers send from)."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id


class InboxMessage(Model):
    """An in-app message for a citizen."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("msg"))
    citizen_id = fields.CharField(max_length=40)
    title = fields.CharField(max_length=128)
    body = fields.TextField()
    topic = fields.CharField(max_length=32)
    ref_kind = fields.CharField(max_length=32, null=True)
    ref_id = fields.CharField(max_length=40, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_message"
        indexes = (("citizen_id", "created_at"),)


class Delivery(Model):
    """One message to send on one channel; the unique key stops a retry or a crash from sending it twice."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("dlv"))
    dedupe_key = fields.CharField(max_length=160, unique=True)
    citizen_id = fields.CharField(max_length=40, db_index=True)
    channel = fields.CharField(max_length=16)  # subscribe (every linked platform), sms
    topic = fields.CharField(max_length=32)
    payload = fields.JSONField()
    status = fields.CharField(max_length=16, default="queued", db_index=True)
    attempts = fields.SmallIntField(default=0)
    last_error = fields.CharField(max_length=128, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"


class StaffNotice(Model):
    """A notice for a department's staff (a case nearing or past its deadline ...)."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("stn"))
    dept = fields.CharField(max_length=32, db_index=True)
    dedupe_key = fields.CharField(max_length=160, unique=True)
    title = fields.CharField(max_length=128)
    body = fields.TextField()
    ref_kind = fields.CharField(max_length=32, null=True)
    ref_id = fields.CharField(max_length=40, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_notice"

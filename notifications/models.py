"""Inbox messages, staff notices and queued deliveries (the outbox the push workers send from)."""

from tortoise import fields
from tortoise.models import Model

from api.core.models import keyed


class InboxMessage(keyed("msg")):
    """An in-app message for a citizen."""

    citizen_id = fields.CharField(max_length=40)
    title = fields.CharField(max_length=128)
    body = fields.TextField()
    topic = fields.CharField(max_length=32)
    ref_kind = fields.CharField(max_length=32, null=True)
    ref_id = fields.CharField(max_length=40, null=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbox_message"
        indexes = (("citizen_id", "created_at"),)


class OutboxDelivery(keyed("dlv")):
    """One message to one person on one channel (the outbox): the unique key stops a retry, a crash or a second
    campaign from sending it twice; the status records how far the send got."""

    dedupe_key = fields.CharField(max_length=200, unique=True)
    campaign_id = fields.CharField(max_length=40, null=True)
    person_bidx = fields.CharField(max_length=64, null=True)  # campaign rows: the registry person reached
    citizen_id = fields.CharField(max_length=40, null=True, db_index=True)
    channel = fields.CharField(max_length=16)  # wechat, alipay, inbox, sms
    topic = fields.CharField(max_length=32)
    # Event rows: the message kind, its params, page and ref, the channels left to fall to, an SMS-only recipient's
    # sealed phone. Campaign rows take their text from the policy.
    payload = fields.JSONField(null=True)
    # queued, claimed, sending, sent, delivered, failed, skipped, uncertain, expired, cancelled
    status = fields.CharField(max_length=16, default="queued")
    reason = fields.CharField(max_length=48, null=True)
    attempts = fields.SmallIntField(default=0)
    last_error = fields.CharField(max_length=128, null=True)
    claim_id = fields.CharField(max_length=40, null=True)
    lease_until = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    retry_until = fields.DatetimeField(null=True)  # set at the first passing failure: retried until then, then expired
    provider_ref = fields.CharField(max_length=64, null=True)
    sent_at = fields.DatetimeField(null=True)  # handed to the platform (set when sending starts), or delivered

    class Meta:
        table = "outbox_delivery"
        # (person_bidx, sent_at): the weekly cap counts a person's recent policy pushes (notifications/limits.py)
        indexes = (("campaign_id", "status", "channel"), ("status", "lease_until"), ("person_bidx", "sent_at"))


class CampaignDeliveryTally(Model):
    """A change in how many of a campaign's deliveries stand in one channel, status and reason (+n or -n), written
    by the database's triggers on outbox_delivery (migration 20); a campaign's figures are the sums of its rows.
    Status `read` counts the campaign's inbox messages opened (notifications.service.mark_read)."""

    # A sequence, not a random id: the rows are deltas, appended by triggers and folded away (notifications/tally.py).
    id = fields.BigIntField(pk=True)
    campaign_id = fields.CharField(max_length=40, db_index=True)
    channel = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=48, null=True)
    n = fields.BigIntField()

    class Meta:
        table = "campaign_delivery_tally"


class Subscription(keyed("sub", created_at=False)):
    """What a citizen answered to wx.requestSubscribeMessage (or Alipay's) for one template: the consent to spend."""

    citizen_id = fields.CharField(max_length=40)
    platform = fields.CharField(max_length=16)
    template_id = fields.CharField(max_length=64)
    one_time_remaining = fields.IntField(default=0)
    long_term = fields.BooleanField(default=False)
    banned = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "subscription"
        unique_together = (("citizen_id", "platform", "template_id"),)


class NotificationOptOut(keyed("opt")):
    """A channel (wechat, alipay, sms) or a topic (policy, benefit ...) a citizen does not want pushes on."""

    citizen_id = fields.CharField(max_length=40)
    kind = fields.CharField(max_length=8)  # channel, topic
    value = fields.CharField(max_length=32)

    class Meta:
        table = "notification_opt_out"
        unique_together = (("citizen_id", "kind", "value"),)


class StaffNotice(keyed("stn")):
    """A notice for a department's staff (a case nearing or past its deadline ...)."""

    dept = fields.CharField(max_length=32, db_index=True)
    dedupe_key = fields.CharField(max_length=160, unique=True)
    title = fields.CharField(max_length=128)
    body = fields.TextField()
    ref_kind = fields.CharField(max_length=32, null=True)
    ref_id = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "staff_notice"

"""Policies, their campaigns and the people they reached (grants for 免申即享)."""

from tortoise import fields

from api.core.models import keyed


class Policy(keyed("pol")):
    """A policy: its text, the rule that says who it is for, and how it reaches them."""

    title = fields.CharField(max_length=128)
    summary = fields.CharField(max_length=512)
    body = fields.TextField()
    mode = fields.CharField(max_length=16)  # auto_grant (免申即享), notify (精准推送)
    rule = fields.JSONField()
    benefit = fields.JSONField(null=True)
    channels = fields.JSONField()
    apply_url = fields.CharField(max_length=256, null=True)
    valid_from = fields.DateField(null=True)  # the first day the policy applies (None: since publishing)
    valid_until = fields.DateField(null=True)  # the last day it applies (None: until archived)
    status = fields.CharField(max_length=16, default="draft")  # draft, published, archived
    # Editing a published policy makes the next version, a draft: the versions share the first one's id as family.
    family_id = fields.CharField(max_length=40, db_index=True)
    version = fields.IntField(default=1)
    previous_id = fields.CharField(max_length=40, null=True)
    created_by = fields.CharField(max_length=40)
    updated_at = fields.DatetimeField(auto_now=True)
    published_at = fields.DatetimeField(null=True)
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "policy"


class Campaign(keyed("cmp")):
    """One run of a published policy over the population: match, grant, queue, send."""

    policy_id = fields.CharField(max_length=40, db_index=True)
    # awaiting_approval (maker-checker), queued, running, paused, completed, cancelled, failed
    status = fields.CharField(max_length=20, default="queued")
    stage = fields.CharField(max_length=16, default="match")  # match, send, done
    queue_name = fields.CharField(max_length=64)
    as_of = fields.DateField()
    matched = fields.IntField(null=True)
    granted = fields.IntField(null=True)
    queued = fields.IntField(null=True)
    error = fields.CharField(max_length=200, null=True)
    created_by = fields.CharField(max_length=40)
    approved_by = fields.CharField(max_length=40, null=True)
    approved_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    matched_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    # The one run of the campaign's matching step at a time: whoever moves the owner in while the lease is free
    # (api/policies/steps.py); the owner renews the lease while the step runs.
    step_owner = fields.CharField(max_length=40, null=True)
    step_lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "campaign"


class PolicyReach(keyed("grt", created_at=False)):
    """A person a policy reached, once per policy family (all its versions) whatever reruns happen; `granted` for
    免申即享 grants; `policy_id` is the version that reached them."""

    policy_id = fields.CharField(max_length=40, db_index=True)
    family_id = fields.CharField(max_length=40)
    person_bidx = fields.CharField(max_length=64, db_index=True)
    campaign_id = fields.CharField(max_length=40)
    granted = fields.BooleanField()
    status = fields.CharField(max_length=16, default="active")  # active, revoked
    created_at = fields.DatetimeField()

    class Meta:
        table = "policy_reach"
        unique_together = (("family_id", "person_bidx"),)
        # A campaign's chunks read their own slice of its people (by blind-index range), not all of them each time.
        indexes = (("campaign_id", "person_bidx"),)

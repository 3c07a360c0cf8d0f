"""Uploads, applications (a bundle's parent and its per-department sub-cases), timelines, drafts, ratings."""

from tortoise import fields

from api.core.models import keyed


class StoredFile(keyed("fil")):
    """An uploaded file: its bytes live encrypted in the storage, this row says whose they are."""

    owner_id = fields.CharField(max_length=40, db_index=True)  # the citizen the file belongs to
    uploaded_by = fields.CharField(max_length=40)  # the citizen or their agent
    sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    content_type = fields.CharField(max_length=32)
    storage_key = fields.CharField(max_length=128)

    class Meta:
        table = "stored_file"


class Application(keyed("app")):
    """One case. A bundle's application is a parent whose children are one case per department;
    a single item's application is one case with no children. Staff act on cases that have a dept."""

    parent = fields.ForeignKeyField("models.Application", related_name="children", null=True,
                                    on_delete=fields.CASCADE)
    citizen_id = fields.CharField(max_length=40)
    submitted_by = fields.CharField(max_length=40)  # the citizen, or the agent who acted for them
    item_code = fields.CharField(max_length=32, null=True)
    bundle_code = fields.CharField(max_length=32, null=True)
    item_codes = fields.JSONField(default=list)  # the items this case covers
    title = fields.CharField(max_length=128)
    dept = fields.CharField(max_length=32, null=True, db_index=True)  # null for a bundle's parent
    status = fields.CharField(max_length=24, db_index=True)
    form_enc = fields.TextField()  # the form (names, id numbers ...): personal data, encrypted
    materials = fields.JSONField(default=list)
    delivery_method = fields.CharField(max_length=16)
    delivery_address_enc = fields.TextField(null=True)
    carrier = fields.CharField(max_length=32, null=True)  # the express company of `tracking_no`
    tracking_no = fields.CharField(max_length=64, null=True)
    # While the clock is paused on the applicant: {"materials": [codes asked for], "due": ISO date to answer by}.
    supplement = fields.JSONField(null=True)
    applicant_region = fields.CharField(max_length=6)
    handling_region = fields.CharField(max_length=6)
    receiving_region = fields.CharField(max_length=6)
    cross_province = fields.BooleanField(default=False)
    promised_days = fields.SmallIntField()
    due_date = fields.DateField(null=True)
    sla_state = fields.CharField(max_length=16, default="on_track", db_index=True)
    paused_on = fields.DateField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=0)  # optimistic lock: two staff acting at once cannot both win
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "application"
        # (dept, due_date, id): the queue's order within a department; (dept, created_at): the dashboards' days.
        indexes = (("citizen_id", "parent_id", "created_at"), ("dept", "status", "sla_state"),
                   ("dept", "due_date", "id"), ("dept", "created_at"))


class TimelineEntry(keyed("tle", created_at=False)):
    """One move of a case: who, when, from what to what, and why."""

    application_id = fields.CharField(max_length=40, db_index=True)
    at = fields.DatetimeField(auto_now_add=True)
    actor_type = fields.CharField(max_length=16)  # citizen, agent, staff, system
    actor_id = fields.CharField(max_length=40)
    action = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=24, null=True)
    to_status = fields.CharField(max_length=24)
    note = fields.TextField(null=True)

    class Meta:
        table = "application_timeline"


class Draft(keyed("dft")):
    """A half-filled application, finished later from either platform or by an agent."""

    citizen_id = fields.CharField(max_length=40, db_index=True)
    item_code = fields.CharField(max_length=32, null=True)
    bundle_code = fields.CharField(max_length=32, null=True)
    content_enc = fields.TextField()  # form, materials, delivery, regions: encrypted as a whole
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "application_draft"


class Rating(keyed("rat")):
    """好差评: one per application, after completion."""

    application_id = fields.CharField(max_length=40, unique=True)
    citizen_id = fields.CharField(max_length=40)
    score = fields.SmallIntField()
    comment = fields.TextField(null=True)

    class Meta:
        table = "application_rating"
        indexes = (("created_at",),)  # the ratings dashboard's days


class Rectification(keyed("rec")):
    """差评整改: a department must answer a bad rating by a deadline."""

    rating_id = fields.CharField(max_length=40)
    application_id = fields.CharField(max_length=40)
    dept = fields.CharField(max_length=32, db_index=True)
    status = fields.CharField(max_length=16, default="open")
    due_date = fields.DateField()
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rectification"
        unique_together = (("rating_id", "dept"),)

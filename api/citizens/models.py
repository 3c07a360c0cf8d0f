"""Citizens, their platform accounts, registry records and delegations. Personal data is ciphertext."""

from tortoise import fields
from tortoise.models import Model

from api.core.models import keyed


class Citizen(keyed("cit")):
    """One person, however many platform accounts reach them."""

    name_enc = fields.TextField(null=True)
    phone_enc = fields.TextField(null=True)
    phone_bidx = fields.CharField(max_length=64, null=True, unique=True)
    id_number_enc = fields.TextField(null=True)
    id_number_bidx = fields.CharField(max_length=64, null=True, unique=True)
    assurance_level = fields.SmallIntField(default=0)
    real_name_verified_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "citizen"


class PlatformAccount(keyed("pla")):
    """A WeChat openid or Alipay user id linked to a citizen."""

    citizen = fields.ForeignKeyField("models.Citizen", related_name="platform_accounts", on_delete=fields.CASCADE)
    platform = fields.CharField(max_length=16)
    appid = fields.CharField(max_length=64)
    platform_uid = fields.CharField(max_length=128)
    unionid = fields.CharField(max_length=128, null=True, db_index=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "platform_account"
        unique_together = (("platform", "appid", "platform_uid"),)
        indexes = (("citizen_id", "platform"),)


class RegistryRow(Model):
    """What every registry dataset's row has: the id-number blind index it is keyed on, the columns no rule
    reads (encrypted) and when it was imported and last updated."""

    id_number_bidx = fields.CharField(max_length=64, unique=True)
    extra_enc = fields.TextField(null=True)
    # The import that last wrote the row and the file line it came from: a later line of the same file with the
    # same id number is a duplicate, rejected, not a silent second write.
    import_id = fields.CharField(max_length=40, null=True)
    import_line = fields.IntField(null=True)
    imported_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class PopulationRecord(keyed("pop", created_at=False), RegistryRow):
    """A row of the population registry (户籍人口), as delivered by the public security department."""

    id_number_enc = fields.TextField()
    name_enc = fields.TextField()
    gender = fields.CharField(max_length=8, null=True)
    birth_date = fields.DateField(null=True)
    # Encrypted, with no blind index: nothing looks a registry row up by phone (a phone is no proof of who someone
    # is, and families share them), so a keyed hash of every resident's phone would be personal data kept for no
    # purpose, and cost every imported row an HMAC and 65 bytes of table and WAL (migration 17).
    # The database keeps `has_phone` (phone_enc IS NOT NULL, a generated column outside this model: migration 19),
    # which the PostgreSQL key index carries for campaigns' queueing.
    phone_enc = fields.TextField(null=True)
    hukou_region = fields.CharField(max_length=6, null=True, db_index=True)
    address_enc = fields.TextField(null=True)

    class Meta:
        table = "population_record"
        # Rules filter the population on these (policy previews and publish); the PostgreSQL index also carries
        # the blind index, so a rule's registry joins read no table row (an index-only scan).
        indexes = (("gender", "birth_date", "hukou_region"),)


class Delegation(keyed("dlg")):
    """A citizen's authorisation for a relative or helper to act within some scopes (亲友代办)."""

    principal = fields.ForeignKeyField("models.Citizen", related_name="delegations_given", on_delete=fields.CASCADE)
    agent = fields.ForeignKeyField(
        "models.Citizen", related_name="delegations_received", null=True, on_delete=fields.CASCADE
    )
    agent_phone_enc = fields.TextField()
    agent_phone_bidx = fields.CharField(max_length=64, db_index=True)
    scopes = fields.JSONField(default=list)
    status = fields.CharField(max_length=16, default="pending")  # pending, active, revoked, declined
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    declined_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delegation"


class DisabilityRecord(keyed("dis", created_at=False), RegistryRow):
    """A row of the disability registry (残疾人证), as delivered by the disabled persons' federation."""

    certificate_no_enc = fields.TextField()
    disability_type = fields.CharField(max_length=16)
    disability_level = fields.CharField(max_length=8)
    issued_at = fields.DateField(null=True)

    class Meta:
        table = "disability_record"


class SocialInsuranceRecord(keyed("ssr", created_at=False), RegistryRow):
    """A row of the social insurance registry (社会保险参保): the social security card and its status."""

    card_no_enc = fields.TextField()
    status = fields.CharField(max_length=16)
    insured_since = fields.DateField(null=True)

    class Meta:
        table = "social_insurance_record"


class HealthCardRecord(keyed("hcr", created_at=False), RegistryRow):
    """A row of the electronic health card registry (电子健康卡), as delivered by the health commission."""

    health_card_no_enc = fields.TextField()

    class Meta:
        table = "health_card_record"


class TransitRecord(keyed("trr", created_at=False), RegistryRow):
    """A row of the transit ride-account registry (乘车码账户) and its standing."""

    ride_account_enc = fields.TextField()
    standing = fields.CharField(max_length=16)

    class Meta:
        table = "transit_record"


class LowIncomeRecord(keyed("lir", created_at=False), RegistryRow):
    """A row of the civil affairs low-income registry (低保, 特困, 低边)."""

    category = fields.CharField(max_length=16)
    since = fields.DateField(null=True)

    class Meta:
        table = "low_income_record"


class ImportJob(keyed("imp")):
    """An upload of a registry dataset being imported in the background, with its progress and error report."""

    dataset = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16, default="queued")  # queued, running, completed, failed
    file_key = fields.CharField(max_length=200, null=True)
    total_rows = fields.IntField(null=True)
    processed = fields.IntField(default=0)  # always inserted + updated + rejected, committed with the rows
    inserted = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    rejected = fields.IntField(default=0)
    errors = fields.JSONField(default=list)  # [{"line", "reason"}], the first 1000 (all: ImportRejection)
    error = fields.CharField(max_length=200, null=True)
    created_by = fields.CharField(max_length=40)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "import_job"


class ImportRejection(keyed("rej", created_at=False)):
    """A row an import did not write: its file line, the reason and its id number masked (no content in clear)."""

    job_id = fields.CharField(max_length=40)
    line = fields.IntField()
    reason = fields.CharField(max_length=255)
    id_number_masked = fields.CharField(max_length=18, null=True)

    class Meta:
        table = "import_rejection"
        unique_together = (("job_id", "line"),)


class RegistryCorrection(keyed("fbk")):
    """A citizen's request to correct or complete registry data (数据纠错), seen by the admins."""

    citizen_id = fields.CharField(max_length=40, db_index=True)
    dataset = fields.CharField(max_length=32)
    field = fields.CharField(max_length=48, null=True)
    policy_id = fields.CharField(max_length=40, null=True)
    message_enc = fields.TextField()
    status = fields.CharField(max_length=16, default="open")  # open, resolved
    reply = fields.TextField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.CharField(max_length=40, null=True)

    class Meta:
        table = "registry_correction"

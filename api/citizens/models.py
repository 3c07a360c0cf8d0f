"""Citizens, their platform accounts, registry records and delegations. Personal data is ciphertext."""

from tortoise import fields
from tortoise.models import Model

from api.core.ids import new_id


class Citizen(Model):
    """One person, however many platform accounts reach them."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("cit"))
    name_enc = fields.TextField(null=True)
    phone_enc = fields.TextField(null=True)
    phone_bidx = fields.CharField(max_length=64, null=True, unique=True)
    id_number_enc = fields.TextField(null=True)
    id_number_bidx = fields.CharField(max_length=64, null=True, unique=True)
    assurance_level = fields.SmallIntField(default=0)
    real_name_verified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "citizen"


class PlatformAccount(Model):
    """A WeChat openid or Alipay user id linked to a citizen."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("pla"))
    citizen = fields.ForeignKeyField("models.Citizen", related_name="platform_accounts", on_delete=fields.CASCADE)
    platform = fields.CharField(max_length=16)
    appid = fields.CharField(max_length=64)
    platform_uid = fields.CharField(max_length=128)
    unionid = fields.CharField(max_length=128, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "platform_account"
        unique_together = (("platform", "appid", "platform_uid"),)


class PopulationRecord(Model):
    """A row of the population registry (户籍人口), as delivered by the public security department."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("pop"))
    id_number_bidx = fields.CharField(max_length=64, unique=True)
    id_number_enc = fields.TextField()
    name_enc = fields.TextField()
    gender = fields.CharField(max_length=8, null=True)
    birth_date = fields.DateField(null=True)
    phone_enc = fields.TextField(null=True)
    phone_bidx = fields.CharField(max_length=64, null=True, db_index=True)
    hukou_region = fields.CharField(max_length=6, null=True, db_index=True)
    address_enc = fields.TextField(null=True)
    extra_enc = fields.TextField(null=True)
    imported_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "population_record"


class Delegation(Model):
    """A citizen's authorisation for a relative or helper to act within some scopes (亲友代办)."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("dlg"))
    principal = fields.ForeignKeyField("models.Citizen", related_name="delegations_given", on_delete=fields.CASCADE)
    agent = fields.ForeignKeyField(
        "models.Citizen", related_name="delegations_received", null=True, on_delete=fields.CASCADE
    )
    agent_phone_enc = fields.TextField()
    agent_phone_bidx = fields.CharField(max_length=64, db_index=True)
    scopes = fields.JSONField(default=list)
    status = fields.CharField(max_length=16, default="pending")  # pending, active, revoked
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delegation"


class DisabilityRecord(Model):
    """A row of the disability registry (残疾人证), as delivered by the disabled persons' federation."""

    id = fields.CharField(max_length=40, primary_key=True, default=lambda: new_id("dis"))
    id_number_bidx = fields.CharField(max_length=64, unique=True)
    certificate_no_enc = fields.TextField()
    disability_type = fields.CharField(max_length=16)
    disability_level = fields.CharField(max_length=8)
    issued_at = fields.DateField(null=True)
    imported_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "disability_record"

"""Departments, service items and bundles, as loaded from the catalogue file."""

from tortoise import fields
from tortoise.models import Model


class Department(Model):
    """A department that handles items (and whose staff review their cases)."""

    code = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=64)

    class Meta:
        table = "department"


class ServiceItem(Model):
    """A service item with the national standard's elements (the same at every level: 三级四同)."""

    code = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=128)
    dept = fields.CharField(max_length=32, db_index=True)
    type = fields.CharField(max_length=16)
    theme = fields.CharField(max_length=16, db_index=True)
    keywords = fields.JSONField(default=list)
    legal_basis = fields.TextField()
    legal_days = fields.SmallIntField()
    promised_days = fields.SmallIntField()
    online_depth = fields.CharField(max_length=16)
    cross_province = fields.BooleanField(default=False)
    levels = fields.JSONField(default=list)
    min_assurance_level = fields.SmallIntField(default=2)
    fees = fields.CharField(max_length=128)
    delivery_methods = fields.JSONField(default=list)
    materials = fields.JSONField(default=list)
    form_schema = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "service_item"


class Bundle(Model):
    """一件事: several items from several departments behind one form and one material list."""

    code = fields.CharField(max_length=32, primary_key=True)
    name = fields.CharField(max_length=128)
    description = fields.TextField()
    theme = fields.CharField(max_length=16)
    keywords = fields.JSONField(default=list)
    item_codes = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bundle"

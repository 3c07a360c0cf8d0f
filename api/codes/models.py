"""One person, one code: holders, signing keys, terminals, revocations, scans and transit rides."""

from tortoise import fields
from tortoise.models import Model

from api.core.models import Timestamped, keyed


class CodeHolder(Timestamped):
    """A citizen who has asked for a code; the number inside every code id, and whether codes may be used."""

    id = fields.BigIntField(primary_key=True)  # sealed inside each code id: never shown as is
    citizen_id = fields.CharField(max_length=40, unique=True)
    status = fields.CharField(max_length=16, default="active")  # active, frozen (by the citizen), revoked (admin)
    status_reason = fields.CharField(max_length=200, null=True)
    # Every code issued at or before this epoch second is refused, whatever the status becomes later.
    revoked_before = fields.BigIntField(null=True)
    status_changed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "code_holder"


class CodeSigningKey(Timestamped):
    """An Ed25519 key that signs codes between `not_before` and `not_after`, published until `publish_until`."""

    kid = fields.CharField(max_length=24, primary_key=True)
    public_key = fields.CharField(max_length=64)  # raw, base64url
    private_key_enc = fields.TextField(null=True)  # wiped once the key has retired
    not_before = fields.DatetimeField(unique=True)
    not_after = fields.DatetimeField()
    publish_until = fields.DatetimeField()

    class Meta:
        table = "code_signing_key"


class Terminal(keyed("trm")):
    """A scanner registered for one scene and department; only a hash of its secret is kept."""

    name = fields.CharField(max_length=100)
    scene = fields.CharField(max_length=24)
    dept = fields.CharField(max_length=64)
    secret_hash = fields.CharField(max_length=64)
    created_by = fields.CharField(max_length=40)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "code_terminal"


class CodeRevocation(Model):
    """A code id terminals must refuse until the code would have expired anyway."""

    id = fields.BigIntField(primary_key=True)  # the `since` cursor of the revocation list
    code_id = fields.CharField(max_length=32, unique=True)
    reason = fields.CharField(max_length=16)  # frozen, revoked
    revoked_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "code_revocation"


class CodeScan(keyed("scn", created_at=False)):
    """One scan, online or uploaded from an offline terminal, accepted or refused."""

    terminal_id = fields.CharField(max_length=40)
    scene = fields.CharField(max_length=24)
    # Not indexed: no query looks scans up by code id (a code's holder is in the id), and it is the hottest write.
    code_id = fields.CharField(max_length=32, null=True)
    holder_id = fields.BigIntField(null=True, db_index=True)
    outcome = fields.CharField(max_length=16)  # accepted, refused
    reason = fields.CharField(max_length=32, null=True)
    source = fields.CharField(max_length=8)  # online, offline
    terminal_scan_id = fields.CharField(max_length=64, null=True)  # the terminal's own id for an offline scan
    used_twice = fields.BooleanField(default=False)
    scanned_at = fields.DatetimeField()
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "code_scan"
        unique_together = (("terminal_id", "terminal_scan_id"),)
        # The scans dashboard reads a range of days: without it, the whole table is read at every look.
        indexes = (("scanned_at",),)


class CodeRide(Model):
    """The one transit ride a code is good for: the first scan that took it."""

    code_id = fields.CharField(max_length=32, primary_key=True)
    scan_id = fields.CharField(max_length=40)
    terminal_id = fields.CharField(max_length=40)
    used_at = fields.DatetimeField()

    class Meta:
        table = "code_ride"

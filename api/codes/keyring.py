"""Signing keys for codes: one current, the next published a period ahead, retired ones kept until their codes expire.

Keys cover fixed windows (multiples of the period since the epoch), so workers that rotate at the same
moment agree on which key is current; the unique `not_before` makes the first writer's key the one.
Private keys are encrypted at rest with the personal-data key ring and wiped once their window is over.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import os
import time

import nacl.bindings
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from tortoise.exceptions import IntegrityError

from api.codes import cose
from api.codes.models import CodeSigningKey
from api.core import db, pii

CONTEXT = "codes.signing_key"
RELOAD_SECONDS = 60  # how stale this process's view of the keys may get (a key withdrawn elsewhere)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _raw_public(key: ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _epoch(at: dt.datetime) -> int:
    return int(at.timestamp())


def _at(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc)


async def ensure_keys(*, now: dt.datetime, period_seconds: int, ttl_seconds: int, skew_seconds: int) -> None:
    """Make sure the window holding `now` and the next one have keys; wipe the private halves of finished ones."""
    start = _epoch(now) // period_seconds * period_seconds
    for not_before in (start, start + period_seconds):
        if await CodeSigningKey.exists(not_before=db.as_stored(_at(not_before))):
            continue
        private = ed25519.Ed25519PrivateKey.generate()
        raw_private = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption())
        not_after = not_before + period_seconds
        try:
            await CodeSigningKey.create(
                kid=_b64(os.urandom(6)), public_key=_b64(_raw_public(private.public_key())),
                private_key_enc=pii.cipher().encrypt(_b64(raw_private), context=CONTEXT),
                not_before=_at(not_before), not_after=_at(not_after),
                publish_until=_at(not_after + ttl_seconds + skew_seconds))
        except IntegrityError:
            pass  # another worker made this window's key first: theirs is the one
    finished = CodeSigningKey.filter(not_after__lte=db.as_stored(now), private_key_enc__isnull=False)
    await finished.update(private_key_enc=None)


def _status(key: CodeSigningKey, now: dt.datetime) -> str:
    if now < key.not_before:
        return "next"
    return "current" if now < key.not_after else "retired"


def _published_key(row: CodeSigningKey) -> cose.PublishedKey:
    raw = base64.urlsafe_b64decode(row.public_key + "==")
    return cose.PublishedKey(cose.VerifyingKey(raw), _epoch(row.not_before), _epoch(row.not_after))


class IssuerCheck:
    """The current key, checked the issuer's way: Ed25519 signatures are deterministic, so a code this service
    signed carries exactly the signature signing it again gives (libsodium, 15 µs), compared in constant time,
    where a public-key verify takes 41 µs. Anything else, forgeries included, does not match."""

    __slots__ = ("_secret",)

    def __init__(self, raw_private: bytes):
        _public, self._secret = nacl.bindings.crypto_sign_seed_keypair(raw_private)

    def verify(self, signature: bytes, data: bytes) -> None:
        """InvalidSignature unless `signature` is the one this key makes over `data`."""
        expected = nacl.bindings.crypto_sign(data, self._secret)[:64]
        if not isinstance(signature, bytes) or not hmac.compare_digest(expected, signature):
            raise InvalidSignature()


class Keyring:
    """This process's view of the signing keys, reloaded when a window turns or every minute."""

    def __init__(self, *, ttl_seconds: int, skew_seconds: int, period_seconds: int):
        self.ttl, self.skew, self.period = ttl_seconds, skew_seconds, period_seconds
        self._rows: list[CodeSigningKey] = []
        self._published: dict[str, cose.PublishedKey] = {}
        self._live: dict[str, cose.PublishedKey] = {}
        self._live_until = 0.0
        self._signer: tuple[bytes, ed25519.Ed25519PrivateKey, float] | None = None  # kid, key, not_after
        self._loaded_at = 0.0

    async def _load(self, now: dt.datetime) -> None:
        await ensure_keys(now=now, period_seconds=self.period, ttl_seconds=self.ttl, skew_seconds=self.skew)
        self._rows = await CodeSigningKey.filter(publish_until__gt=db.as_stored(now)).order_by("not_before")
        self._published = {row.kid: _published_key(row) for row in self._rows}
        self._live, self._live_until = {}, 0.0  # published() works out which are still published
        self._signer = None
        for row in self._rows:
            if _status(row, now) == "current" and row.private_key_enc:
                raw = base64.urlsafe_b64decode(pii.cipher().decrypt(row.private_key_enc, context=CONTEXT) + "==")
                self._signer = (base64.urlsafe_b64decode(row.kid), ed25519.Ed25519PrivateKey.from_private_bytes(raw),
                                row.not_after.timestamp())
                # Scans of current codes (nearly all) are checked by signing again; older ones by the public key.
                published = self._published[row.kid]
                self._published[row.kid] = cose.PublishedKey(IssuerCheck(raw), published.not_before,
                                                             published.not_after)
        self._loaded_at = time.monotonic()

    async def _fresh(self, now: dt.datetime) -> None:
        stale = time.monotonic() - self._loaded_at > RELOAD_SECONDS
        turned = self._signer is None or now.timestamp() >= self._signer[2]
        if stale or turned or not self._rows:
            await self._load(now)

    async def signer(self, now: dt.datetime) -> tuple[bytes, ed25519.Ed25519PrivateKey]:
        """The current key id and private key."""
        await self._fresh(now)
        if self._signer is None:
            raise RuntimeError("no current code signing key holds its private half")
        kid, key, _ = self._signer
        return kid, key

    async def published(self, now: dt.datetime) -> dict[str, cose.PublishedKey]:
        """The keys a code may be verified with, by kid."""
        await self._fresh(now)
        if now.timestamp() >= self._live_until:  # a key left publication since the last look
            live = [row for row in self._rows if row.publish_until > now]
            self._live = {row.kid: self._published[row.kid] for row in live}
            self._live_until = min((row.publish_until.timestamp() for row in live), default=0.0)
        return self._live

    async def any_key(self, kid: str, now: dt.datetime) -> cose.PublishedKey | None:
        """A key by id, including one no longer published (offline scans may be uploaded long after)."""
        published = await self.published(now)
        if kid in published:
            return published[kid]
        row = await CodeSigningKey.get_or_none(kid=kid)
        return _published_key(row) if row else None

    async def jwks(self, now: dt.datetime) -> dict:
        """The JWKS terminals download: each key with its signing window and status."""
        await self._fresh(now)
        keys = [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": row.kid, "x": row.public_key,
                 "nbf": _epoch(row.not_before), "exp": _epoch(row.not_after),
                 "publish_until": _epoch(row.publish_until), "status": _status(row, now)}
                for row in self._rows if row.publish_until > now]
        return {"keys": keys, "code_prefix": cose.PREFIX, "code_ttl_seconds": self.ttl,
                "clock_skew_seconds": self.skew}

    def forget(self) -> None:
        """Drop the cached view (after keys were changed in the database)."""
        self._loaded_at = 0.0
        self._rows = []

"""Personal data: AES-GCM at rest with key ids, HMAC blind indexes for lookup, masking for answers."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.core.settings import Settings

_FORMAT = "v1"
_URLSAFE = bytes.maketrans(b"+/", b"-_")  # base64.urlsafe_b64encode's table, used without its Python wrapper
_SHA256_BLOCK = 64
_IPAD = bytes(b ^ 0x36 for b in range(256))  # HMAC's inner and outer key pads, as translate tables
_OPAD = bytes(b ^ 0x5C for b in range(256))


@functools.lru_cache(maxsize=16)
def _aead(key: bytes) -> AESGCM:
    # Building the AES-GCM context costs as much as decrypting a field: keep one per key.
    return AESGCM(key)


@functools.lru_cache(maxsize=4)
def _hmac_states(key: bytes) -> tuple:
    # HMAC-SHA256 (RFC 2104) with its two keyed states made once: hmac.digest builds them again for every call,
    # which is half of its time (a registry import keys two values a row). Not picklable, so kept here, per process.
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


def _hmac_sha256_hex(key: bytes, message: bytes) -> str:
    """hmac.new(key, message, "sha256").hexdigest(), from the key's states."""
    inner, outer = _hmac_states(key)
    inner, outer = inner.copy(), outer.copy()
    inner.update(message)
    outer.update(inner.digest())
    return outer.hexdigest()


@dataclass(frozen=True)
class PiiCipher:
    """Encrypts with the active key, decrypts with any key still on the key ring."""

    keys: dict[str, bytes]
    active_key_id: str
    blind_key: bytes

    def encrypt(self, plaintext: str | None, *, context: str) -> str | None:
        """Ciphertext `v1:<kid>:<nonce+ct>`; `context` (the field) is bound as associated data."""
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        ct = _aead(self.keys[self.active_key_id]).encrypt(nonce, plaintext.encode(), context.encode())
        # urlsafe_b64encode's output in one C call and one translate (a registry import encrypts 4 fields a row).
        body = binascii.b2a_base64(nonce + ct, newline=False).translate(_URLSAFE).decode("ascii")
        return f"{_FORMAT}:{self.active_key_id}:{body}"

    def decrypt(self, token: str | None, *, context: str) -> str | None:
        """The plaintext of a value made by `encrypt`."""
        if token is None:
            return None
        fmt, kid, body = token.split(":", 2)
        if fmt != _FORMAT or kid not in self.keys:
            raise ValueError("unknown personal-data key")
        raw = base64.urlsafe_b64decode(body)
        return _aead(self.keys[kid]).decrypt(raw[:12], raw[12:], context.encode()).decode()

    def encrypt_bytes(self, data: bytes, *, context: str) -> bytes:
        """Binary ciphertext `v1:<kid>:` + nonce + ct, for uploaded files (scans of id cards are personal data)."""
        nonce = os.urandom(12)
        ct = AESGCM(self.keys[self.active_key_id]).encrypt(nonce, data, context.encode())
        return f"{_FORMAT}:{self.active_key_id}:".encode() + nonce + ct

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        """The plaintext of a blob made by `encrypt_bytes`."""
        fmt, kid, raw = blob.split(b":", 2)
        if fmt.decode() != _FORMAT or kid.decode() not in self.keys:
            raise ValueError("unknown personal-data key")
        return AESGCM(self.keys[kid.decode()]).decrypt(raw[:12], raw[12:], context.encode())

    def blind_index(self, value: str | None, *, kind: str) -> str | None:
        """A keyed HMAC of the normalised value, to find a row without decrypting every row."""
        if value is None:
            return None
        normal = normalize(value, kind=kind)
        return _hmac_sha256_hex(self.blind_key, f"{kind}:{normal}".encode())

    def needs_rotation(self, token: str | None) -> bool:
        """True when a value was encrypted under a key other than the active one."""
        return token is not None and token.split(":", 2)[1] != self.active_key_id


def build_cipher(settings: Settings) -> PiiCipher:
    """The cipher for these settings (PII_KEYS, PII_ACTIVE_KEY_ID, BLIND_INDEX_KEY)."""
    keys = {}
    for part in settings.pii_keys.split(","):
        kid, _, b64 = part.strip().partition(":")
        key = base64.b64decode(b64)
        if len(key) != 32:
            raise ValueError(f"PII key {kid} must be 32 bytes")
        keys[kid] = key
    if settings.pii_active_key_id not in keys:
        raise ValueError("PII_ACTIVE_KEY_ID is not among PII_KEYS")
    return PiiCipher(keys=keys, active_key_id=settings.pii_active_key_id, blind_key=settings.blind_index_key.encode())


_cipher: PiiCipher | None = None


def configure(settings: Settings) -> PiiCipher:
    """Install the process-wide cipher (called by the app factory and the command line)."""
    global _cipher
    _cipher = build_cipher(settings)
    return _cipher


def cipher() -> PiiCipher:
    """The process-wide cipher."""
    if _cipher is None:
        raise RuntimeError("pii.configure(settings) was not called")
    return _cipher


def normalize(value: str, *, kind: str) -> str:
    """The canonical form of a phone number, id number or name."""
    value = value.strip()
    if kind == "phone":
        if len(value) == 11 and value.isascii() and value.isdigit():
            return value  # already canonical: most numbers, and every one a registry import keys
        digits = re.sub(r"\D", "", value)
        return digits[-11:] if digits.startswith("86") and len(digits) == 13 else digits
    if kind == "id_number":
        return value.upper()
    return value


def mask_phone(phone: str | None) -> str | None:
    """`138****5678`."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def mask_id_number(id_number: str | None) -> str | None:
    """`110***********123X`."""
    if not id_number:
        return id_number
    return id_number[:3] + "*" * max(len(id_number) - 7, 0) + id_number[-4:]


def mask_name(name: str | None) -> str | None:
    """`张*` (and `欧阳**` for longer names): the family name stays."""
    if not name:
        return name
    keep = 2 if len(name) >= 4 else 1
    return name[:keep] + "*" * (len(name) - keep)


PHONE_PATTERN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_PATTERN = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Masks anything that looks like a mainland phone or id number in free text (logs)."""
    text = ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group(0)), text)
    return PHONE_PATTERN.sub(lambda m: mask_phone(m.group(0)), text)

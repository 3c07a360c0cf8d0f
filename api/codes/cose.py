"""The code's wire format, as the EU Digital COVID Certificate: prefix + base45(zlib(COSE_Sign1(CBOR claims))).

Signed with Ed25519 (COSE alg -8), key id in the protected header. Claims are CWT (RFC 8392): 1 iss,
4 exp, 6 iat, 7 cti (the rotating pseudonymous code id), and the private claim -70001, the scenes.
This module has no database or server imports: a terminal can verify codes with it and the JWKS alone.
"""

from __future__ import annotations

import base64
import functools
import struct
import zlib
from dataclasses import dataclass

import cbor2
import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

PREFIX = "YM1:"
COSE_SIGN1_TAG = 18
ALG_EDDSA = -8
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI, CLAIM_SCENES = 1, 4, 6, 7, -70001
SCENES = ("service", "health", "transit", "social_security")

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_DIGIT = {c: i for i, c in enumerate(_ALPHABET)}
_TO_DIGITS = bytes(_ALPHABET.index(chr(b)) if chr(b) in _ALPHABET else 255 for b in range(256))


class CodeRefused(Exception):
    """A code that must not be accepted; `reason` is the stable error code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@functools.cache
def _pair_table() -> tuple[str, ...]:
    # All 65,536 two-byte values as their three characters (a few MB, built once on first use): encoding a
    # code becomes one C-level map instead of a Python loop over its bytes.
    return tuple(_ALPHABET[n % 45] + _ALPHABET[n // 45 % 45] + _ALPHABET[n // 2025] for n in range(65536))


def b45encode(data: bytes) -> str:
    """Base45 (RFC 9285)."""
    whole = len(data) - len(data) % 2
    text = "".join(map(_pair_table().__getitem__, struct.unpack(f">{whole // 2}H", data[:whole])))
    if len(data) % 2:
        text += _ALPHABET[data[-1] % 45] + _ALPHABET[data[-1] // 45]
    return text


def b45decode(text: str) -> bytes:
    """Base45 (RFC 9285); ValueError on anything that is not."""
    try:
        digits = text.encode("ascii").translate(_TO_DIGITS)
    except UnicodeEncodeError:
        raise ValueError("not base45") from None
    if b"\xff" in digits or len(digits) % 3 == 1:
        raise ValueError("not base45")
    whole = len(digits) - len(digits) % 3
    count = whole // 3
    # Every triple at once, without a Python loop (which would cost more than the signature check): each
    # digit column is spread into 32-bit lanes of one big integer, the columns are combined with two
    # multiplications, and the lanes' low bytes are the decoded pairs.
    lanes = []
    for column in range(3):
        spread = bytearray(4 * count)
        spread[0::4] = digits[column:whole:3]
        lanes.append(int.from_bytes(spread, "little"))
    values = (lanes[0] + 45 * lanes[1] + 2025 * lanes[2]).to_bytes(4 * count, "little")
    if any(values[2::4]):
        raise ValueError("not base45")  # a triple above 0xFFFF
    out = bytearray(2 * count)
    out[0::2], out[1::2] = values[1::4], values[0::4]
    if whole < len(digits):
        last = digits[-2] + digits[-1] * 45
        if last > 0xFF:
            raise ValueError("not base45")
        out.append(last)
    return bytes(out)


def _bstr(data: bytes) -> bytes:
    """A CBOR byte string (major type 2)."""
    n = len(data)
    if n < 24:
        return bytes((0x40 | n,)) + data
    if n < 0x100:
        return bytes((0x58, n)) + data
    if n < 0x10000:
        return b"\x59" + n.to_bytes(2, "big") + data
    return b"\x5a" + n.to_bytes(4, "big") + data


_SIG1_HEAD = b"\x84\x6aSignature1"  # array(4), text(10) "Signature1"


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    # RFC 9052 Sig_structure ["Signature1", protected, external_aad = b"", payload], written out by hand: it is
    # on every scan, and a fixed layout needs no general encoder.
    return _SIG1_HEAD + _bstr(protected) + b"\x40" + _bstr(payload)


@functools.lru_cache(maxsize=64)
def _kid_of(protected: bytes) -> bytes:
    """The key id of a protected header that names EdDSA (every code of one key shares the header)."""
    header = cbor2.loads(protected)
    if not isinstance(header, dict) or header.get(1) != ALG_EDDSA or not isinstance(header.get(4), bytes):
        raise ValueError("not an EdDSA header with a key id")
    return header[4]


@functools.lru_cache(maxsize=8)
def _protected_header(kid: bytes) -> bytes:
    return cbor2.dumps({1: ALG_EDDSA, 4: kid})


def seal(claims: dict, *, kid: bytes, private_key: ed25519.Ed25519PrivateKey) -> str:
    """The QR text of a code carrying `claims` (CWT labels), signed with `private_key` under `kid`."""
    protected = _protected_header(kid)
    payload = cbor2.dumps(claims)
    signature = private_key.sign(_sig_structure(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    # A 512-byte window is enough for a code and makes the compressor's set-up five times cheaper.
    deflate = zlib.compressobj(9, zlib.DEFLATED, 9, 1)
    return PREFIX + b45encode(deflate.compress(message) + deflate.flush())


@dataclass(frozen=True)
class Opened:
    """An unverified code taken apart: what the signature covers and what it claims."""

    kid: bytes
    claims: dict
    signed: bytes
    signature: bytes


def open_unverified(text: str) -> Opened:
    """Parse a code without checking it (CodeRefused('code_invalid') when it is not one of ours)."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise CodeRefused("code_invalid")
    try:
        message = cbor2.loads(zlib.decompress(b45decode(text[len(PREFIX):])))
        if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
            raise ValueError
        protected, _unprotected, payload, signature = message.value
        if not isinstance(protected, bytes) or not isinstance(payload, bytes):
            raise ValueError
        kid, claims = _kid_of(protected), cbor2.loads(payload)
        if not isinstance(claims, dict):
            raise ValueError
    except (ValueError, TypeError, zlib.error, cbor2.CBORDecodeError):
        raise CodeRefused("code_invalid") from None
    return Opened(kid=kid, claims=claims, signed=_sig_structure(protected, payload), signature=signature)


@functools.lru_cache(maxsize=64)
def kid_text(kid: bytes) -> str:
    """The key id as the JWKS writes it (base64url, no padding)."""
    return base64.urlsafe_b64encode(kid).rstrip(b"=").decode()


class VerifyingKey:
    """An Ed25519 public key, checked with libsodium (PyNaCl): here 41 µs a signature against OpenSSL's 66 µs,
    and a scan's signature check is the largest part of it."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes):
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = raw

    def verify(self, signature: bytes, data: bytes) -> None:
        """InvalidSignature unless `signature` is this key's over `data` (as cryptography's keys do)."""
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise InvalidSignature()
        try:
            nacl.bindings.crypto_sign_open(signature + data, self.raw)
        except nacl.exceptions.BadSignatureError:
            raise InvalidSignature() from None


@dataclass(frozen=True)
class PublishedKey:
    """A verifying key from the JWKS, with the window in which it may have signed codes."""

    public: VerifyingKey
    not_before: int
    not_after: int


def keys_from_jwks(jwks: dict) -> dict[str, PublishedKey]:
    """The Ed25519 keys of a JWKS answer, by kid."""
    keys = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
            keys[jwk["kid"]] = PublishedKey(VerifyingKey(raw), int(jwk["nbf"]), int(jwk["exp"]))
    return keys


class OfflineVerifier:
    """What a terminal runs without a network: the published keys, the revocation list and its clock."""

    def __init__(self, keys: dict[str, PublishedKey], *, revoked: set[str] = frozenset(), skew_seconds: int = 10):
        self.keys = keys
        self.revoked = set(revoked)
        self.skew = skew_seconds

    def verify(self, text: str, *, now: float) -> dict:
        """The claims of a code that may be accepted at `now` (epoch seconds), else CodeRefused."""
        opened = open_unverified(text)
        return check(opened, self.keys.get(kid_text(opened.kid)), now=now, skew=self.skew, revoked=self.revoked)


def check(opened: Opened, key: PublishedKey | None, *, now: float, skew: int, revoked=frozenset()) -> dict:
    """Signature, key window, expiry and revocation of an opened code; its claims, else CodeRefused."""
    if key is None:
        raise CodeRefused("code_key_unknown")
    try:
        key.public.verify(opened.signature, opened.signed)
    except InvalidSignature:
        raise CodeRefused("code_invalid") from None
    claims = opened.claims
    iat, exp, cti = claims.get(CLAIM_IAT), claims.get(CLAIM_EXP), claims.get(CLAIM_CTI)
    if not (isinstance(iat, int) and isinstance(exp, int) and isinstance(cti, bytes)):
        raise CodeRefused("code_invalid")
    # Signed outside the key's window: a retired key (perhaps stolen) or one not in service yet.
    if iat >= key.not_after + skew:
        raise CodeRefused("code_key_retired")
    if iat < key.not_before - skew:
        raise CodeRefused("code_key_not_yet_valid")
    if iat > now + skew:
        raise CodeRefused("code_invalid")
    if exp <= now - skew:
        raise CodeRefused("code_expired")
    if cti.hex() in revoked:
        raise CodeRefused("code_revoked")
    return claims

"""Access tokens (Ed25519-signed JWTs, published as JWKS) and rotating refresh tokens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization
from tortoise.transactions import in_transaction

from api.core.errors import Unauthorized
from api.core.guards import REVOKED_SESSION_KEY, InvalidToken
from api.core.ids import new_id
from auth.models import RefreshToken

ALGORITHM = "EdDSA"
VERIFIED_CACHE_SIZE = 20_000


class TokenReused(Unauthorized):
    code, message = "refresh_token_reused", "刷新令牌已被使用，该登录会话已失效，请重新登录"


class TokenExpired(Unauthorized):
    code, message = "token_expired", "登录已过期，请刷新或重新登录"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private_key: object
    public_key: object

    @classmethod
    def from_pem(cls, pem: str) -> "SigningKey":
        """Load an Ed25519 private key; the kid is its public key's thumbprint."""
        private_key = serialization.load_pem_private_key(pem.encode(), password=None)
        public_key = private_key.public_key()
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return cls(kid=hashlib.sha256(raw).hexdigest()[:16], private_key=private_key, public_key=public_key)

    def jwk(self) -> dict:
        """The public key as a JWK."""
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


class TokenService:
    """Issues and checks access tokens; the extra public keys let a rotated-out key still verify."""

    def __init__(self, *, private_key_pem: str, issuer: str, access_ttl: int, extra_public: list[SigningKey] = ()):
        self.key = SigningKey.from_pem(private_key_pem)
        self.issuer = issuer
        self.access_ttl = access_ttl
        self.verifying = {k.kid: k.public_key for k in [self.key, *extra_public]}
        # Tokens already verified by this worker: a phone sends the same token many times in its 15 minutes.
        self._verified: OrderedDict[tuple[str, str], dict] = OrderedDict()

    def decode_access(self, token: str, *, audience: str) -> dict:
        """The claims of a valid token for `audience`; 401 for anything else."""
        cache_key = (token, audience)
        claims = self._verified.get(cache_key)
        if claims is None:
            claims = self._verify(token, audience=audience)
            self._verified[cache_key] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        elif claims["exp"] <= time.time():
            self._verified.pop(cache_key, None)
            raise TokenExpired()
        return claims

    def issue_access(self, *, subject: str, audience: str, session_id: str, claims: dict | None = None) -> str:
        """A signed access token for `audience` (`citizen` or `admin`)."""
        now = int(time.time())
        payload = {
            "iss": self.issuer, "sub": subject, "aud": audience, "iat": now, "nbf": now,
            "exp": now + self.access_ttl, "jti": secrets.token_hex(12), "sid": session_id, **(claims or {}),
        }
        return jwt.encode(payload, self.key.private_key, algorithm=ALGORITHM, headers={"kid": self.key.kid})

    def _verify(self, token: str, *, audience: str) -> dict:
        try:
            header = jwt.get_unverified_header(token)
            key = self.verifying.get(header.get("kid"))
            if key is None or header.get("alg") != ALGORITHM:
                raise InvalidToken()
            return jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "jti", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.PyJWTError:
            raise InvalidToken() from None

    def jwks(self) -> dict:
        """The public keys, as a JWK Set."""
        keys = [self.key.jwk()]
        return {"keys": keys}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def issue_refresh(*, subject_type: str, subject_id: str, ttl_seconds: int, family_id: str | None = None,
                        connection=None) -> tuple[str, str]:
    """A new random refresh token (only its hash is stored) and its family id."""
    token = secrets.token_urlsafe(32)
    family_id = family_id or new_id("ses")
    await RefreshToken.create(
        token_hash=_hash(token), family_id=family_id, subject_type=subject_type, subject_id=subject_id,
        expires_at=_now() + dt.timedelta(seconds=ttl_seconds), using_db=connection,
    )
    return token, family_id


async def rotate_refresh(*, token: str, subject_type: str, redis, access_ttl: int) -> RefreshToken:
    """Spend a refresh token and return its row; a second use revokes the whole family."""
    row = await RefreshToken.get_or_none(token_hash=_hash(token or ""))
    if row is None or row.subject_type != subject_type:
        raise InvalidToken("刷新令牌无效")
    if row.revoked_at is not None:
        raise InvalidToken("该登录会话已失效，请重新登录")
    if row.expires_at <= _now():
        raise TokenExpired("刷新令牌已过期，请重新登录")
    # The conditional update is the lock: of two concurrent uses exactly one changes a row.
    spent = await RefreshToken.filter(id=row.id, used_at=None).update(used_at=_now())
    if not spent:
        await revoke_family(family_id=row.family_id, redis=redis, access_ttl=access_ttl)
        raise TokenReused()
    return row


async def revoke_family(*, family_id: str, redis, access_ttl: int) -> None:
    """Revoke every refresh token of a session and refuse its live access tokens."""
    async with in_transaction():
        await RefreshToken.filter(family_id=family_id, revoked_at=None).update(revoked_at=_now())
    await redis.set(REVOKED_SESSION_KEY.format(family_id), "1", ex=access_ttl + 60)


async def revoke_subject(*, subject_type: str, subject_id: str) -> list[str]:
    """Revoke every refresh token of an account, in the caller's transaction; the session ids it had (hand them
    to `refuse_sessions` once committed)."""
    rows = RefreshToken.filter(subject_type=subject_type, subject_id=subject_id, revoked_at=None)
    families = sorted(set(await rows.values_list("family_id", flat=True)))
    await rows.update(revoked_at=_now())
    return families


async def refuse_sessions(*, family_ids: list[str], redis, access_ttl: int) -> None:
    """Refuse the live access tokens of these sessions."""
    if family_ids:
        async with redis.pipeline(transaction=False) as pipe:
            for family_id in family_ids:
                pipe.set(REVOKED_SESSION_KEY.format(family_id), "1", ex=access_ttl + 60)
            await pipe.execute()

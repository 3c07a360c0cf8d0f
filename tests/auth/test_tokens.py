"""Access tokens that must not open anything, and refresh rotation with reuse detection."""

import asyncio
import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.factories import bearer, random_phone, wechat_login


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _me(client, token: str):
    return await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


async def test_refresh_rotates_and_reuse_revokes_the_family(client):
    tokens = await wechat_login(client, phone=random_phone())
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    assert (await _me(client, second["access_token"])).status_code == 200
    # The spent token comes back: someone stole it. The whole session dies.
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "refresh_token_reused"
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401
    assert (await _me(client, second["access_token"])).status_code == 401


async def test_logout_revokes_the_session(client):
    tokens = await wechat_login(client)
    r = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert r.status_code == 204
    assert (await _me(client, tokens["access_token"])).status_code == 401
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401


async def test_unknown_refresh_token_is_401(client):
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert r.status_code == 401


async def test_tampered_token_is_401(client):
    tokens = await wechat_login(client)
    head, payload, sig = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "cit_someone_else"
    r = await _me(client, f"{head}.{_b64(claims)}.{sig}")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


async def test_alg_none_token_is_401(client):
    tokens = await wechat_login(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert (await _me(client, forged)).status_code == 401


async def test_wrong_key_token_is_401(client, live):
    tokens = await wechat_login(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    forged = jwt.encode(claims, ed25519.Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    assert (await _me(client, forged)).status_code == 401


async def test_expired_token_is_401(client, live):
    tokens = await wechat_login(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    service = live.app.ctx.deps.tokens
    now = int(time.time())
    claims.update(iat=now - 2000, nbf=now - 2000, exp=now - 1000)
    expired = jwt.encode(claims, service.key.private_key, algorithm="EdDSA", headers={"kid": service.key.kid})
    r = await _me(client, expired)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


async def test_wrong_audience_token_is_401(client, live):
    tokens = await wechat_login(client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    service = live.app.ctx.deps.tokens
    claims["aud"] = "admin"
    other = jwt.encode(claims, service.key.private_key, algorithm="EdDSA", headers={"kid": service.key.kid})
    assert (await _me(client, other)).status_code == 401
    # ...and the citizen's real token does not open an admin route.
    r = await client.get("/api/v1/admin/me", headers=bearer(tokens))
    assert r.status_code == 401


async def test_missing_or_malformed_authorization_is_401(client):
    assert (await client.get("/api/v1/me")).status_code == 401
    r = await client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


async def test_jwks_verifies_issued_tokens(client):
    tokens = await wechat_login(client)
    jwks = (await client.get("/api/v1/auth/jwks.json")).json()
    key = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(tokens["access_token"], key.key, algorithms=["EdDSA"], audience="citizen")
    assert claims["sub"] == tokens["citizen"]["id"] and claims["jti"]
    assert claims["exp"] - claims["iat"] == 900


async def test_a_token_verified_before_still_expires_on_time(live):
    from auth.tokens import TokenExpired, TokenService

    service = TokenService(private_key_pem=live.app.ctx.deps.settings.jwt_private_key, issuer="gov-miniapp",
                           access_ttl=1)
    token = service.issue_access(subject="cit_x", audience="citizen", session_id="ses_x")
    assert service.decode_access(token, audience="citizen")["sub"] == "cit_x"
    claims = service.decode_access(token, audience="citizen")  # from the verified cache
    assert claims["sub"] == "cit_x"
    await asyncio.sleep(max(0.0, claims["exp"] - time.time()) + 0.05)  # just past its expiry
    with pytest.raises(TokenExpired):
        service.decode_access(token, audience="citizen")

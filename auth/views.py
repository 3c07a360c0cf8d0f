"""Login, refresh, logout and the public keys (一键登录)."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, empty

from api.citizens import service as citizens_service
from api.core import audit, ratelimit
from api.core.guards import citizen_required
from api.core.http import client_ip, doc, parse, respond
from auth import identity, sessions, tokens
from auth.schemas import AlipayLogin, CitizenTokens, Jwks, RefreshRequest, TokenPair, WeChatLogin

bp = Blueprint("auth", url_prefix="/api/v1/auth")


async def _limit_ip(request) -> None:
    s = request.app.ctx.deps.settings
    await ratelimit.hit(request.app.ctx.deps.redis, bucket=f"login:ip:{client_ip(request)}",
                        limit=s.login_rate_per_ip, window_seconds=s.login_rate_window_seconds)


async def _login(request, platform_name: str, code: str, phone_credential) -> dict:
    """Exchange the code (and the phone credential, at the same time) and sign the citizen in."""
    await _limit_ip(request)
    platform = request.app.ctx.deps.platforms[platform_name]
    if phone_credential:
        platform_identity, phone = await asyncio.gather(platform.exchange_login_code(code),
                                                        platform.fetch_phone(phone_credential))
    else:
        platform_identity, phone = await platform.exchange_login_code(code), None
    s, ctx = request.app.ctx.deps.settings, request.app.ctx.deps
    await ratelimit.hit(ctx.redis, bucket=f"login:acct:{platform_identity.platform}:{platform_identity.platform_uid}",
                        limit=s.login_rate_per_account, window_seconds=s.login_rate_window_seconds)
    citizen, created = await identity.resolve_login(identity=platform_identity, phone=phone, redis=ctx.redis)
    pair = await sessions.citizen_pair(deps=ctx, citizen=citizen)
    await audit.record(actor_type="citizen", actor_id=citizen.id, action="citizen.login", target_type="citizen",
                       target_id=citizen.id, request_id=request.ctx.request_id, ip=client_ip(request),
                       detail={"platform": platform_identity.platform, "created": created})
    profile = await citizens_service.profile(citizen_id=citizen.id, redis=ctx.redis)
    return {**pair, "citizen": profile, "created": created}


@bp.post("/wechat/login")
@doc("微信一键登录", body=WeChatLogin, response=CitizenTokens, errors=(401, 403, 409, 422, 429, 502, 503), tag="auth",
     description="code 换取 openid；带 phone_code 时取得已验证手机号（assurance_level 1），"
                 "同一手机号在微信、支付宝登录为同一市民。"
                 "两个都已有数据的账号不会被静默合并：409 identity_conflict，需用原账号登录或到大厅申请合并。")
async def wechat_login(request):
    body = parse(request, WeChatLogin)
    return respond(await _login(request, "wechat", body.code, body.phone_code))


@bp.post("/alipay/login")
@doc("支付宝一键登录", body=AlipayLogin, response=CitizenTokens, errors=(401, 403, 409, 422, 429, 502, 503), tag="auth")
async def alipay_login(request):
    body = parse(request, AlipayLogin)
    return respond(await _login(request, "alipay", body.auth_code, body.phone_response))


@bp.post("/refresh")
@doc("刷新令牌（每次轮换；旧令牌再次使用将注销整个会话）", body=RefreshRequest, response=TokenPair, errors=(401, 422),
     tag="auth")
async def refresh(request):
    body = parse(request, RefreshRequest)
    s, ctx = request.app.ctx.deps.settings, request.app.ctx.deps
    row = await tokens.rotate_refresh(token=body.refresh_token, subject_type="citizen",
                                      ttl_seconds=s.refresh_token_ttl_seconds, redis=ctx.redis,
                                      access_ttl=s.access_token_ttl_seconds)
    citizen = await citizens_service.get(citizen_id=row.subject_id)
    return respond(await sessions.citizen_pair(deps=ctx, citizen=citizen, family_id=row.family_id))


@bp.post("/logout")
@doc("退出登录：注销本会话的刷新令牌族", status=204, errors=(401,), tag="auth", secured="citizen")
@citizen_required()
async def logout(request):
    s = request.app.ctx.deps.settings
    await tokens.revoke_family(family_id=request.ctx.actor.session_id, redis=request.app.ctx.deps.redis,
                               access_ttl=s.access_token_ttl_seconds)
    return empty()


@bp.get("/jwks.json")
@doc("访问令牌的验签公钥（JWKS）", response=Jwks, tag="auth")
async def jwks(request):
    return respond(request.app.ctx.deps.tokens.jwks(), headers={"Cache-Control": "public, max-age=300"})

"""Login, refresh, logout and the public keys (一键登录), for citizens and for staff."""

from __future__ import annotations

from sanic import Blueprint, empty
from sanic_ext import openapi

from api.admin import service as admin_service
from api.admin.schemas import AdminLogin, AdminRefresh, AdminTokens, StaffRead, StaffUpdate
from api.core.guards import admin_required, citizen_required
from api.core.http import client_ip, doc, parse, respond
from auth import otp, service
from auth.schemas import (
    AlipayLogin,
    CitizenTokens,
    Jwks,
    PhoneOtpRequest,
    PhoneOtpSent,
    RefreshRequest,
    TokenPair,
    WeChatLogin,
)

bp = Blueprint("auth", url_prefix="/api/v1/auth")
staff_bp = Blueprint("admin_auth", url_prefix="/api/v1/admin/auth")
# Managing staff accounts lives here rather than in api.admin: disabling one ends its sessions, which are auth's.
staff_accounts_bp = Blueprint("admin_staff", url_prefix="/api/v1/admin/staff")


async def _citizen_login(request, platform: str, code: str, phone_credential, phone_otp: str | None = None):
    return respond(await service.citizen_login(deps=request.app.ctx.deps, platform=platform, code=code,
                                               phone_credential=phone_credential, phone_otp=phone_otp,
                                               ip=client_ip(request), request_id=request.ctx.request_id))


@bp.post("/wechat/login")
@doc("微信一键登录", body=WeChatLogin, response=CitizenTokens, errors=(401, 403, 409, 422, 429, 502, 503), tag="auth",
     description="code 换取 openid；带 phone_code 时取得已验证手机号（assurance_level 1），"
                 "同一手机号在微信、支付宝登录为同一市民。"
                 "两个都已有数据的账号不会被静默合并：409 identity_conflict，需用原账号登录或到大厅申请合并。"
                 "微信的手机号 code 一次有效、5 分钟过期，不可重放，无需短信验证码。"
                 "平台格式错误的应答为 502 upstream_invalid。")
async def wechat_login(request):
    body = parse(request, WeChatLogin)
    return await _citizen_login(request, "wechat", body.code, body.phone_code)


@bp.post("/alipay/login")
@doc("支付宝一键登录", body=AlipayLogin, response=CitizenTokens, errors=(401, 403, 409, 422, 429, 502, 503), tag="auth",
     description="auth_code 换取 user_id；带 phone_response 时取得手机号。支付宝的手机号报文每次相同、不过期、"
                 "不与 auth_code 绑定，可被他人重放，因此当该手机号尚不是本支付宝账号已验证的手机号时"
                 "（新账号首次带手机号登录、关联到已有市民、或更换手机号），须同时带 phone_otp："
                 "发送至该手机号的短信验证码（POST /api/v1/auth/phone/otp）。缺少时 401 phone_otp_required"
                 "（message 与 fields.phone_otp 给出打码的手机号），验证码错误、过期、已用或属于其他号码时 "
                 "401 invalid_phone_otp；两种情况都不关联、不写入任何数据。auth_code 一次有效：带验证码重试时"
                 "需重新调用 my.getAuthCode。同一支付宝账号再次以其已有的手机号登录无需验证码。"
                 "平台格式错误的应答为 502 upstream_invalid。")
async def alipay_login(request):
    body = parse(request, AlipayLogin)
    return await _citizen_login(request, "alipay", body.auth_code, body.phone_response, body.phone_otp)


@bp.post("/phone/otp")
@doc("发送短信验证码（用于手机号凭证可被重放的登录）", body=PhoneOtpRequest, response=PhoneOtpSent, status=202,
     errors=(422, 429, 502, 503), tag="auth",
     description="向该手机号发送 6 位短信验证码，仅可使用一次，输错次数过多即失效，再次获取会使之前的验证码失效；"
                 "无论该号码是否已注册，应答都相同（202）。默认有效期 5 分钟、输错 5 次失效；同一号码 60 秒内只能"
                 "获取一次、每小时至多 5 次，同一地址每小时至多 20 次，超出为 429（Retry-After）。"
                 "验证码用于支付宝登录的 phone_otp 字段。")
async def phone_otp(request):
    body = parse(request, PhoneOtpRequest)
    return respond(await otp.send_code(deps=request.app.ctx.deps, phone=body.phone, ip=client_ip(request)),
                   status=202)


@bp.post("/refresh")
@doc("刷新令牌（每次轮换；旧令牌再次使用将注销整个会话）", body=RefreshRequest, response=TokenPair, errors=(401, 422),
     tag="auth")
async def refresh(request):
    body = parse(request, RefreshRequest)
    return respond(await service.refresh(deps=request.app.ctx.deps, subject_type="citizen", token=body.refresh_token))


@bp.post("/logout")
@doc("退出登录：注销本会话的刷新令牌族", status=204, errors=(401,), tag="auth", secured="citizen")
@citizen_required()
async def logout(request):
    await service.logout(deps=request.app.ctx.deps, session_id=request.ctx.actor.session_id)
    return empty()


@bp.get("/jwks.json")
@doc("访问令牌的验签公钥（JWKS）", response=Jwks, tag="auth")
async def jwks(request):
    return respond(request.app.ctx.deps.tokens.jwks(), headers={"Cache-Control": "public, max-age=300"})


# The staff routes keep the operation ids they had when they lived in the admin blueprint (generated clients).
@staff_bp.post("/login")
@doc("工作人员登录（连续失败 5 次锁定 15 分钟）", body=AdminLogin, response=AdminTokens, errors=(401, 422, 423, 429),
     tag="admin")
@openapi.operation("post~admin.login")
async def staff_login(request):
    body = parse(request, AdminLogin)
    return respond(await service.staff_login(deps=request.app.ctx.deps, username=body.username,
                                             password=body.password, ip=client_ip(request),
                                             request_id=request.ctx.request_id))


@staff_bp.post("/refresh")
@doc("刷新工作人员令牌（轮换，重复使用将注销会话）", body=AdminRefresh, response=AdminTokens,
     errors=(401, 422), tag="admin")
@openapi.operation("post~admin.refresh")
async def staff_refresh(request):
    body = parse(request, AdminRefresh)
    return respond(await service.refresh(deps=request.app.ctx.deps, subject_type="admin", token=body.refresh_token))


@staff_bp.post("/logout")
@doc("工作人员退出登录", status=204, errors=(401,), tag="admin", secured="admin")
@openapi.operation("post~admin.logout")
@admin_required()
async def staff_logout(request):
    await service.logout(deps=request.app.ctx.deps, session_id=request.ctx.actor.session_id)
    return empty()


_TAKES_EFFECT = "变更对该账号已登录的会话立即生效（每次请求读取账号当前的角色、部门与停用状态）。仅超级管理员可操作；" \
                "不能对自己的账号停用或改角色（409 own_account）。"


@staff_accounts_bp.patch("/<admin_id:str>")
@doc("修改工作人员的角色和/或所属部门", body=StaffUpdate, response=StaffRead, errors=(401, 403, 404, 409, 422),
     tag="admin", secured="admin", description=_TAKES_EFFECT)
@admin_required("super_admin")
async def update_staff(request, admin_id: str):
    body = parse(request, StaffUpdate)
    account = await admin_service.update_grants(actor=request.ctx.actor, admin_id=admin_id, roles=body.roles,
                                                depts=body.depts)
    return respond(admin_service.staff_read(account))


@staff_accounts_bp.post("/<admin_id:str>/disable")
@doc("停用工作人员账号：其刷新令牌立即注销，访问令牌下一次请求即 401", response=StaffRead,
     errors=(401, 403, 404, 409), tag="admin", secured="admin", description=_TAKES_EFFECT)
@admin_required("super_admin")
async def disable_staff(request, admin_id: str):
    return respond(await service.set_staff_disabled(deps=request.app.ctx.deps, actor=request.ctx.actor,
                                                    admin_id=admin_id, disabled=True))


@staff_accounts_bp.post("/<admin_id:str>/enable")
@doc("重新启用工作人员账号（需重新登录；停用前的会话不恢复）", response=StaffRead, errors=(401, 403, 404, 409),
     tag="admin", secured="admin", description=_TAKES_EFFECT)
@admin_required("super_admin")
async def enable_staff(request, admin_id: str):
    return respond(await service.set_staff_disabled(deps=request.app.ctx.deps, actor=request.ctx.actor,
                                                    admin_id=admin_id, disabled=False))


@staff_accounts_bp.post("/<admin_id:str>/unlock")
@doc("解除工作人员账号因连续登录失败的锁定，并清零失败次数", response=StaffRead, errors=(401, 403, 404),
     tag="admin", secured="admin")
@admin_required("super_admin")
async def unlock_staff(request, admin_id: str):
    account = await admin_service.unlock(actor=request.ctx.actor, admin_id=admin_id)
    return respond(admin_service.staff_read(account))

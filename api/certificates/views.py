"""Certificates, the wallet, presentations, and public verification."""

from __future__ import annotations

import re

from sanic import Blueprint, raw

from api.certificates import service, types, wallet
from api.certificates.schemas import (
    CertificateAction,
    CertificateCreate,
    CertificatePage,
    CertificateRead,
    CertificateTypePage,
    LicensePage,
    PresentationCreate,
    PresentationRead,
    StaffCertificateRead,
    VerifyRead,
    VerifyRequest,
)
from api.core import idempotency, ratelimit
from api.core.db import reads_replica
from api.core.guards import admin_required, citizen_required
from api.core.http import binary, client_ip, doc, json_object, parse, respond
from api.core.pagination import page_request

bp = Blueprint("certificates", url_prefix="/api/v1")
admin_bp = Blueprint("certificates_admin", url_prefix="/api/v1/admin")
_URL = re.compile(r"/api/v1/verify/(?P<serial>[A-Z0-9]{6,32})\?code=(?P<code>[A-Za-z0-9_-]{4,32})")


@bp.get("/certificate-types")
@doc("可在线开具的证明类型", response=CertificateTypePage, tag="certificates")
async def certificate_types(request):
    items = [{**t.model_dump(include={"code", "name", "dept", "purposes", "validity_days", "registry",
                                      "registry_note"}),
              "decided_by": "reviewer" if t.decided_by == "reviewer" else "registry"}
             for t in types.all_types().values()]
    return respond({"items": items})


@bp.post("/certificates")
@doc("申请电子证明：登记数据能核验的即时出具（issued），否则转人工（pending_review）或说明理由不予出具（rejected）；"
     "出具或不予出具时向本人发送一条消息（站内信及首个可用渠道，同一 Idempotency-Key 重放不再发送）",
     body=CertificateCreate, response=CertificateRead, status=201, errors=(401, 403, 409, 422), tag="certificates",
     secured="citizen", idempotent=True)
@citizen_required(scope="certificates")
async def request_certificate(request):
    body = parse(request, CertificateCreate)
    key = idempotency.check_key(request.headers.get("idempotency-key"))
    answer = await service.request(actor=request.ctx.actor, type_code=body.type_code, purpose=body.purpose,
                                   idempotency_key=key, raw=json_object(request), deps=request.app.ctx.deps)
    return respond(answer, status=201)


@bp.get("/certificates")
@doc("我的证明", response=CertificatePage, errors=(401,), tag="certificates", secured="citizen")
@citizen_required(scope="certificates")
async def list_certificates(request):
    deps = request.app.ctx.deps
    page = await service.list_mine(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args),
                                   base_url=deps.settings.public_base_url, now=deps.clock())
    return respond(page.body())


@bp.get("/certificates/<certificate_id:id>")
@doc("证明详情", response=CertificateRead, errors=(401, 404), tag="certificates", secured="citizen")
@citizen_required(scope="certificates")
async def get_certificate(request, certificate_id: str):
    deps = request.app.ctx.deps
    cert = await service.own(citizen_id=request.ctx.actor.citizen_id, certificate_id=certificate_id)
    return respond(service.record(cert, base_url=deps.settings.public_base_url, now=deps.clock()))


@bp.get("/certificates/<certificate_id:id>/pdf")
@doc("已出具证明的 PDF（PAdES 数字签名，含核验二维码）", errors=(401, 404, 409), tag="certificates", secured="citizen",
     response_media=binary("application/pdf"))
@citizen_required(scope="certificates")
async def certificate_pdf(request, certificate_id: str):
    cert, data = await service.pdf_of(actor=request.ctx.actor, certificate_id=certificate_id,
                                      deps=request.app.ctx.deps)
    return raw(data, content_type="application/pdf",
               headers={"Content-Disposition": f'attachment; filename="{cert.serial}.pdf"'})


@bp.get("/licenses")
@doc("电子证照夹：已出具的证明和登记数据中的证照（字段默认脱敏）", response=LicensePage, errors=(401,),
     tag="certificates", secured="citizen")
@citizen_required(scope="licenses")
async def list_licenses(request):
    entries = await wallet.licenses(citizen_id=request.ctx.actor.citizen_id, now=request.app.ctx.deps.clock())
    return respond({"items": [wallet.masked(e) for e in entries]})


@bp.post("/licenses/<license_id:id>/presentations")
@doc("亮证：只出示所选字段的短时签名二维码（默认 120 秒）", body=PresentationCreate, response=PresentationRead,
     status=201, errors=(401, 404, 422), tag="certificates", secured="citizen")
@citizen_required(scope="licenses")
async def present(request, license_id: str):
    body = parse(request, PresentationCreate)
    deps = request.app.ctx.deps
    answer = await wallet.present(actor=request.ctx.actor, license_id=license_id, fields=body.fields,
                                  ttl_seconds=body.ttl_seconds or deps.settings.presentation_ttl_seconds, deps=deps)
    return respond(answer, status=201)


async def _limit(request, serial: str | None = None):
    """The per-address limit, and the certificate's cached card read in the same round trip."""
    s = request.app.ctx.deps.settings
    return await ratelimit.hit(request.app.ctx.deps.redis, bucket=f"verify:{client_ip(request)}",
                               limit=s.verify_rate_per_ip, window_seconds=60,
                               also_get=service.verify_key(serial) if serial else None)


@bp.post("/verify")
@doc("核验（无需登录，限流）：亮证二维码或电子证明核验地址 → valid、revoked、expired、invalid", body=VerifyRequest,
     response=VerifyRead, errors=(422, 429), tag="certificates")
@reads_replica
async def verify(request):
    body = parse(request, VerifyRequest)
    found = _URL.search(body.payload)
    cached = await _limit(request, found["serial"] if found else None)
    now = request.app.ctx.deps.clock()
    if found:
        answer = await service.verify_serial(serial=found["serial"], code=found["code"], now=now,
                                             redis=request.app.ctx.deps.redis, cached=cached)
    else:
        answer = await wallet.verify_presentation(payload=body.payload.strip(),
                                                  key=wallet.presentation_key(request.app.ctx.deps),
                                                  now=now)
    return respond({k: v for k, v in answer.items() if v is not None})


@bp.get("/verify/<serial:code>")
@doc("电子证明二维码中的核验地址（无需登录，限流）", response=VerifyRead, errors=(429,), tag="certificates")
@reads_replica
async def verify_by_serial(request, serial: str):
    cached = await _limit(request, serial)
    answer = await service.verify_serial(serial=serial, code=request.args.get("code", ""),
                                         now=request.app.ctx.deps.clock(), redis=request.app.ctx.deps.redis,
                                         cached=cached)
    return respond({k: v for k, v in answer.items() if v is not None})


@admin_bp.get("/certificates")
@doc("待审核和已出具的证明（本部门）", response=CertificatePage, errors=(401, 403), tag="admin", secured="admin")
@admin_required("reviewer", "super_admin")
async def staff_certificates(request):
    deps = request.app.ctx.deps
    page = await service.staff_list(actor=request.ctx.actor, status=request.args.get("status"),
                                    paging=page_request(request.args), base_url=deps.settings.public_base_url,
                                    now=deps.clock())
    return respond(page.body())


@admin_bp.get("/certificates/<certificate_id:id>")
@doc("一份证明申请（审核用）：申请记录、申请人与证明事项（脱敏）、此刻可执行的操作；读取记入审计",
     response=StaffCertificateRead, errors=(401, 403, 404), tag="admin", secured="admin",
     description="本人所在部门以外的证明为 404（超级管理员可看全部）。审计操作为 certificate.read。")
@admin_required("reviewer", "super_admin")
async def staff_certificate(request, certificate_id: str):
    deps = request.app.ctx.deps
    return respond(await service.staff_read(actor=request.ctx.actor, certificate_id=certificate_id,
                                            base_url=deps.settings.public_base_url, now=deps.clock(),
                                            redis=deps.redis))


@admin_bp.post("/certificates/<certificate_id:id>/actions")
@doc("审核或撤销证明：approve、reject、revoke（撤销立即生效；reject、revoke 须写明理由）；"
     "每项决定向持证人发送一条消息，重复操作为 409，不再发送", body=CertificateAction, response=CertificateRead,
     errors=(401, 403, 404, 409, 422), tag="admin", secured="admin")
@admin_required("reviewer", "super_admin")
async def staff_action(request, certificate_id: str):
    body = parse(request, CertificateAction)
    answer = await service.staff_action(actor=request.ctx.actor, certificate_id=certificate_id, action=body.action,
                                        note=body.note, deps=request.app.ctx.deps)
    return respond(answer)



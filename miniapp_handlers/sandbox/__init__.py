"""WeChat-, Alipay- and SMS-provider-compatible upstreams for development and tests (MINIAPP_SANDBOX=1), with faults."""

from __future__ import annotations

from sanic import Blueprint, empty

from api.core.http import doc, parse, respond
from api.core.settings import Settings
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.alipay import create_alipay_blueprint
from miniapp_handlers.sandbox.sms import create_sms_blueprint
from miniapp_handlers.sandbox.wechat import create_wechat_blueprint


def _faults_blueprint() -> Blueprint:
    bp = Blueprint("sandbox_faults", url_prefix="/sandbox")

    @bp.get("/<platform:wechat|alipay|sms>/faults")
    @doc("沙箱助手：当前注入的故障", response=state.Faults, tag="sandbox")
    async def get_faults(request, platform: str):
        return respond(await state.get_faults(request.app.ctx.deps.redis, platform))

    @bp.put("/<platform:wechat|alipay|sms>/faults")
    @doc("沙箱助手：注入延迟、故障或限流", body=state.Faults, response=state.Faults, errors=(422,), tag="sandbox")
    async def put_faults(request, platform: str):
        faults = parse(request, state.Faults)
        await state.set_faults(request.app.ctx.deps.redis, platform, faults)
        return respond(faults)

    @bp.delete("/<platform:wechat|alipay|sms>/faults")
    @doc("沙箱助手：清除故障", status=204, tag="sandbox")
    async def delete_faults(request, platform: str):
        await state.clear_faults(request.app.ctx.deps.redis, platform)
        return empty()

    return bp


def create_sandbox_blueprint(settings: Settings) -> Blueprint:
    """Every sandbox route, under /sandbox (never mounted in production: settings refuse it)."""
    return Blueprint.group(create_wechat_blueprint(), create_alipay_blueprint(), create_sms_blueprint(),
                           _faults_blueprint())

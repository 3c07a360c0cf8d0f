"""The helper routes every sandbox upstream has for tests: what it received, a reset, and its counters."""

from __future__ import annotations

from sanic import Blueprint, empty

from api.core.http import doc, respond
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.schemas import Messages


def add_message_routes(bp: Blueprint, platform: str, *, received: str, stats_doc: str, stats_model=state.MessageStats,
                       counters: tuple[str, ...] = (state.ACCEPTED,)) -> None:
    """GET and DELETE /messages and GET /stats on `bp`, for the messages `platform`'s twin has `received`."""

    @bp.get("/messages")
    @doc(f"沙箱助手：已接收的{received}", response=Messages, tag="sandbox")
    async def messages(request):
        return respond({"items": await state.messages(request.app.ctx.deps.redis, platform)})

    @bp.delete("/messages")
    @doc(f"沙箱助手：清空已接收的{received}与计数", status=204, tag="sandbox")
    async def clear_messages(request):
        await state.clear_messages(request.app.ctx.deps.redis, platform)
        return empty()

    @bp.get("/stats")
    @doc(f"沙箱助手：{stats_doc}", response=stats_model, tag="sandbox")
    async def stats(request):
        return respond(await state.counters(request.app.ctx.deps.redis, platform, *counters))

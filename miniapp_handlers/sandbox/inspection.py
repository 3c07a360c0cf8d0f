"""The helper routes every sandbox upstream has for tests: what it received, a reset, its counters, and the users
it knows or who refuse its messages."""

from __future__ import annotations

from sanic import Blueprint, empty

from api.core.http import doc, parse, respond
from miniapp_handlers.sandbox import state
from miniapp_handlers.sandbox.schemas import Messages

USER_TTL = 30 * 24 * 3600  # how long a registered user stays known


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


def add_user_routes(bp: Blueprint, platform: str, *, body: type, field: str, refusal: str) -> None:
    """POST /users (recipients known as if they had logged in) and POST /refusals on `bp`; `body` holds the ids
    in its `field + "s"` list, and `refusal` names how the platform refuses messages."""
    ids_of = f"{field}s"

    @bp.post("/users")
    @doc("沙箱助手：批量登记用户（如同已登录过小程序）", body=body, response=state.Added, errors=(422,), tag="sandbox")
    async def users(request):
        ids = getattr(parse(request, body), ids_of)
        return respond({"added": await state.register_users(request.app.ctx.deps.redis, platform, ids, field=field,
                                                            ttl_seconds=USER_TTL)})

    @bp.post("/refusals")
    @doc(f"沙箱助手：这些用户拒收消息（{refusal}）", body=body, response=state.Added, errors=(422,), tag="sandbox")
    async def refusals(request):
        ids = getattr(parse(request, body), ids_of)
        return respond({"added": await state.add_refusals(request.app.ctx.deps.redis, platform, ids)})

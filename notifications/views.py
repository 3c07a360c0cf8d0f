"""The citizen's in-app inbox, subscribe-message consents and notification preferences."""

from __future__ import annotations

from sanic import Blueprint

from api.core.guards import citizen_required
from api.core.http import doc, parse, respond
from api.core.pagination import page_request
from notifications import consent, service, templates
from notifications.schemas import (
    InboxPage,
    InboxRead,
    MessagePage,
    MessageTemplateList,
    PreferencesRead,
    PreferencesUpdate,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionRead,
)

bp = Blueprint("inbox", url_prefix="/api/v1")


def _read(m) -> dict:
    return {"id": m.id, "title": m.title, "body": m.body, "topic": m.topic,
            "ref": {"kind": m.ref_kind, "id": m.ref_id} if m.ref_kind else None, "created_at": m.created_at,
            "read_at": m.read_at}


@bp.get("/inbox")
@doc("站内消息，最新在前", response=InboxPage, errors=(401, 422), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def inbox(request):
    page = await service.inbox_page(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body(_read))


@bp.get("/me/messages")
@doc("发给我的消息：每条经哪个渠道、状态如何（如 3 月 12 日经微信送达），最新在前；代办人需 inbox 授权",
     response=MessagePage, errors=(401, 422), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def my_messages(request):
    page = await service.message_history(citizen_id=request.ctx.actor.citizen_id, paging=page_request(request.args))
    return respond(page.body())


@bp.post("/inbox/<message_id:id>/read")
@doc("标记已读", response=InboxRead, errors=(401, 404), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def mark_read(request, message_id: str):
    return respond(_read(await service.mark_read(citizen_id=request.ctx.actor.citizen_id, message_id=message_id)))


@bp.post("/subscriptions")
@doc("记录订阅消息授权结果（wx.requestSubscribeMessage / 支付宝订阅）：一次性授权每条消息消耗一次，长期授权保持",
     body=SubscriptionCreate, response=SubscriptionRead, errors=(401, 422), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def subscribe(request):
    body = parse(request, SubscriptionCreate)
    return respond(await consent.record_subscription(citizen_id=request.ctx.actor.citizen_id, **body.model_dump()))


@bp.get("/me/subscriptions")
@doc("我的订阅消息授权：按平台与模板列出剩余的一次性次数与持有的长期订阅", response=SubscriptionList, errors=(401,),
     tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def my_subscriptions(request):
    return respond(await consent.subscriptions(citizen_id=request.ctx.actor.citizen_id))


@bp.get("/message-templates")
@doc("订阅消息模板：前端据此调用 wx.requestSubscribeMessage / 支付宝订阅（公开）", response=MessageTemplateList,
     tag="notifications")
async def message_templates(request):
    return respond({"items": templates.of(request.app.ctx.deps).catalogue()})


@bp.get("/me/notification-preferences")
@doc("我退订的推送渠道与主题", response=PreferencesRead, errors=(401,), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def get_preferences(request):
    return respond(await consent.preferences(citizen_id=request.ctx.actor.citizen_id))


@bp.put("/me/notification-preferences")
@doc("设置退订的推送渠道与主题、是否所有事项都可短信告知（整体替换；站内信始终保留）",
     body=PreferencesUpdate, response=PreferencesRead,
     errors=(401, 422), tag="notifications", secured="citizen")
@citizen_required(scope="inbox")
async def put_preferences(request):
    body = parse(request, PreferencesUpdate)
    return respond(await consent.set_preferences(citizen_id=request.ctx.actor.citizen_id, channels=body.channels,
                                                 topics=body.topics, sms_for_all_topics=body.sms_for_all_topics))

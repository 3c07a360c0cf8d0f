"""What citizens allow: subscribe-message consents (spent one per message) and channel or topic opt-outs."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from api.core import rawsql
from notifications.events import SMS_ALL_TOPICS
from notifications.models import NotificationOptOut, Subscription


async def record_subscription(*, citizen_id: str, platform: str, template_id: str, result: str, kind: str) -> dict:
    """Record what wx.requestSubscribeMessage (or Alipay's) reported: a one-time accept adds one credit (one
    message); a long-term accept holds the template until a reject or ban revokes it; ban also ends the credits."""
    sub, _ = await Subscription.get_or_create(citizen_id=citizen_id, platform=platform, template_id=template_id)
    if result == "accept" and kind == "one_time":
        # Added in the database, so two accepts at once both count.
        await rawsql.execute("UPDATE subscription SET one_time_remaining = one_time_remaining + 1, banned = ? "
                             "WHERE id = ?", [False, sub.id])
    elif result == "accept":
        await Subscription.filter(id=sub.id).update(long_term=True, banned=False)
    elif result == "reject" and kind == "long_term":
        # The citizen turned the long-term subscription off; one-time credits already given stay theirs.
        await Subscription.filter(id=sub.id).update(long_term=False)
    elif result == "ban":
        await Subscription.filter(id=sub.id).update(long_term=False, banned=True, one_time_remaining=0)
    return _read(await Subscription.get(id=sub.id))


def _read(sub: Subscription) -> dict:
    return {"platform": sub.platform, "template_id": sub.template_id, "one_time_remaining": sub.one_time_remaining,
            "long_term": sub.long_term, "banned": sub.banned}


async def subscriptions(*, citizen_id: str) -> dict:
    """The citizen's consents per platform and template: one-time credits left, long-term ones held."""
    rows = await Subscription.filter(citizen_id=citizen_id).order_by("platform", "template_id")
    return {"items": [_read(s) for s in rows]}


async def preferences(*, citizen_id: str) -> dict:
    """The channels and topics the citizen opted out of."""
    rows = await NotificationOptOut.filter(citizen_id=citizen_id).order_by("value")
    return {"channels": [r.value for r in rows if r.kind == "channel"],
            "topics": [r.value for r in rows if r.kind == "topic"],
            "sms_for_all_topics": any((r.kind, r.value) == SMS_ALL_TOPICS for r in rows)}


async def set_preferences(*, citizen_id: str, channels: list[str], topics: list[str],
                          sms_for_all_topics: bool = False) -> dict:
    """Replace the citizen's opt-outs (and the SMS-for-every-topic opt-in) with these."""
    kind, value = SMS_ALL_TOPICS
    async with in_transaction():
        await NotificationOptOut.filter(citizen_id=citizen_id).delete()
        await NotificationOptOut.bulk_create(
            [NotificationOptOut(citizen_id=citizen_id, kind="channel", value=c) for c in sorted(set(channels))]
            + [NotificationOptOut(citizen_id=citizen_id, kind="topic", value=t) for t in sorted(set(topics))]
            + ([NotificationOptOut(citizen_id=citizen_id, kind=kind, value=value)] if sms_for_all_topics else []))
    return await preferences(citizen_id=citizen_id)

"""The staff console's delivery funnels of recent campaigns (the figures are counted in the database)."""

from __future__ import annotations

from api.core import charts, db
from api.core.errors import ValidationFailed
from api.policies.models import Campaign, Policy
from notifications import service as notifications

DEFAULT_CAMPAIGNS, MAX_CAMPAIGNS = 10, 50
STAGES = ("queued", "sent", "delivered", "read")


def campaign_count(args) -> int:
    """`?limit=`: how many campaigns (10 by default, 50 at most); 422 otherwise."""
    value = args.get("limit", str(DEFAULT_CAMPAIGNS))
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_CAMPAIGNS:
        raise ValidationFailed(fields={"limit": f"须为 1 到 {MAX_CAMPAIGNS} 的整数"})
    return int(value)


def _funnel(campaign: Campaign, figures: dict) -> dict:
    delivered = figures["delivered"]["total"]
    stages = {"queued": campaign.queued or 0, "sent": figures["sent"]["total"] + delivered, "delivered": delivered,
              "read": figures["read"]}
    return {**stages, "failed": figures["failed"]["total"],
            "funnel": [{"stage": stage, "count": stages[stage]} for stage in STAGES]}


async def funnels(*, span: charts.DayRange, limit: int) -> dict:
    """The most recent `limit` campaigns started in the range, newest first, each with its delivery funnel."""
    start, end = span.bounds()
    found = await Campaign.filter(created_at__gte=db.as_stored(start), created_at__lt=db.as_stored(end)).using_db(
        db.reader()).order_by("-created_at", "-id").limit(limit)
    figures = await notifications.campaigns_delivery_figures(campaign_ids=[c.id for c in found])
    titles = dict(await Policy.filter(id__in=list({c.policy_id for c in found})).using_db(db.reader()).values_list(
        "id", "title"))
    items = [{"id": c.id, "policy_id": c.policy_id, "title": titles.get(c.policy_id, ""), "status": c.status,
              "created_at": c.created_at, **_funnel(c, figures[c.id])} for c in found]
    return {**span.body(), "stages": list(STAGES), "items": items}

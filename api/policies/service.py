"""Policies: drafts, preview, publishing into campaigns, campaign control and figures."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from api.core import audit, db, idempotency, ids
from api.core.errors import NotFound, ValidationFailed
from api.core.pagination import Page, PageRequest, nothing, paginate
from api.core.workdays import today, utc_now
from api.policies import audience, campaigns, facts, versions
from api.policies.errors import CampaignActive, InvalidCampaignMove, MakerChecker, NotAwaitingApproval, PolicyArchived
from api.policies.models import Campaign, Policy
from api.policies.schemas import POLICY_STATUSES
from notifications import service as notifications


async def create(*, actor, data: dict) -> Policy:
    """A new draft policy; its rule is checked against the attribute registry (422 with the path)."""
    data = versions.stored(data)
    policy_id = ids.new_id("pol")
    async with in_transaction():
        policy = await Policy.create(id=policy_id, **data, family_id=policy_id, created_by=actor.actor_id)
        await audit.record_for(actor, action="policy.create", target_type="policy", target_id=policy.id)
    return policy


async def get(policy_id: str) -> Policy:
    """A policy by id (404 when there is none)."""
    policy = await Policy.get_or_none(id=policy_id) if ids.could_be_id(policy_id) else None
    if policy is None:
        raise NotFound("政策不存在")
    return policy


async def public(*, policy_id: str) -> Policy:
    """A policy as the public reads it: published or archived (an old push still opens it); a draft is 404."""
    policy = await Policy.get_or_none(id=policy_id, status__in=("published", "archived"),
                                      using_db=db.reader()) if ids.could_be_id(policy_id) else None
    if policy is None:
        raise NotFound("政策不存在")
    return policy


async def page(*, paging: PageRequest, status: str | None, family_id: str | None = None) -> Page:
    """Policies, newest first, in one status and of one family (all versions of a policy) when asked; an unknown
    status is 422."""
    if status is not None and status not in POLICY_STATUSES:
        raise ValidationFailed(fields={"status": "取值为 " + "、".join(POLICY_STATUSES)})
    query = Policy.filter(status=status) if status else Policy.all()
    if family_id is not None:
        if not ids.could_be_id(family_id):
            return nothing(page=paging)
        query = query.filter(family_id=family_id)
    return await paginate(query, page=paging)


async def update(*, actor, policy_id: str, changes: dict) -> tuple[Policy, bool]:
    """Edit a policy (see versions.update): the policy, and True when a new version was made."""
    return await versions.update(actor=actor, policy_id=policy_id, changes=changes)


async def preview(*, actor, policy_id: str, sample_size: int = 5) -> dict:
    """How many people the rule matches today, a masked sample, and how long the count took."""
    policy = await get(policy_id)
    answer = await audience.count_and_sample(policy.rule, sample_size=sample_size)
    # A preview shows (masked) people from the registries: that is a personal-data read.
    await audit.record_for(actor, action="policy.preview", target_type="policy", target_id=policy.id,
                           detail={"matched": answer["matched"], "sampled": len(answer["sample"])})
    return answer


async def _audience_size(policy: Policy) -> int | None:
    try:
        return await facts.count_matching(policy.rule, as_of=today())
    except ValidationFailed:
        # A stored rule the registry no longer takes cannot be counted; its campaign fails at once, with the reason.
        return None


async def _family_ids(policy: Policy) -> list[str]:
    return await Policy.filter(family_id=policy.family_id).values_list("id", flat=True)


async def publish(*, actor, policy_id: str, idempotency_key: str | None, raw: dict, jobs, queue_name: str,
                  threshold: int | None = None) -> dict:
    """Publish (or run again) a policy: a campaign is queued; matching and sending run in the background. When the
    audience counted now is over `threshold` (maker-checker), the campaign awaits another admin's approval and the
    policy stays as it is until then."""

    async def create_campaign():
        policy = await Policy.select_for_update().get_or_none(id=policy_id)
        if policy is None:
            raise NotFound("政策不存在")
        if policy.status == "archived":
            raise PolicyArchived()
        # One campaign at a time per policy, across its versions (they share who was reached).
        if await Campaign.filter(policy_id__in=await _family_ids(policy), status__in=campaigns.ACTIVE).exists():
            raise CampaignActive()
        matched = await _audience_size(policy) if threshold is not None else None
        awaiting = matched is not None and matched > threshold
        archived: list[str] = []
        if policy.status == "draft" and not awaiting:
            archived = await versions.go_live(policy)
        campaign = await Campaign.create(policy_id=policy.id, queue_name=queue_name, as_of=today(),
                                         created_by=actor.actor_id,
                                         **({"status": "awaiting_approval", "matched": matched} if awaiting else {}))
        await audit.record_for(actor, action="policy.publish", target_type="campaign", target_id=campaign.id,
                               detail={"policy_id": policy.id, "status": campaign.status, "matched": matched,
                                       "archived": archived})
        return 202, {"campaign_id": campaign.id, "status": campaign.status, "matched": matched}

    status, answer = await idempotency.run_once(scope=f"policy-publish:{policy_id}", key=idempotency_key,
                                                body=raw, create=create_campaign, look_first=True)
    if answer.get("status", "queued") == "queued":
        # Enqueued after the commit; were this lost, the watchdog queues campaigns left waiting.
        await jobs.enqueue("run_campaign", answer["campaign_id"])
    return answer


async def approve(*, actor, campaign_id: str, jobs) -> None:
    """A second admin starts a campaign awaiting approval (publishing its policy when it is a draft): 403
    `maker_checker` for its maker, 409 when it is not awaiting approval."""
    campaign = await get_campaign(campaign_id)
    if campaign.status != "awaiting_approval":
        raise NotAwaitingApproval()
    if campaign.created_by == actor.actor_id:
        raise MakerChecker()
    async with in_transaction():
        policy = await Policy.select_for_update().get(id=campaign.policy_id)
        approved = await Campaign.filter(id=campaign.id, status="awaiting_approval").update(
            status="queued", approved_by=actor.actor_id, approved_at=utc_now())
        if not approved:
            raise NotAwaitingApproval()
        archived = await versions.go_live(policy) if policy.status == "draft" else []
        await audit.record_for(actor, action="campaign.approve", target_type="campaign", target_id=campaign.id,
                               detail={"policy_id": policy.id, "maker": campaign.created_by,
                                       "matched": campaign.matched, "archived": archived})
    await jobs.enqueue("run_campaign", campaign.id)


async def archive(*, actor, policy_id: str) -> Policy:
    """Archive a policy: no more campaigns; grants already made stand."""
    policy = await get(policy_id)
    if await Campaign.filter(policy_id=policy.id, status__in=campaigns.ACTIVE).exists():
        raise CampaignActive()
    if policy.status != "archived":
        policy.status, policy.archived_at = "archived", utc_now()
        async with in_transaction():
            await policy.save(update_fields=["status", "archived_at", "updated_at"])
            await audit.record_for(actor, action="policy.archive", target_type="policy", target_id=policy.id)
    return policy


async def get_campaign(campaign_id: str) -> Campaign:
    """A campaign by id (404 when there is none)."""
    campaign = await Campaign.get_or_none(id=campaign_id) if ids.could_be_id(campaign_id) else None
    if campaign is None:
        raise NotFound("推送批次不存在")
    return campaign


CAMPAIGN_STATUSES = ("awaiting_approval", "queued", "running", "paused", "completed", "cancelled", "failed")


def _campaign_answer(campaign: Campaign, figures: dict) -> dict:
    return {**{k: getattr(campaign, k) for k in ("id", "policy_id", "status", "stage", "as_of", "matched", "granted",
                                                 "queued", "created_by", "approved_by", "approved_at", "created_at",
                                                 "started_at", "matched_at", "finished_at")},
            "failure_reason": campaign.error, **figures}


async def campaign_figures(campaign_id: str) -> dict:
    """The campaign with its figures: matched, granted, queued; sent, delivered, failed by channel and reason; why
    it failed, when it did."""
    campaign = await get_campaign(campaign_id)
    return _campaign_answer(campaign, await notifications.campaign_delivery_figures(campaign_id=campaign.id))


async def campaigns_page(*, paging: PageRequest, policy_id: str | None, status: str | None) -> Page:
    """Campaigns, newest first, of one policy and in one status when asked, each with its figures (as
    campaign_figures); an unknown status is 422."""
    if status is not None and status not in CAMPAIGN_STATUSES:
        raise ValidationFailed(fields={"status": "取值为 " + "、".join(CAMPAIGN_STATUSES)})
    query = Campaign.all()
    if policy_id is not None:
        if not ids.could_be_id(policy_id):
            return nothing(page=paging)
        query = query.filter(policy_id=policy_id)
    if status is not None:
        query = query.filter(status=status)
    found = await paginate(query, page=paging)
    figures = await notifications.campaigns_delivery_figures(campaign_ids=[c.id for c in found.items])
    return found.map(lambda c: _campaign_answer(c, figures[c.id]))


async def control(*, actor, campaign_id: str, action: str, jobs, senders: int, lease_seconds: int) -> Campaign:
    """Pause, resume or cancel a campaign."""
    campaign = await get_campaign(campaign_id)
    moves = {"pause": (("queued", "running"), "paused"), "resume": (("paused",), "running"),
             "cancel": (campaigns.ACTIVE, "cancelled")}
    allowed, target = moves[action]
    async with in_transaction():
        changed = await Campaign.filter(id=campaign.id, status__in=allowed).update(
            status=target, **({"finished_at": utc_now()} if target == "cancelled" else {}))
        if not changed:
            raise InvalidCampaignMove()
        await audit.record_for(actor, action=f"campaign.{action}", target_type="campaign", target_id=campaign.id)
    if action == "cancel":
        await notifications.cancel_campaign_deliveries(campaign_id=campaign.id)
    if action == "resume":
        if campaign.stage == "match":
            await jobs.enqueue("run_campaign", campaign.id)
        else:
            await campaigns.start_senders(jobs=jobs, campaign_id=campaign.id, count=senders,
                                          lease_seconds=lease_seconds)
    return await get_campaign(campaign_id)

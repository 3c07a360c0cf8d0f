"""Policy versions: a draft is edited in place; a published policy is never rewritten, an edit makes the next
version as a draft, and publishing that version archives the one before (its grants stand)."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from api.core import audit, ids
from api.core.errors import NotFound, ValidationFailed
from api.core.workdays import utc_now
from api.policies import rules
from api.policies.errors import AwaitingApproval, NewerDraftExists, PolicyNotEditable
from api.policies.models import Campaign, Policy

# What a new version copies from the one it follows (then the edit applies).
CONTENT = ("title", "summary", "body", "mode", "rule", "benefit", "channels", "apply_url", "valid_from",
           "valid_until")


def stored(data: dict) -> dict:
    """Create or edit fields as stored: the rule in normal form (422 with its path), a bare benefit as its name."""
    data = dict(data)
    if "rule" in data:
        data["rule"] = rules.validate(data["rule"])
    if isinstance(data.get("benefit"), str):
        # Stored as an object: a JSON column would read a bare string back as JSON text.
        data["benefit"] = {"name": data["benefit"]}
    return data


def _check_dates(policy: Policy, changes: dict) -> None:
    start = changes.get("valid_from", policy.valid_from)
    end = changes.get("valid_until", policy.valid_until)
    if start is not None and end is not None and end < start:
        raise ValidationFailed(fields={"valid_until": "截止日不能早于生效日"})


async def update(*, actor, policy_id: str, changes: dict) -> tuple[Policy, bool]:
    """Edit a policy: a draft in place; a published one gives a new draft version (True when one was made). Only
    one open draft per policy: editing the published one while a newer draft exists is 409 naming that draft."""
    changes = stored(changes)
    async with in_transaction():
        policy = await Policy.select_for_update().get_or_none(id=policy_id) if ids.could_be_id(policy_id) else None
        if policy is None:
            raise NotFound("政策不存在")
        if policy.status == "archived":
            raise PolicyNotEditable()
        _check_dates(policy, changes)
        if policy.status == "draft":
            # The approver must see what the maker published: no edit while the publish awaits approval.
            if await Campaign.filter(policy_id=policy.id, status="awaiting_approval").exists():
                raise AwaitingApproval()
            if changes:
                for name, value in changes.items():
                    setattr(policy, name, value)
                await policy.save(update_fields=[*changes, "updated_at"])
            await audit.record_for(actor, action="policy.update", target_type="policy", target_id=policy.id,
                                   detail={"fields": sorted(changes)})
            return policy, False
        draft = await Policy.filter(family_id=policy.family_id, status="draft").order_by("-version").first()
        if draft is not None:
            raise NewerDraftExists(draft.id)
        versions = await Policy.filter(family_id=policy.family_id).values_list("version", flat=True)
        content = {name: getattr(policy, name) for name in CONTENT}
        new_id = ids.new_id("pol")
        draft = await Policy.create(id=new_id, **{**content, **changes}, family_id=policy.family_id,
                                    version=max(versions) + 1, previous_id=policy.id, created_by=actor.actor_id)
        await audit.record_for(actor, action="policy.version", target_type="policy", target_id=draft.id,
                               detail={"previous_id": policy.id, "version": draft.version, "fields": sorted(changes)})
    return draft, True


async def go_live(policy: Policy) -> list[str]:
    """Publish a draft (inside the caller's transaction): earlier published versions of its family are archived
    (their grants stand); their ids."""
    now = utc_now()
    policy.status, policy.published_at = "published", now
    await policy.save(update_fields=["status", "published_at", "updated_at"])
    earlier = await Policy.filter(family_id=policy.family_id, status="published").exclude(id=policy.id) \
        .values_list("id", flat=True)
    if earlier:
        await Policy.filter(id__in=earlier).update(status="archived", archived_at=now, updated_at=now)
    return list(earlier)

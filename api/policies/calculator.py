"""The policy calculator (政策计算器) and a citizen's grants: what the registries say about me, and why."""

from __future__ import annotations

from api.citizens.models import Citizen
from api.core.errors import NotFound
from api.core.pagination import Page, PageRequest, nothing, paginate
from api.core.workdays import today
from api.policies import facts, rules
from api.policies.errors import RealNameRequired
from api.policies.models import Policy, PolicyReach

CORRECTION_ROUTE = "/api/v1/registry-corrections"


async def _person(citizen_id: str) -> str:
    citizen = await Citizen.get(id=citizen_id)
    if citizen.assurance_level < 2 or not citizen.id_number_bidx:
        raise RealNameRequired()
    return citizen.id_number_bidx


async def eligible(*, citizen_id: str) -> dict:
    """For each published policy: eligible or not, condition by condition with the facts used."""
    person = await _person(citizen_id)
    as_of = today()
    known = await facts.load_facts(person_bidx=person)
    policies = await Policy.filter(status="published").order_by("-published_at")
    # Reached by any version of a policy counts: a later version never grants the same person again.
    reached = set(await PolicyReach.filter(person_bidx=person, family_id__in=[p.family_id for p in policies])
                  .values_list("family_id", flat=True))
    items = []
    for policy in policies:
        ok, reasons = rules.explain(policy.rule, known or {}, as_of=as_of)
        missing = sorted({r["missing_dataset"] for r in reasons if r["missing_dataset"]})
        if known is None:
            missing = ["population"]
        items.append({"policy_id": policy.id, "title": policy.title, "mode": policy.mode, "eligible": ok,
                      "granted": policy.family_id in reached and policy.mode == "auto_grant", "reasons": reasons,
                      "correction": {"datasets": missing, "method": "POST", "path": CORRECTION_ROUTE,
                                     "hint": "登记数据缺失或有误时，可提交数据补正申请，由数据主管部门核实更新"}
                      if missing else None})
    return {"items": items, "as_of": as_of}


async def grants_page(*, citizen_id: str, paging: PageRequest) -> Page:
    """Benefits granted to the citizen without applying, newest first."""
    citizen = await Citizen.get(id=citizen_id)
    if not citizen.id_number_bidx:
        return nothing(page=paging)
    found = await paginate(PolicyReach.filter(person_bidx=citizen.id_number_bidx, granted=True), page=paging)
    policies = {p.id: p for p in await Policy.filter(id__in=[r.policy_id for r in found.items])}
    return found.map(lambda r: _grant(r, policies[r.policy_id]))


async def own_grant(*, citizen_id: str, grant_id: str) -> dict:
    """One benefit granted to the citizen without applying (what a grant message opens); 404 for anyone else's."""
    citizen = await Citizen.get(id=citizen_id)
    grant = await PolicyReach.get_or_none(id=grant_id, person_bidx=citizen.id_number_bidx, granted=True) \
        if citizen.id_number_bidx else None
    if grant is None:
        raise NotFound("待遇不存在")
    return _grant(grant, await Policy.get(id=grant.policy_id))


def _grant(reach: PolicyReach, policy: Policy) -> dict:
    return {"id": reach.id, "policy_id": reach.policy_id, "title": policy.title, "benefit": policy.benefit,
            "granted_at": reach.created_at, "status": reach.status}

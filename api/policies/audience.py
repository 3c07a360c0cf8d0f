"""Who a rule reaches, for the rule builder: the live count with a masked sample, and one person checked condition
by condition (both read registry data about people: audited)."""

from __future__ import annotations

import time

from api.citizens import idnumber
from api.core import audit, pii
from api.core.errors import ValidationFailed
from api.core.workdays import today
from api.policies import facts, rules
from api.policies.errors import PersonNotFound


async def count_and_sample(rule: dict, *, sample_size: int = 5) -> dict:
    """How many people the rule matches today, a masked sample, and how long the count took."""
    as_of = today()
    started = time.perf_counter()
    matched = await facts.count_matching(rule, as_of=as_of)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    c = pii.cipher()
    sample = [{"name": pii.mask_name(c.decrypt(r["name_enc"], context="population.name")),
               "id_number": pii.mask_id_number(c.decrypt(r["id_number_enc"], context="population.id_number")),
               "hukou_region": r["hukou_region"],
               "age": rules.age_on(r["birth_date"], as_of) if r["birth_date"] else None}
              for r in await facts.sample_matching(rule, as_of=as_of, limit=sample_size)]
    return {"matched": matched, "sample": sample, "elapsed_ms": elapsed_ms, "as_of": as_of}


async def preview_rule(*, actor, rule: dict) -> dict:
    """The audience of an unsaved rule (422 naming the path of a bad one), as a policy's preview."""
    answer = await count_and_sample(rules.validate(rule))
    # The sample shows (masked) people from the registries: a personal-data read.
    await audit.record_for(actor, action="rule.preview", target_type="rule",
                           detail={"matched": answer["matched"], "sampled": len(answer["sample"])})
    return answer


async def explain_person(*, actor, rule: dict, id_number: str) -> dict:
    """Whether one person in the population registry meets the rule, condition by condition with the facts used;
    404 `person_not_found` when the registry has no such id number."""
    rule = rules.validate(rule)
    id_number = id_number.strip().upper()
    problem = idnumber.problem(id_number)
    if problem:
        raise ValidationFailed(fields={"id_number": problem})
    bidx = pii.cipher().blind_index(id_number, kind="id_number")
    name_enc = await facts.population_name(person_bidx=bidx)
    known = await facts.load_facts(person_bidx=bidx) if name_enc is not None else None
    # Audited before answering, found or not: the masked number and the blind index name the person without
    # their number in clear.
    await audit.record_for(actor, action="registry.person.explain", target_type="person",
                           target_id=pii.mask_id_number(id_number), detail={"person_bidx": bidx,
                                                                            "found": known is not None})
    if known is None:
        raise PersonNotFound()
    as_of = today()
    eligible, reasons = rules.explain(rule, known, as_of=as_of)
    name = pii.cipher().decrypt(name_enc, context="population.name")
    return {"eligible": eligible, "reasons": reasons, "as_of": as_of,
            "person": {"name": pii.mask_name(name) if name else None, "id_number": pii.mask_id_number(id_number)}}

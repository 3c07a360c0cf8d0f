"""Deciding a certificate from registry data (秒批): issue with the facts, send to a reviewer, or refuse."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.citizens.models import Citizen, PopulationRecord
from api.core import pii


@dataclass
class Decision:
    """`issue` (with the facts to certify), `review` (a person decides) or `reject` (with the reason)."""

    outcome: str
    reason: str | None = None
    facts: dict = field(default_factory=dict)


def _identity(citizen: Citizen) -> dict:
    c = pii.cipher()
    return {"name": c.decrypt(citizen.name_enc, context="citizen.name"),
            "id_number": c.decrypt(citizen.id_number_enc, context="citizen.id_number")}


async def _population(citizen: Citizen) -> PopulationRecord | None:
    return await PopulationRecord.get_or_none(id_number_bidx=citizen.id_number_bidx)


async def population_hukou(citizen: Citizen, *, home_region: str) -> Decision:
    """户籍证明: issued when this province's population registry holds the citizen's household registration."""
    record = await _population(citizen)
    if record is None or not record.hukou_region:
        return Decision("review", "户籍库中暂无可自动核验的登记信息，已转人工核查")
    if record.hukou_region[:2] != home_region[:2]:
        return Decision("reject", "户籍不在本省，请向户籍所在地公安机关申请")
    return Decision("issue", facts={**_identity(citizen), "hukou_region": record.hukou_region})


async def population_address(citizen: Citizen, *, home_region: str) -> Decision:
    """居住证明: issued when the registry holds an address for the citizen."""
    record = await _population(citizen)
    address = pii.cipher().decrypt(record.address_enc, context="population.address") if record else None
    if not address:
        return Decision("review", "人口库中暂无居住地址，已转人工核查")
    return Decision("issue", facts={**_identity(citizen), "address": address})


async def reviewer(citizen: Citizen, *, home_region: str) -> Decision:
    """No registry answers this type here yet: a reviewer of the issuing department decides."""
    return Decision("review", "需经办部门人工核查", facts=_identity(citizen))


DECIDERS = {"population_hukou": population_hukou, "population_address": population_address, "reviewer": reviewer}

"""Citizens' requests to correct registry data (数据补正), routed to the department that owns the dataset."""

from __future__ import annotations

from api.citizens.models import RegistryCorrection
from api.core import audit, pii
from api.core.pagination import Page, PageRequest, paginate
from notifications import service as notifications

# Which department keeps each registry (the staff notice goes there).
OWNERS = {"population": "gongan", "disability": "canlian", "social_insurance": "renshe", "health_card": "weijian",
          "transit": "jiaotong", "low_income": "minzheng"}


async def create(*, actor, data: dict) -> RegistryCorrection:
    """Record a correction request and tell the dataset's department."""
    correction = await RegistryCorrection.create(
        citizen_id=actor.citizen_id, dataset=data["dataset"], field=data.get("field"), policy_id=data.get("policy_id"),
        message_enc=pii.cipher().encrypt(data["message"], context="correction.message"))
    await notifications.notify_staff(dept=OWNERS[data["dataset"]], title="市民提交登记数据补正申请",
                                     body=f"数据集 {data['dataset']}，请核实并更新登记数据。",
                                     ref_kind="registry_correction", ref_id=correction.id,
                                     event_key=f"correction:{correction.id}")
    return correction


async def page(*, actor, paging: PageRequest) -> Page:
    """Correction requests for the admins, newest first (reading them is audited: they hold personal data)."""
    found = await paginate(RegistryCorrection.all(), page=paging)
    c = pii.cipher()
    await audit.record_for(actor, action="registry_correction.list", target_type="registry_correction",
                           detail={"count": len(found.items)})
    return found.map(lambda r: {
        "id": r.id, "citizen_id": r.citizen_id, "dataset": r.dataset, "field": r.field, "policy_id": r.policy_id,
        "status": r.status, "created_at": r.created_at,
        "message": c.decrypt(r.message_enc, context="correction.message")})

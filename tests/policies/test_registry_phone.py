"""A campaign's SMS reaches a person known only to the registry when, and only when, the registry's latest import
gave them a phone: the database keeps `has_phone` from the phone itself (migration 19), on first import and on
every re-import."""

from __future__ import annotations

from api.citizens import registry
from api.core import pii
from notifications.models import OutboxDelivery
from tests.factories import random_id_number, random_phone
from tests.notifications.helpers import sms_to
from tests.policies.helpers import create_policy, fresh_region, policy_admin, publish, rule_for, wait_for


def _person(region: str, phone: str) -> dict:
    return {"id_number": random_id_number(), "name": "测试", "gender": "", "birth_date": "", "phone": phone,
            "hukou_region": region, "address": "测试路"}


async def _sms_rows(client, admin: dict, region: str) -> dict[str, str]:
    """Publish an SMS-only policy over `region` and wait for it: person → status of their SMS row."""
    policy = await create_policy(client, admin, rule=rule_for(region), channels=("sms",))
    campaign_id = await publish(client, admin, policy["id"])
    await wait_for(client, admin, campaign_id)
    rows = await OutboxDelivery.filter(campaign_id=campaign_id, channel="sms").values("person_bidx", "status")
    return {r["person_bidx"]: r["status"] for r in rows}


async def test_sms_follows_the_registry_phone_across_imports(client, live):
    admin = await policy_admin(client)
    region = fresh_region()
    first_phone, later_phone = random_phone(), random_phone()
    with_phone, without = _person(region, first_phone), _person(region, "")
    report = await registry.import_population([with_phone, without])
    assert report.inserted == 2, report.as_dict()
    c = pii.cipher()
    kept, gained = (c.blind_index(p["id_number"], kind="id_number") for p in (with_phone, without))

    assert await _sms_rows(client, admin, region) == {kept: "sent"}
    assert len(await sms_to(client, first_phone)) == 1

    # The next delivery of the registry takes the first person's phone away and gives the second one.
    report = await registry.import_population([{**with_phone, "phone": ""}, {**without, "phone": later_phone}])
    assert report.updated == 2, report.as_dict()

    assert await _sms_rows(client, admin, region) == {gained: "sent"}
    assert len(await sms_to(client, later_phone)) == 1
    assert len(await sms_to(client, first_phone)) == 1  # the earlier one only

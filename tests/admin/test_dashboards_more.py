"""The staff console's dashboards of certificates, code scans and campaign funnels, and the date range every
dashboard takes."""

import datetime as dt
import secrets

from api.core import workdays
from api.policies.models import Campaign, Policy
from notifications import service as notifications
from notifications.models import InboxMessage, OutboxDelivery
from tests.admin.dashboard_helpers import DASHBOARDS, beijing, certificate, dashboard, scans, staff
from tests.factories import bearer, verified_citizen

MARCH = {"from": "2026-03-01", "to": "2026-03-03"}


async def test_every_dashboard_refuses_a_bad_range_with_422_and_changes_nothing(client):
    boss = await staff(client, "super_admin")
    bad = [({"from": "2026-3-1"}, "from"), ({"to": "20260301"}, "to"), ({"from": "2026-02-30"}, "from"),
           ({"from": "1999-12-31", "to": "2000-01-01"}, "from"), ({"to": "2100-01-01"}, "to"),
           ({"from": "2026-03-02", "to": "2026-03-01"}, "to"), ({"from": "2025-01-01", "to": "2026-01-02"}, "from"),
           ({"from": (workdays.today() + dt.timedelta(days=1)).isoformat()}, "from"), ({"from": "中" * 10}, "from"),
           ({"from": "2026-03-01\n"}, "from")]
    for name in DASHBOARDS:
        for query, field in bad:
            body = await dashboard(client, name, boss, expect=422, **query)
            assert body["error"]["code"] == "validation_failed" and list(body["error"]["fields"]) == [field], (
                name, query, body)
        # 366 days, both ends included, is the longest range.
        body = await dashboard(client, name, boss, **{"from": "2024-01-01", "to": "2024-12-31"})
        assert (body["from"], body["to"]) == ("2024-01-01", "2024-12-31")
        assert len(body.get("days", [None] * 366)) == 366
        body = await dashboard(client, name, boss, to="2026-03-03")
        assert (body["from"], body["to"]) == ("2026-02-02", "2026-03-03"), name
    body = await dashboard(client, "applications", boss, expect=422, **{"from": "x", "to": "y"})
    assert set(body["error"]["fields"]) == {"from", "to"} and "YYYY-MM-DD" in body["error"]["fields"]["from"]


async def test_certificates_issued_per_type_and_day_by_the_issuing_department(client):
    await certificate("HUKOU", "gongan", issued_at=beijing("2026-03-01", 8))
    await certificate("HUKOU", "gongan", issued_at=beijing("2026-03-03", 23, 59), status="revoked")
    await certificate("RESIDENCE", "gongan", issued_at=beijing("2026-03-02", 0, 1))
    await certificate("RESIDENCE", "gongan", issued_at=None, status="pending_review")
    await certificate("RESIDENCE", "gongan", issued_at=beijing("2026-02-28", 23, 59))
    await certificate("MARRIAGE_RECORD", "minzheng", issued_at=beijing("2026-03-03"))

    body = await dashboard(client, "certificates", await staff(client, "reviewer", ["gongan"]), **MARCH)
    assert body["days"] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [(s["type_code"], s["name"], s["dept"], s["counts"]) for s in body["series"]] == [
        ("HUKOU", "户籍证明", "gongan", [1, 0, 1]), ("RESIDENCE", "居住证明", "gongan", [0, 1, 0]),
        ("NO_CRIMINAL_RECORD", "无犯罪记录证明", "gongan", [0, 0, 0])]
    assert body["total"] == 3
    for role in ("super_admin", "auditor"):
        body = await dashboard(client, "certificates", await staff(client, role), **MARCH)
        assert len(body["series"]) == 6 and body["total"] == 4
        assert {s["type_code"]: s["counts"] for s in body["series"] if s["total"]} == {
            "HUKOU": [1, 0, 1], "RESIDENCE": [0, 1, 0], "MARRIAGE_RECORD": [0, 0, 1]}
    body = await dashboard(client, "certificates", await staff(client, "reviewer", ["minzheng"]), **MARCH)
    assert [(s["type_code"], s["total"]) for s in body["series"]] == [("MARRIAGE_RECORD", 1)]


async def test_scans_per_scene_and_hour_of_day_summed_over_the_range(client):
    await scans("transit", beijing("2026-03-01", 8, 5), 3)
    await scans("transit", beijing("2026-03-03", 8, 59), 2)
    await scans("transit", beijing("2026-03-02", 8, 30), 1, outcome="refused")
    await scans("transit", beijing("2026-03-02", 23, 59))
    await scans("health", beijing("2026-03-02", 0, 0), 4)  # midnight in Beijing: hour 0, not 16 (UTC)
    await scans("health", beijing("2026-03-04", 9), 5)  # after the range

    for role in ("super_admin", "auditor"):
        body = await dashboard(client, "scans", await staff(client, role), **MARCH)
        assert body["hours"] == list(range(24))
        series = {s["scene"]: s for s in body["series"]}
        assert list(series) == ["service", "health", "transit", "social_security"]
        transit = [0] * 24
        transit[8], transit[23] = 6, 1
        assert (series["transit"]["counts"], series["transit"]["accepted"], series["transit"]["refused"]) == (
            transit, 6, 1)
        assert series["health"]["counts"] == [4] + [0] * 23 and series["health"]["total"] == 4
        assert series["service"]["total"] == 0 and body["total"] == 11
    for role, depts in (("reviewer", ["gongan"]), ("policy_admin", [])):
        await dashboard(client, "scans", await staff(client, role, depts), expect=403)


async def _campaign(title: str, at: dt.datetime, *, queued: int, outcomes: dict[str, int], read: int = 0) -> str:
    """A campaign of a policy called `title`, made at `at`, with outbox rows in these statuses (inbox rows for
    `read`, opened)."""
    family = f"pol_{secrets.token_hex(8)}"
    policy = await Policy.create(id=family, family_id=family, title=title, summary="摘要", body="正文", mode="notify",
                                 rule={}, channels=["inbox"], created_by="adm_x", status="published")
    campaign = await Campaign.create(policy_id=policy.id, status="completed", stage="done", queue_name="q",
                                     as_of=at.date(), created_by="adm_x", queued=queued, created_at=at)
    rows = [OutboxDelivery(dedupe_key=f"{campaign.id}:{secrets.token_hex(6)}", campaign_id=campaign.id,
                           channel="sms", topic="policy", status=status, reason="x" if status == "failed" else None)
            for status, n in outcomes.items() for _ in range(n)]
    opened = []
    for _ in range(read):  # as the sender writes an inbox message: its id is the delivery's
        row = OutboxDelivery(dedupe_key=f"{campaign.id}:{secrets.token_hex(6)}", campaign_id=campaign.id,
                             channel="inbox", topic="policy", status="delivered")
        row.provider_ref = f"msg_{row.id[4:]}"
        rows.append(row)
        opened.append(await InboxMessage.create(id=row.provider_ref, citizen_id="cit_x", title=title, body="正文",
                                                topic="policy"))
    await OutboxDelivery.bulk_create(rows)
    for message in opened:  # opened by its citizen, which the campaign's tally counts
        await notifications.mark_read(citizen_id="cit_x", message_id=message.id)
    return campaign.id


async def test_campaign_funnels_newest_first_within_the_range(client):
    old = await _campaign("二月的政策", beijing("2026-02-28", 23, 59), queued=9, outcomes={"sent": 9})
    first = await _campaign("养老补贴", beijing("2026-03-01"), queued=10,
                            outcomes={"sent": 2, "delivered": 3, "failed": 1, "queued": 2}, read=1)
    second = await _campaign("育儿补贴", beijing("2026-03-03", 23, 59), queued=4, outcomes={"delivered": 1})
    writer = await staff(client, "policy_admin")
    body = await dashboard(client, "campaigns", writer, **MARCH)
    assert body["stages"] == ["queued", "sent", "delivered", "read"]
    assert [i["id"] for i in body["items"]] == [second, first]
    got = body["items"][1]
    assert (got["title"], got["queued"], got["sent"], got["delivered"], got["read"], got["failed"]) == (
        "养老补贴", 10, 6, 4, 1, 1)
    assert got["funnel"] == [{"stage": "queued", "count": 10}, {"stage": "sent", "count": 6},
                             {"stage": "delivered", "count": 4}, {"stage": "read", "count": 1}]
    assert [s["count"] for s in body["items"][0]["funnel"]] == [4, 1, 1, 0]
    body = await dashboard(client, "campaigns", await staff(client, "auditor"), limit="1", **MARCH)
    assert [i["id"] for i in body["items"]] == [second]
    body = await dashboard(client, "campaigns", await staff(client, "super_admin"), **{"from": "2026-02-28"},
                           to="2026-02-28")
    assert [i["id"] for i in body["items"]] == [old]
    for bad in ("0", "51", "x", "-1", "1.5", "٣"):
        body = await dashboard(client, "campaigns", writer, expect=422, limit=bad, **MARCH)
        assert list(body["error"]["fields"]) == ["limit"], bad
    assert (await dashboard(client, "campaigns", writer, limit="50", **MARCH))["items"][0]["id"] == second
    await dashboard(client, "campaigns", await staff(client, "reviewer", ["gongan"]), expect=403)
    tokens, _ = await verified_citizen(client)
    await dashboard(client, "campaigns", bearer(tokens), expect=401)


async def test_openapi_describes_every_dashboard(client):
    spec = (await client.get("/openapi.json")).json()
    for name in DASHBOARDS:
        route = spec["paths"][f"/api/v1/admin/dashboards/{name}"]["get"]
        assert {"200", "401", "403", "422"} <= set(route["responses"]), name
        assert {"from", "to"} <= {p["name"] for p in route["parameters"]}, name
        ref = route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        properties = spec["components"]["schemas"][ref]["properties"]
        assert {"from", "to"} <= set(properties) and ("series" in properties or "items" in properties), name

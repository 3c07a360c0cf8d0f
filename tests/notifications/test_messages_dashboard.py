"""The staff console's dashboard of case messages: the event lane's outcomes per channel within the days asked, and
how its uncertain SMS settled, `told_nowhere` counted rather than only logged."""

import secrets

from notifications.models import OutboxDelivery
from tests.admin.dashboard_helpers import beijing, dashboard, staff
from tests.factories import bearer, verified_citizen

MARCH = {"from": "2026-03-01", "to": "2026-03-03"}


def _row(channel: str, status: str, at, *, reason: str | None = None, campaign_id: str | None = None,
         citizen_id: str | None = "cit_x") -> OutboxDelivery:
    # Only settled statuses: the live server's event lane takes `queued` rows, never these.
    return OutboxDelivery(dedupe_key=f"evt:{secrets.token_hex(8)}", citizen_id=citizen_id, campaign_id=campaign_id,
                          channel=channel, topic="application_status", status=status, reason=reason, created_at=at)


async def test_event_messages_per_outcome_and_channel_and_their_settling(client):
    at, before, after = beijing("2026-03-02"), beijing("2026-02-28", 23, 59), beijing("2026-03-04", 0, 1)
    await OutboxDelivery.bulk_create([
        _row("wechat", "sent", at), _row("wechat", "sent", at), _row("wechat", "failed", at, reason="refused"),
        _row("alipay", "skipped", at, reason="no_address"), _row("inbox", "delivered", at),
        _row("inbox", "delivered", at), _row("inbox", "delivered", at),
        _row("sms", "sent", at, reason="settled"), _row("sms", "sent", at, reason="resent"),
        _row("sms", "uncertain", at, reason="told_in_inbox"),
        _row("sms", "uncertain", at, reason="told_nowhere", citizen_id=None),
        _row("sms", "expired", at),  # (an uncertain row not yet settled would race the live server's settler)
        _row("sms", "sent", before), _row("sms", "uncertain", after, reason="told_nowhere", citizen_id=None),
        _row("sms", "uncertain", at, reason="told_nowhere", campaign_id="cmp_elsewhere", citizen_id=None),
    ])
    body = await dashboard(client, "messages", await staff(client, "auditor"), **MARCH)
    assert body["channels"] == ["wechat", "alipay", "sms", "inbox"]
    by = {s["outcome"]: s["counts"] for s in body["series"]}
    assert by == {"sent": [2, 0, 2, 3], "failed": [1, 0, 0, 0], "skipped": [0, 1, 0, 0], "uncertain": [0, 0, 2, 0],
                  "pending": [0, 0, 0, 0], "expired": [0, 0, 1, 0]}
    assert body["total"] == 12 and [s["total"] for s in body["series"]] == [7, 1, 1, 2, 0, 1]
    assert (body["uncertain_settled"], body["told_in_inbox_only"], body["told_nowhere"]) == (2, 1, 1)
    day = await dashboard(client, "messages", await staff(client, "super_admin"), **{"from": "2026-03-04"},
                          to="2026-03-04")
    assert (day["total"], day["told_nowhere"]) == (1, 1)


async def test_who_may_read_the_messages_dashboard(client):
    assert (await dashboard(client, "messages", await staff(client, "policy_admin"), **MARCH))["total"] == 0
    await dashboard(client, "messages", await staff(client, "reviewer", ["gongan"]), expect=403, **MARCH)
    tokens, _ = await verified_citizen(client)
    await dashboard(client, "messages", bearer(tokens), expect=401, **MARCH)
    body = await dashboard(client, "messages", await staff(client, "auditor"), expect=422, **{"from": "2026-3-1"})
    assert list(body["error"]["fields"]) == ["from"]

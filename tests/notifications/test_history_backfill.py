"""Migration 6's data step, run on the test database as it runs at upgrade: inbox messages written before the inbox
had outbox rows appear in the history once, and event rows of the old shape are ended, never sent days late."""

from __future__ import annotations

import datetime as dt
import importlib.util
import secrets

from api.cli import MIGRATIONS
from api.core import rawsql
from notifications.models import InboxMessage, OutboxDelivery
from tests.factories import bearer, verified_citizen


def _data_statements() -> list[str]:
    """The UPDATE and INSERT of migration 6 for this database's dialect (its ALTERs ran with the migration)."""
    (path,) = (MIGRATIONS / "models").glob("6_*.py")
    spec = importlib.util.spec_from_file_location("migration_6", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    statements = [s.strip() for s in module.UPGRADE[rawsql.dialect()].split(";") if s.strip()]
    data = [s for s in statements if not s.upper().startswith("ALTER")]
    assert len(data) == 2, data
    return data


async def test_old_inbox_messages_join_the_history_once_and_old_event_rows_end(client, live):
    tokens, _ = await verified_citizen(client)
    other, _ = await verified_citizen(client)
    citizen_id = tokens["citizen"]["id"]
    old = await InboxMessage.create(citizen_id=citizen_id, topic="application_status", title="居住证：已受理",
                                    body="您的办件已受理。", ref_kind="application", ref_id="app_old1")
    legacy = await OutboxDelivery.create(dedupe_key=f"timeline:{secrets.token_hex(6)}", citizen_id=citizen_id,
                                         channel="subscribe", topic="application_status", status="queued",
                                         payload={"title": "居住证：已受理", "data": {}},
                                         # not due in this test's window, so the live server's event lane leaves
                                         # it to the migration (it would end it `unknown_channel` first otherwise)
                                         next_attempt_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    for _ in range(2):  # a second run (a re-applied step) adds nothing
        for statement in _data_statements():
            await rawsql.execute(statement)

    r = await client.get("/api/v1/me/messages", headers=bearer(tokens))
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]  # the old event row is not shown: it was never sent
    assert item["channel"] == "inbox" and item["status"] == "delivered" and item["title"] == "居住证：已受理"
    assert item["ref"] == {"kind": "application", "id": "app_old1"}
    assert await OutboxDelivery.filter(provider_ref=old.id, channel="inbox").count() == 1
    ended = await OutboxDelivery.get(id=legacy.id)
    assert (ended.status, ended.reason) == ("skipped", "superseded")
    assert (await client.get("/api/v1/me/messages", headers=bearer(other))).json()["items"] == []

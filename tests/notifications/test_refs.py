"""Every `ref` a citizen's message carries opens a route that exists: 200 for the message's owner, 404 for
anyone else (or, for a public page, 200 for everyone without login)."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from notifications import refs
from tests.applications.helpers import body_a, submit
from tests.factories import bearer, random_phone, verified_citizen, wechat_login
from tests.policies.helpers import create_policy, fresh_region, policy_admin, publish, rule_for, wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_every_ref_kind_written_in_the_code_has_a_route():
    # The kinds handed to the inbox (notify_citizen, the campaign sender) as literals anywhere in the service.
    written = set()
    for path in [*ROOT.glob("api/**/*.py"), *ROOT.glob("notifications/*.py")]:
        text = path.read_text(encoding="utf-8")
        if "notify_citizen" in text or "InboxMessage" in text or "inbox_message" in text:
            written |= set(re.findall(r'ref_kind\s*=\s*"(\w+)"', text))
            written |= set(re.findall(r'ref\s*=\s*\{\s*"kind"\s*:\s*"(\w+)"', text))
    staff_only = {"registry_correction"}  # staff notices (notify_staff), not a citizen's inbox
    assert written - staff_only, "found no ref kinds: the scan is broken"
    assert written - staff_only <= set(refs.CITIZEN_REFS), written - staff_only - set(refs.CITIZEN_REFS)


async def _inbox_refs(client, tokens) -> dict[str, set[str]]:
    r = await client.get("/api/v1/inbox", headers=bearer(tokens), params={"limit": 100})
    assert r.status_code == 200, r.text
    found: dict[str, set[str]] = {}
    for message in r.json()["items"]:
        if message["ref"]:
            found.setdefault(message["ref"]["kind"], set()).add(message["ref"]["id"])
    return found


async def test_each_ref_in_the_inbox_opens_for_its_owner_and_no_one_else(client, live, test_catalogue):
    region = fresh_region()
    owner, _ = await verified_citizen(client, hukou_region=region)
    other = await wechat_login(client)
    # One message of every kind the inbox carries today, made the way the service makes them.
    await submit(client, owner, await body_a(client, owner))  # application: submitted
    admin = await policy_admin(client)
    policy = await create_policy(client, admin, rule=rule_for(region), mode="notify", channels=("inbox",))
    await wait_for(client, admin, await publish(client, admin, policy["id"]))
    granted = await create_policy(client, admin, rule=rule_for(region), mode="auto_grant", channels=("inbox",))
    await wait_for(client, admin, await publish(client, admin, granted["id"]))  # grant: recorded
    r = await client.post("/api/v1/certificates", json={"type_code": "HUKOU", "purpose": "就业"},
                          headers={**bearer(owner), "Idempotency-Key": secrets.token_hex(8)})
    assert r.status_code == 201 and r.json()["status"] in ("issued", "rejected"), r.text  # certificate: decided
    assert (await client.post("/api/v1/codes/me/freeze", headers=bearer(owner))).status_code == 200  # code: frozen
    relative_phone = random_phone()  # delegation: the relative accepts, the owner is told
    relative = await wechat_login(client, phone=relative_phone)
    r = await client.post("/api/v1/me/delegations", headers=bearer(owner), json={
        "agent_phone": relative_phone, "scopes": ["applications"],
        "expires_at": (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)).isoformat()})
    assert r.status_code == 201, r.text
    accepted = await client.post(f"/api/v1/delegations/{r.json()['id']}/accept", headers=bearer(relative))
    assert accepted.status_code == 200, accepted.text

    found = await _inbox_refs(client, owner)
    assert set(found) == set(refs.CITIZEN_REFS), "each row of the mapping needs a message made here"
    for kind, ref_ids in found.items():
        route = refs.route_for(kind)
        for ref_id in ref_ids:
            url = route.url(ref_id)
            r = await client.get(url, headers=bearer(owner))
            assert r.status_code == 200, (kind, url, r.text)
            assert r.json()["id"] == ref_id, (kind, url)
            if route.public:
                assert (await client.get(url)).status_code == 200, (kind, url)
                assert (await client.get(url, headers=bearer(other))).status_code == 200, (kind, url)
            else:
                r = await client.get(url, headers=bearer(other))
                assert r.status_code == 404, (kind, url, r.text)
                assert (await client.get(url)).status_code == 401, (kind, url)
            # An id nobody has is 404 on every route.
            assert (await client.get(route.url(ref_id[:4] + "nobody"), headers=bearer(owner))).status_code == 404


def test_every_route_of_the_mapping_is_served(live):
    served = {"/" + re.sub(r"<(\w+)(:[^>]*)?>", "{id}", route.path.strip("/")) for route in live.app.router.routes}
    for kind, route in refs.CITIZEN_REFS.items():
        assert route.path in served, (kind, route.path)

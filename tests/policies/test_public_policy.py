"""The public policy page a push opens: published (and archived) policies only, no login, briefly cacheable."""

from __future__ import annotations

from tests.factories import bearer, wechat_login
from tests.policies.helpers import create_policy, fresh_region, policy_admin, publish, rule_for, wait_for

PUBLIC_FIELDS = {"id", "title", "summary", "body", "benefit", "apply_url", "valid_from", "valid_until", "status",
                 "published_at"}


async def test_a_published_policy_is_public_and_a_draft_or_unknown_one_is_404(client):
    admin = await policy_admin(client)
    r = await client.post("/api/v1/admin/policies", headers=admin, json={
        "title": "困难群众临时救助", "summary": "因意外陷入困境的家庭可申请临时救助", "body": "依据……",
        "mode": "notify", "rule": rule_for(fresh_region()), "benefit": "临时救助金", "channels": ["inbox"],
        "apply_url": "pages/apply/relief", "valid_from": "2026-01-01", "valid_until": "2026-12-31"})
    assert r.status_code == 201, r.text
    policy = r.json()
    assert (policy["valid_from"], policy["valid_until"]) == ("2026-01-01", "2026-12-31")
    # A draft is nobody's business outside the policy office.
    assert (await client.get(f"/api/v1/policies/{policy['id']}")).status_code == 404
    await wait_for(client, admin, await publish(client, admin, policy["id"]))
    r = await client.get(f"/api/v1/policies/{policy['id']}")
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == PUBLIC_FIELDS  # no rule, channels or author: those are the office's
    assert page["title"] == "困难群众临时救助" and page["benefit"] == {"name": "临时救助金"}
    assert (page["apply_url"], page["valid_from"], page["valid_until"], page["status"]) == (
        "pages/apply/relief", "2026-01-01", "2026-12-31", "published")
    cache = r.headers["cache-control"]
    assert "public" in cache and "max-age=60" in cache
    # A citizen's token changes nothing: the page is the same for everyone.
    tokens = await wechat_login(client)
    assert (await client.get(f"/api/v1/policies/{policy['id']}", headers=bearer(tokens))).json() == page
    for unknown in ("pol_nope", "x" * 300, "%E6%94%BF%E7%AD%96"):
        r = await client.get(f"/api/v1/policies/{unknown}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text


async def test_an_archived_policy_still_opens_so_an_old_push_is_not_a_dead_link(client):
    admin = await policy_admin(client)
    policy = await create_policy(client, admin, rule=rule_for(fresh_region()), channels=("inbox",))
    assert policy["valid_from"] is None and policy["valid_until"] is None
    await wait_for(client, admin, await publish(client, admin, policy["id"]))
    assert (await client.post(f"/api/v1/admin/policies/{policy['id']}/archive", headers=admin)).status_code == 200
    r = await client.get(f"/api/v1/policies/{policy['id']}")
    assert r.status_code == 200 and r.json()["status"] == "archived"


async def test_validity_out_of_order_is_422(client):
    admin = await policy_admin(client)
    r = await client.post("/api/v1/admin/policies", headers=admin, json={
        "title": "坏日期", "summary": "坏日期", "body": "坏日期", "mode": "notify", "rule": rule_for(fresh_region()),
        "channels": ["inbox"], "valid_from": "2026-06-01", "valid_until": "2026-05-31"})
    assert r.status_code == 422 and "valid_until" in r.json()["error"]["fields"], r.text
    r = await client.post("/api/v1/admin/policies", headers=admin, json={
        "title": "坏日期", "summary": "坏日期", "body": "坏日期", "mode": "notify", "rule": rule_for(fresh_region()),
        "channels": ["inbox"], "valid_from": "not-a-date"})
    assert r.status_code == 422 and "valid_from" in r.json()["error"]["fields"], r.text


async def test_the_public_page_is_documented(client):
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"]["/api/v1/policies/{policy_id}"]["get"]
    assert {"200", "404"} <= set(op["responses"]) and not op.get("security")

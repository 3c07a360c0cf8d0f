"""好差评: once, after completion; a bad rating opens a rectification for the department."""

from api.applications.models import Application, Rectification
from tests.applications.conftest import staff_headers
from tests.applications.helpers import act, body_a, submit
from tests.factories import bearer, verified_citizen


async def _completed(client):
    tokens, _ = await verified_citizen(client)
    app = await submit(client, tokens, await body_a(client, tokens))
    staff = await staff_headers(client)
    await act(client, staff, app["id"], "accept")
    await Application.filter(id=app["id"]).update(materials=[])  # nothing owed
    return tokens, app, staff


async def test_rating_before_completion_is_refused_then_allowed_once(client, test_catalogue):
    tokens, app, staff = await _completed(client)
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 5}, headers=bearer(tokens))
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_ratable"
    await act(client, staff, app["id"], "approve")
    await act(client, staff, app["id"], "complete")
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 6}, headers=bearer(tokens))
    assert r.status_code == 422
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 5, "comment": "很方便"},
                          headers=bearer(tokens))
    assert r.status_code == 201
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 1}, headers=bearer(tokens))
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_rated"
    assert not await Rectification.filter(application_id=app["id"]).exists()


async def test_a_bad_rating_opens_a_rectification_visible_to_admins(client, test_catalogue):
    tokens, app, staff = await _completed(client)
    await act(client, staff, app["id"], "approve")
    await act(client, staff, app["id"], "complete")
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 2, "comment": "等太久"},
                          headers=bearer(tokens))
    assert r.status_code == 201
    rows = (await client.get("/api/v1/admin/rectifications", headers=staff)).json()["items"]
    mine = [x for x in rows if x["application_id"] == app["id"]]
    assert len(mine) == 1 and mine[0]["dept"] == "gongan" and mine[0]["score"] == 2 and mine[0]["due_date"]
    other_dept = await staff_headers(client, depts=("yibao",))
    rows = (await client.get("/api/v1/admin/rectifications", headers=other_dept)).json()["items"]
    assert all(x["application_id"] != app["id"] for x in rows)


async def test_another_citizen_cannot_rate(client, test_catalogue):
    tokens, app, staff = await _completed(client)
    other, _ = await verified_citizen(client)
    r = await client.post(f"/api/v1/applications/{app['id']}/rating", json={"score": 1}, headers=bearer(other))
    assert r.status_code == 404

"""The wallet: licences from certificates and registries, presentations that show only what was chosen, 免提交."""

import datetime as dt

from tests.applications.conftest import upload
from tests.applications.helpers import body_a, submit
from tests.factories import bearer, verified_citizen


async def _wallet(client, tokens) -> list[dict]:
    r = await client.get("/api/v1/licenses", headers=bearer(tokens))
    assert r.status_code == 200
    return r.json()["items"]


async def test_the_wallet_holds_registry_licences_masked(client):
    tokens, person = await verified_citizen(client, name="吴二", hukou_region="430104")
    items = {i["type"]: i for i in await _wallet(client, tokens)}
    card = items["resident_id_card"]
    assert card["status"] == "valid" and card["fields"]["name"] == "吴*"
    assert card["fields"]["id_number"] != person["id_number"]


async def test_a_presentation_shows_only_the_chosen_fields_until_it_expires(client, live):
    tokens, person = await verified_citizen(client, name="郑三", hukou_region="430104")
    card = next(i for i in await _wallet(client, tokens) if i["type"] == "resident_id_card")
    r = await client.post(f"/api/v1/licenses/{card['id']}/presentations", json={"fields": ["name"]},
                          headers=bearer(tokens))
    assert r.status_code == 201
    payload = r.json()["qr_payload"]
    shown = (await client.post("/api/v1/verify", json={"payload": payload})).json()
    assert shown["status"] == "valid" and shown["fields"] == {"name": "郑三"}
    assert person["id_number"] not in str(shown) and "address" not in str(shown["fields"])
    altered = payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB")
    assert (await client.post("/api/v1/verify", json={"payload": altered})).json()["status"] == "invalid"
    real_clock = live.app.ctx.deps.clock
    live.app.ctx.deps.clock = lambda: real_clock() + dt.timedelta(seconds=121)  # the screenshot, replayed later
    try:
        late = (await client.post("/api/v1/verify", json={"payload": payload})).json()
    finally:
        live.app.ctx.deps.clock = real_clock
    assert late["status"] == "expired" and "fields" not in late
    r = await client.post(f"/api/v1/licenses/{card['id']}/presentations", json={"fields": ["blood_type"]},
                          headers=bearer(tokens))
    assert r.status_code == 422


async def test_another_citizens_licence_is_404(client):
    tokens, _ = await verified_citizen(client, hukou_region="430104")
    other, _ = await verified_citizen(client)
    card = (await _wallet(client, tokens))[0]
    r = await client.post(f"/api/v1/licenses/{card['id']}/presentations", json={"fields": ["name"]},
                          headers=bearer(other))
    assert r.status_code == 404


async def test_a_wallet_licence_stands_in_for_a_material_of_its_type_only(client, test_catalogue):
    tokens, _ = await verified_citizen(client, hukou_region="430104")
    other, _ = await verified_citizen(client)
    items = {i["type"]: i for i in await _wallet(client, tokens)}
    body = await body_a(client, tokens)
    wrong_type = dict(body, materials=[{"material_code": "M_ID_CARD", "license_id": items["household_register"]["id"]},
                                       *body["materials"][1:]])
    r = await client.post("/api/v1/applications", json=wrong_type, headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "license_not_found"
    someone_elses = (await _wallet(client, other))[0]["id"]
    theirs = dict(body, materials=[{"material_code": "M_ID_CARD", "license_id": someone_elses}, *body["materials"][1:]])
    r = await client.post("/api/v1/applications", json=theirs, headers=bearer(tokens))
    assert r.status_code == 422
    right = dict(body, materials=[{"material_code": "M_ID_CARD", "license_id": items["resident_id_card"]["id"]},
                                  *body["materials"][1:]])
    app = await submit(client, tokens, right)
    assert next(m for m in app["materials"] if m["material_code"] == "M_ID_CARD")["way"] == "license"
    assert await upload(client, tokens)  # uploads still work alongside


async def test_a_disability_certificate_from_the_registry_joins_the_wallet(client):
    from api.citizens import registry

    tokens, person = await verified_citizen(client, name="冯四", hukou_region="430104")
    bad = await registry.import_disability([{"id_number": person["id_number"], "certificate_no": "43010419",
                                             "disability_type": "飞行", "disability_level": "一级", "issued_at": ""}])
    assert bad.rejected and bad.inserted == 0
    row = {"id_number": person["id_number"], "certificate_no": "4301041985061500112", "disability_type": "肢体",
           "disability_level": "三级", "issued_at": "2020-05-01"}
    report = await registry.import_disability([row])
    assert report.inserted == 1
    card = next(i for i in await _wallet(client, tokens) if i["type"] == "disability_certificate")
    assert card["fields"]["disability_type"] == "肢体" and card["fields"]["certificate_no"] != "4301041985061500112"
    r = await client.post(f"/api/v1/licenses/{card['id']}/presentations",
                          json={"fields": ["disability_type", "disability_level"]}, headers=bearer(tokens))
    shown = (await client.post("/api/v1/verify", json={"payload": r.json()["qr_payload"]})).json()
    assert shown["fields"] == {"disability_type": "肢体", "disability_level": "三级"}

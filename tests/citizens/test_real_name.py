"""Real-name verification against the population registry."""

from api.citizens.models import Citizen
from api.core.models import AuditLog
from tests.factories import bearer, random_id_number, registered_person, wechat_login


async def test_real_name_raises_the_level_to_two(client):
    person = await registered_person(name="赵六")
    tokens = await wechat_login(client, phone=person["phone"])
    r = await client.post("/api/v1/me/real-name", json={"name": "赵六", "id_number": person["id_number"]},
                          headers=bearer(tokens))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["assurance_level"] == 2
    assert body["citizen"]["name"] == "赵*"
    assert body["citizen"]["id_number"] == person["id_number"][:3] + "*" * 11 + person["id_number"][-4:]
    assert await AuditLog.exists(action="registry.population.verify", actor_id=tokens["citizen"]["id"])


async def test_wrong_name_is_422_and_changes_nothing(client):
    person = await registered_person(name="钱七")
    tokens = await wechat_login(client, phone=person["phone"])
    r = await client.post("/api/v1/me/real-name", json={"name": "孙八", "id_number": person["id_number"]},
                          headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "real_name_mismatch"
    citizen = await Citizen.get(id=tokens["citizen"]["id"])
    assert citizen.assurance_level == 1 and citizen.id_number_bidx is None


async def test_bad_check_digit_is_422_with_field(client):
    tokens = await wechat_login(client)
    good = random_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    r = await client.post("/api/v1/me/real-name", json={"name": "张三", "id_number": bad}, headers=bearer(tokens))
    assert r.status_code == 422
    assert "id_number" in r.json()["error"]["fields"]


async def test_unregistered_id_number_is_a_mismatch(client):
    tokens = await wechat_login(client)
    r = await client.post("/api/v1/me/real-name", json={"name": "张三", "id_number": random_id_number()},
                          headers=bearer(tokens))
    assert r.status_code == 422 and r.json()["error"]["code"] == "real_name_mismatch"


async def test_an_id_number_held_by_another_citizen_is_a_conflict(client):
    person = await registered_person(name="周九")
    first = await wechat_login(client, phone=person["phone"])
    body = {"name": "周九", "id_number": person["id_number"]}
    assert (await client.post("/api/v1/me/real-name", json=body, headers=bearer(first))).status_code == 200
    other = await wechat_login(client)
    r = await client.post("/api/v1/me/real-name", json=body, headers=bearer(other))
    assert r.status_code == 409 and r.json()["error"]["code"] == "identity_conflict"
    assert (await Citizen.get(id=other["citizen"]["id"])).id_number_bidx is None


async def test_five_tries_a_day_then_429(client):
    tokens = await wechat_login(client)
    body = {"name": "张三", "id_number": random_id_number()}
    for _ in range(5):
        r = await client.post("/api/v1/me/real-name", json=body, headers=bearer(tokens))
        assert r.status_code == 422
    r = await client.post("/api/v1/me/real-name", json=body, headers=bearer(tokens))
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0

"""Personal data is ciphertext at rest, masked in answers, revealed only to its owner, never logged."""

import io
import logging

from tortoise import Tortoise

from api.citizens.models import Citizen
from api.core.models import AuditLog
from tests.factories import alipay_login, bearer, registered_person, wechat_login


async def test_ciphertext_in_the_database_is_not_the_plaintext(client):
    person = await registered_person(name="吴十一")
    tokens = await wechat_login(client, phone=person["phone"])
    await client.post("/api/v1/me/real-name", json={"name": "吴十一", "id_number": person["id_number"]},
                      headers=bearer(tokens))
    conn = Tortoise.get_connection("default")
    rows = await conn.execute_query_dict("SELECT * FROM citizen WHERE id = " +
                                         ("$1" if conn.capabilities.dialect == "postgres" else "?"),
                                         [tokens["citizen"]["id"]])
    raw = " ".join(str(v) for v in rows[0].values())
    for secret in (person["phone"], person["id_number"], "吴十一"):
        assert secret not in raw
    assert rows[0]["phone_enc"].startswith("v1:") and rows[0]["id_number_enc"].startswith("v1:")
    population = await conn.execute_query_dict("SELECT * FROM population_record")
    assert person["id_number"] not in " ".join(str(v) for r in population for v in r.values())


async def test_reveal_is_for_the_owner_and_audited(client):
    person = await registered_person(name="郑十二")
    tokens = await wechat_login(client, phone=person["phone"])
    masked = (await client.get("/api/v1/me", headers=bearer(tokens))).json()
    assert masked["masked"] is True and masked["phone"] != person["phone"]
    r = await client.get("/api/v1/me?reveal=true", headers=bearer(tokens))
    assert r.json()["phone"] == person["phone"] and r.json()["masked"] is False
    assert await AuditLog.exists(action="citizen.profile.read", actor_id=tokens["citizen"]["id"])


async def test_a_full_login_leaves_no_phone_or_id_number_in_the_logs(client):
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_gov_json", False))
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        person = await registered_person(name="冯十三")
        tokens = await wechat_login(client, phone=person["phone"])
        await client.post("/api/v1/me/real-name", json={"name": "冯十三", "id_number": person["id_number"]},
                          headers=bearer(tokens))
        await alipay_login(client, phone=person["phone"])
        await client.get("/api/v1/me?reveal=true", headers=bearer(tokens))
        logging.getLogger("tests").info("a careless line with %s and %s", person["phone"], person["id_number"])
    finally:
        handler.setStream(old)
    text = buffer.getvalue()
    assert '"route"' in text  # the access log did run during the login
    assert person["phone"] not in text
    assert person["id_number"] not in text
    assert "冯十三" not in text
    assert await Citizen.exists(id=tokens["citizen"]["id"])

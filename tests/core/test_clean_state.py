"""The tests' own clean state: what a test leaves behind is gone before the next one (tests/cleanup.py)."""

from api.admin.models import AdminAccount
from api.catalog.models import ServiceItem
from notifications import spread
from notifications.events import FREE_LANES_KEY
from tests import cleanup
from tests.applications.catalogue_fixture import CATALOGUE
from tests.applications.conftest import staff_headers
from tests.factories import bearer, verified_citizen


async def _clean(live, client) -> None:
    live.catalogue_version = await cleanup.clean(live, client, catalogue=CATALOGUE,
                                                 catalogue_version=live.catalogue_version)


async def test_rows_keys_and_faults_are_gone_and_the_reference_data_stays(client, live):
    staff = await staff_headers(client)
    tokens, _ = await verified_citizen(client)  # rows in the registry, citizens, accounts, tokens, audit; keys
    assert (await client.put("/sandbox/sms/faults", json={"fail": "down"})).status_code == 200
    await _clean(live, client)

    assert await cleanup.leftovers() == {}
    redis = live.app.ctx.deps.redis
    queue = live.settings.job_queue
    # The worker's own keys come back at once: its queue (its cron runs every 5 s), the event lane's roll call and
    # the worker's word that it is alive.
    left = {k async for k in redis.scan_iter(count=1000)
            if not k.startswith(("arq:", queue)) and k not in (FREE_LANES_KEY, spread.WORKERS_KEY.format(queue))}
    assert left <= cleanup.REFERENCE_KEYS, left
    assert (await client.get("/sandbox/sms/faults")).json()["fail"] is None
    assert (await client.get("/api/v1/me", headers=bearer(tokens))).status_code in (401, 404)
    # The session's staff member is reference data: the account and its login hold.
    me = await client.get("/api/v1/admin/me", headers=staff)
    assert me.status_code == 200 and await AdminAccount.exists(username=me.json()["username"])


async def test_another_catalogue_is_replaced_by_the_test_catalogue(client, live):
    from api.catalog.loader import load_file

    await load_file(settings=live.settings)
    assert await ServiceItem.all().count() > len(CATALOGUE["items"])
    await _clean(live, client)
    codes = {i["code"] for i in CATALOGUE["items"]}
    assert {row.code for row in await ServiceItem.all()} == codes
    listed = (await client.get("/api/v1/items", params={"limit": 100})).json()["items"]
    assert {i["code"] for i in listed} == codes

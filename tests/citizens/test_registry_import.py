"""Registry datasets imported through the admin route (a background job) and the command line."""

from __future__ import annotations

import asyncio

import pytest

from api.citizens.models import (
    DisabilityRecord,
    HealthCardRecord,
    ImportJob,
    LowIncomeRecord,
    PopulationRecord,
    SocialInsuranceRecord,
    TransitRecord,
)
from api.core import pii
from api.core.storage import FileStorage
from tests.applications.conftest import staff_headers
from tests.citizens.import_helpers import restart_inline_worker, stop_inline_worker
from tests.factories import bearer, random_id_number, verified_citizen

ROWS = {
    "population": ("id_number,name,gender,birth_date,phone,hukou_region,address",
                   "{id},张三,,,13800001111,430104,长沙市岳麓区"),
    "disability": ("id_number,certificate_no,disability_type,disability_level,issued_at",
                   "{id},43010419500304123X11,肢体,二级,2015-06-01"),
    "social_insurance": ("id_number,card_no,status,insured_since", "{id},SS430104001,正常参保,2001-07-01"),
    "health_card": ("id_number,health_card_no", "{id},HC4301040001"),
    "transit": ("id_number,ride_account,standing", "{id},RA-0001,good"),
    "low_income": ("id_number,category,since", "{id},低保,2019-01-01"),
}
MODELS = {"population": PopulationRecord, "disability": DisabilityRecord, "social_insurance": SocialInsuranceRecord,
          "health_card": HealthCardRecord, "transit": TransitRecord, "low_income": LowIncomeRecord}


async def _admin(client) -> dict:
    return await staff_headers(client, roles=("policy_admin",), depts=())


async def _import(client, admin, dataset: str, text: str, *, expect: int = 202) -> dict:
    r = await client.post(f"/api/v1/admin/datasets/{dataset}/imports", headers={**admin, "Content-Type": "text/csv"},
                          content=text.encode())
    assert r.status_code == expect, r.text
    return r.json()


async def _finished(client, admin, job_id: str) -> dict:
    for _ in range(200):
        job = (await client.get(f"/api/v1/admin/imports/{job_id}", headers=admin)).json()
        if job["status"] in ("completed", "failed"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(job)


def _bidx(id_number: str) -> str:
    return pii.cipher().blind_index(id_number, kind="id_number")


@pytest.mark.parametrize("dataset", list(ROWS))
async def test_each_dataset_imports_in_the_background_with_bad_rows_reported(client, dataset):
    admin = await _admin(client)
    header, good = ROWS[dataset]
    ids = [random_id_number() for _ in range(3)]
    text = "\n".join([header, good.format(id=ids[0]), "123,坏行," + ",".join([""] * (header.count(",") - 1)),
                      good.format(id=ids[1]), good.format(id=ids[2])]) + "\n"
    job = await _finished(client, admin, (await _import(client, admin, dataset, text))["id"])
    assert job["status"] == "completed", job
    assert (job["inserted"], job["updated"], job["rejected"], job["processed"]) == (3, 0, 1, 4)
    assert [e["line"] for e in job["errors"]] == [3] and "123" not in job["errors"][0]["reason"]
    assert await MODELS[dataset].filter(id_number_bidx__in=[_bidx(i) for i in ids]).count() == 3


async def test_a_reimport_updates_in_place(client):
    admin = await _admin(client)
    id_number = random_id_number()
    header, _ = ROWS["transit"]
    first = await _import(client, admin, "transit", f"{header}\n{id_number},RA-1,good\n")
    await _finished(client, admin, first["id"])
    second = await _import(client, admin, "transit", f"{header}\n{id_number},RA-1,arrears\n")
    job = await _finished(client, admin, second["id"])
    assert (job["inserted"], job["updated"]) == (0, 1)
    rows = await TransitRecord.filter(id_number_bidx=_bidx(id_number))
    assert len(rows) == 1 and rows[0].standing == "arrears"
    assert rows[0].imported_at <= rows[0].updated_at


async def test_refusals_change_nothing(client):
    admin = await _admin(client)
    before = await ImportJob.all().count()
    r = await client.post("/api/v1/admin/datasets/shoe_sizes/imports", headers=admin, content=b"a,b\n1,2\n")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_dataset"
    r = await client.post("/api/v1/admin/datasets/transit/imports", headers=admin, content=b"id_number,standing\n")
    assert r.status_code == 422 and "ride_account" in r.json()["error"]["fields"]["file"]
    tokens, _ = await verified_citizen(client)
    r = await client.post("/api/v1/admin/datasets/transit/imports", headers=bearer(tokens), content=b"x")
    assert r.status_code == 401
    reviewer = await staff_headers(client)
    r = await client.post("/api/v1/admin/datasets/transit/imports", headers=reviewer, content=b"x")
    assert r.status_code == 403
    assert await ImportJob.all().count() == before


async def test_the_upload_is_kept_encrypted_and_deleted_once_imported(client, live):
    admin = await _admin(client)
    id_number = random_id_number()
    header, good = ROWS["health_card"]
    await stop_inline_worker(live)  # hold the job so the stored upload can be looked at
    try:
        job = await _import(client, admin, "health_card", f"{header}\n{good.format(id=id_number)}\n")
        stored = await live.app.ctx.deps.storage.get((await ImportJob.get(id=job["id"])).file_key)
        assert id_number.encode() not in stored and b"health_card_no" not in stored
    finally:
        await restart_inline_worker(live)
    done = await _finished(client, admin, job["id"])
    assert done["status"] == "completed"
    with pytest.raises(FileNotFoundError):
        await live.app.ctx.deps.storage.get((await ImportJob.get(id=job["id"])).file_key)


async def test_the_command_line_imports_with_a_report(live, tmp_path):
    from tests.core.test_cli import _run

    good, bad = random_id_number(), "430104195003041239"
    path = tmp_path / "low_income.csv"
    path.write_text(f"id_number,category,since\n{good},特困,2020-01-01\n{bad},低保,2020-01-01\n", encoding="utf-8")
    code, out, err = await _run(live, "import", "low_income", str(path))
    assert code == 0, err
    assert '"inserted": 1' in out and '"rejected": 1' in out and "low_income: 2 rows" in err
    assert (await LowIncomeRecord.get(id_number_bidx=_bidx(good))).category == "特困"
    code, _, err = await _run(live, "import", "nope", str(path))
    assert code == 2 and "social_insurance" in err


class _FlakyStorage(FileStorage):
    """The upload store behind a connection that drops: the n-th upload read fails `plan[n]` times (None: always)."""

    def __init__(self, inner: FileStorage, plan: list[int | None]):
        self.inner, self.plan = inner, plan
        self.reads: dict[str, int] = {}

    async def put(self, key: str, data: bytes) -> None:
        await self.inner.put(key, data)

    async def get(self, key: str) -> bytes:
        self.reads[key] = self.reads.get(key, 0) + 1
        failures = self.plan[list(self.reads).index(key)]
        if failures is None or self.reads[key] <= failures:
            raise ConnectionResetError(104, "Connection reset by peer")
        return await self.inner.get(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)


async def test_an_import_is_retried_through_a_passing_outage_and_fails_with_its_reason_when_it_lasts(client, live):
    admin = await _admin(client)
    header, good = ROWS["transit"]
    deps = live.app.ctx.deps
    store = deps.storage
    deps.storage = flaky = _FlakyStorage(store, plan=[2, None])
    try:
        passing = await _import(client, admin, "transit", f"{header}\n{good.format(id=random_id_number())}\n")
        for _ in range(100):  # its first read comes first: it is the one whose outage passes
            if flaky.reads:
                break
            await asyncio.sleep(0.05)
        lasting = await _import(client, admin, "transit", f"{header}\n{good.format(id=random_id_number())}\n")
        done, failed = await asyncio.gather(_finished(client, admin, passing["id"]),
                                            _finished(client, admin, lasting["id"]))
    finally:
        deps.storage = store
    assert done["status"] == "completed" and done["inserted"] == 1 and done["failure_reason"] is None, done
    runs = {r.args[0]: r for r in await deps.jobs.pool.all_job_results() if r.function == "run_import_job"}
    assert runs[passing["id"]].success and runs[passing["id"]].job_try == 3
    # Three tries in all (the import's declared policy), then `failed` and the reason, through the API.
    assert list(flaky.reads.values()) == [3, 3]
    assert failed["status"] == "failed" and failed["failure_reason"] == "connection_error", failed
    assert failed["finished_at"] is not None and failed["inserted"] == 0
    listed = (await client.get("/api/v1/admin/imports?limit=50", headers=admin)).json()["items"]
    assert [(j["status"], j["failure_reason"]) for j in listed if j["id"] == lasting["id"]] == [
        ("failed", "connection_error")]

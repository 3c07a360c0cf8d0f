"""Strict CSV: a broken file lands nothing and names its line; bad rows are rejected by line and reason, the good
ones land, and the counts add up (rows read = inserted + updated + rejected), through the API and the CLI."""

from __future__ import annotations

import json

import pytest

from api.citizens import registry
from api.citizens.models import ImportJob, PopulationRecord, TransitRecord
from api.core import pii, rawsql
from api.core.models import AuditLog
from tests.citizens.import_helpers import (
    POPULATION_HEADER,
    all_rejections,
    bidx,
    csv_line,
    finished,
    import_admin,
    landed,
    person,
    snapshot,
    upload,
)
from tests.factories import random_id_number


async def _seeded() -> list[dict]:
    """Three people already in the registry: a half-written import would have changed them."""
    people = [person(name=n) for n in ("赵一", "钱二", "孙三")]
    assert (await registry.import_population(people)).inserted == 3
    return people


def _renamed(people: list[dict]) -> list[str]:
    """Lines 2-4 of a file: the seeded people under new names, then a newcomer (line 5)."""
    return [csv_line([*(p | {"name": "改名"}).values()]) for p in people] + [csv_line([*person().values()])]


def _tail(count: int = 500) -> str:
    return "".join(csv_line([*person().values()]) for _ in range(count))


HEADER = csv_line(POPULATION_HEADER)


def _broken(case: str, people: list[dict]) -> tuple[bytes, int, str]:
    """(file, the line named, a word of the reason) for each way a file can be broken."""
    head = HEADER + "".join(_renamed(people))  # lines 1-5
    p = person()
    good = ",".join(p.values())
    if case == "unclosed_quote":  # line 6 opens a quote no later quote closes: it would swallow 500 rows
        return (head + f'{p["id_number"]},"王五,男,,,430104,长沙\n' + _tail()).encode(), 6, "引号未闭合"
    if case == "quote_closed_much_later":  # ... or one that a quote at the end of line 10 happens to close
        lines = [csv_line([*person().values()]) for _ in range(4)]
        return (head + f'{p["id_number"]},"王五,男,,,430104,长沙\n' + "".join(lines[:3])
                + lines[3].rstrip("\n") + '"\n' + _tail(50)).encode(), 6, "跨到第 10 行"
    if case == "text_after_quote":
        return (head + good.replace(p["name"], '"王"五') + "\n" + _tail(20)).encode(), 6, "引号"
    if case == "gbk_line":
        return head.encode() + (good + "\n").encode("gbk") + _tail(20).encode(), 6, "UTF-8"
    if case == "nul":
        return (head + good.replace(p["address"], "长沙\x00市") + "\n" + _tail(20)).encode(), 6, "NUL"
    if case == "utf16":
        return (head + _tail(5)).encode("utf-16"), 1, ""
    if case == "huge_field":  # past the size any field may have (a quote left open, a binary file)
        return (head + good.replace(p["address"], "长" * (1024 * 1024 + 1)) + "\n").encode(), 6, "MiB"
    if case == "repeated_column":
        return (HEADER.rstrip("\n") + ",name\n" + _tail(5)).encode(), 1, "重复"
    if case == "unnamed_column":
        return (HEADER.rstrip("\n") + ",\n" + _tail(5)).encode(), 1, "没有列名"
    if case == "missing_column":
        return (HEADER.replace(",address", "") + _tail(5)).encode(), 1, "address"
    if case == "empty":
        return b"", 1, "表头"
    raise AssertionError(case)


BROKEN = ["unclosed_quote", "quote_closed_much_later", "text_after_quote", "gbk_line", "nul", "utf16", "huge_field",
          "repeated_column", "unnamed_column", "missing_column", "empty"]


@pytest.mark.parametrize("case", BROKEN)
async def test_a_broken_file_is_refused_whole_naming_its_line(client, case):
    admin = await import_admin(client)
    people = await _seeded()
    before, jobs = await snapshot(PopulationRecord), await ImportJob.all().count()
    data, line, word = _broken(case, people)
    r = await client.post("/api/v1/admin/datasets/population/imports", headers={**admin, "Content-Type": "text/csv"},
                          content=data)
    if case == "empty":  # no body at all: the upload route's own refusal
        assert r.status_code == 422 and r.json()["error"]["fields"]["file"], r.text
    else:
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "malformed_csv" and f"第 {line} 行" in error["fields"]["file"], error
        assert word in error["fields"]["file"] and "未导入任何行" in error["message"], error
        assert people[0]["id_number"] not in r.text and "王五" not in r.text
    # Nothing landed (the seeded people keep their names and stamps), and no job was made.
    assert await snapshot(PopulationRecord) == before
    assert await ImportJob.all().count() == jobs


async def test_the_command_line_refuses_a_broken_file_whole(live, tmp_path):
    from tests.core.test_cli import _run

    people = await _seeded()
    before, jobs = await snapshot(PopulationRecord), await ImportJob.all().count()
    data, line, _ = _broken("unclosed_quote", people)
    path = tmp_path / "population.csv"
    path.write_bytes(data)
    code, out, err = await _run(live, "import", "population", str(path))
    assert code == 2 and f"第 {line} 行" in err and "引号未闭合" in err, (code, out, err)
    assert out == "" and people[0]["id_number"] not in err
    assert await snapshot(PopulationRecord) == before
    assert await ImportJob.all().count() == jobs


async def test_bad_rows_are_rejected_by_line_and_reason_and_the_good_ones_land(client):
    admin = await import_admin(client)
    (seeded, *_) = await _seeded()
    header = [*POPULATION_HEADER, "household_no"]  # a column beyond the fixed ones: kept
    b, d, e = person(name="钱多多"), person(address="长沙市\n岳麓区 1 号"), person(name="阿依古丽·买买提")
    f = person(phone="+86 138-0013-8000")
    wrong_check = (lambda i: i[:17] + ("1" if i[17] != "1" else "2"))(random_id_number())
    other_day = person()
    other_day["birth_date"] = "1901-01-01"
    lines = {
        2: csv_line([*(seeded | {"name": "赵改名"}).values(), "H1"]),
        3: csv_line([*b.values(), "H2"]),
        4: csv_line([*person().values(), "H3", "多出来的"]),
        5: csv_line([random_id_number(), "王五"]),
        6: csv_line([*person(address="长" * 140_000).values(), "H6"]),
        7: csv_line([*person(name="王3").values(), "H7"]),
        8: csv_line([*person(phone="12345").values(), "H8"]),
        9: csv_line([*person(id_number=wrong_check, gender="", birth_date="").values(), "H9"]),
        10: csv_line([*other_day.values(), "H10"]),
        11: csv_line([*(lambda p: p | {"birth_date": p["birth_date"].replace("-", "")})(person()).values(), "H11"]),
        12: csv_line([*(lambda p: p | {"gender": "男" if p["gender"] == "女" else "女"})(person()).values(), "H12"]),
        13: csv_line([*person(hukou_region="43010").values(), "H13"]),
        14: csv_line([*d.values(), "H14"]),  # its quoted address runs over into line 15: one record
        16: csv_line([*(b | {"name": "钱假冒"}).values(), "H16"]),
        17: csv_line([*e.values(), "H17"]),
        18: "\n",  # a blank line is no record
        19: csv_line([*f.values(), "H19"]),
        20: csv_line([*(d | {"address": "别处"}).values(), "H20"]),
        21: csv_line([*person(hukou_region="４３０１０４").values(), "H21"]),
    }
    text = csv_line(header) + "".join(lines.values())
    assert text.count("\n") == 21
    expected = {4: "有 9 个字段，表头有 8 列", 5: "有 2 个字段", 6: "address 超过 200 个字符", 7: "name 不是姓名",
                8: "phone 不是手机号", 9: "校验位", 10: "birth_date 与身份证号中的出生日期不符",
                11: "birth_date 须为 YYYY-MM-DD", 12: "gender 与身份证号中的性别不符", 13: "hukou_region",
                16: "身份证号与第 3 行重复", 20: "身份证号与第 14 行重复", 21: "hukou_region"}

    job = await finished(client, admin, (await upload(client, admin, "population", text))["id"])
    assert job["status"] == "completed", job
    assert (job["total_rows"], job["processed"], job["inserted"], job["updated"], job["rejected"]) == (18, 18, 4, 1, 13)
    assert job["processed"] == job["inserted"] + job["updated"] + job["rejected"]
    assert [e["line"] for e in job["errors"]] == sorted(expected)
    for error in job["errors"]:
        assert expected[error["line"]] in error["reason"], error

    # Every rejected row through the API, a page of 5 at a time, masked: the line, the reason, the id number starred.
    rejected = await all_rejections(client, admin, job["id"], limit=5)
    assert [(r["line"], r["reason"]) for r in rejected] == [(e["line"], e["reason"]) for e in job["errors"]]
    masked = {r["line"]: r["id_number"] for r in rejected}
    assert masked[9] == pii.mask_id_number(wrong_check) and masked[16] == pii.mask_id_number(b["id_number"])
    r = await client.get(f"/api/v1/admin/imports/{job['id']}/rejections.csv", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    assert "attachment" in r.headers["content-disposition"]
    table = r.content.decode("utf-8-sig").splitlines()
    assert table[0] == "行号,身份证号（脱敏）,原因" and len(table) == 1 + 13
    assert [int(row.split(",")[0]) for row in table[1:]] == sorted(expected)
    assert await AuditLog.filter(action="registry.import.rejections_export", target_id=job["id"]).count() == 1
    everything = json.dumps(job, ensure_ascii=False) + json.dumps(rejected, ensure_ascii=False) + r.text
    for p in (seeded, b, d, e, f, other_day):
        assert p["id_number"] not in everything and p["name"] not in everything
    assert wrong_check not in everything and "王五" not in everything

    # The registry holds exactly the good rows: the first of a duplicated id number, as that line had it.
    c = pii.cipher()
    rows = {r.id_number_bidx: r for r in await PopulationRecord.all()}
    assert await landed(PopulationRecord, job["id"]) == 5 and len(rows) == 3 + 4
    assert c.decrypt(rows[bidx(seeded["id_number"])].name_enc, context="population.name") == "赵改名"
    assert c.decrypt(rows[bidx(b["id_number"])].name_enc, context="population.name") == "钱多多"
    assert rows[bidx(b["id_number"])].import_line == 3
    assert c.decrypt(rows[bidx(d["id_number"])].address_enc, context="population.address") == "长沙市\n岳麓区 1 号"
    assert c.decrypt(rows[bidx(e["id_number"])].name_enc, context="population.name") == "阿依古丽·买买提"
    assert c.decrypt(rows[bidx(f["id_number"])].phone_enc, context="population.phone") == "13800138000"
    # The phone is kept encrypted and nothing else of it: no keyed hash that would link the registry by phone.
    stored = await PopulationRecord.filter(id_number_bidx=bidx(f["id_number"])).values()
    assert c.blind_index("13800138000", kind="phone") not in stored[0].values() and "13800138000" not in str(stored)
    extra = json.loads(c.decrypt(rows[bidx(e["id_number"])].extra_enc, context="population.extra"))
    assert extra == {"household_no": "H17"}
    assert bidx(wrong_check) not in rows and bidx(other_day["id_number"]) not in rows


async def test_duplicates_across_and_within_batches_are_rejected_and_counted(client, monkeypatch):
    monkeypatch.setattr(registry, "BATCH", 10)  # 45 rows: five batches
    admin = await import_admin(client)
    ids = [random_id_number() for _ in range(45)]
    while len(set(ids)) < 45:
        ids = [random_id_number() for _ in range(45)]
    ids[3] = ids[1]  # line 5 repeats line 3, in the same batch
    ids[28] = ids[2]  # line 30 repeats line 4, three batches later
    ids[44] = ids[0]  # the last line repeats the first
    text = "id_number,ride_account,standing\n" + "".join(f"{n},RA-{line},good\n" for line, n in
                                                         enumerate(ids, start=2))
    job = await finished(client, admin, (await upload(client, admin, "transit", text))["id"])
    assert (job["processed"], job["inserted"], job["updated"], job["rejected"]) == (45, 42, 0, 3), job
    assert [(e["line"], e["reason"]) for e in job["errors"]] == [
        (5, "身份证号与第 3 行重复"), (30, "身份证号与第 4 行重复"), (46, "身份证号与第 2 行重复")]
    rows = {r.id_number_bidx: r for r in await TransitRecord.all()}
    assert len(rows) == 42 == await landed(TransitRecord, job["id"])
    c = pii.cipher()
    for n, line in ((ids[0], 2), (ids[1], 3), (ids[2], 4)):  # each kept as its first line had it
        assert c.decrypt(rows[bidx(n)].ride_account_enc, context="transit.ride_account") == f"RA-{line}"

    # The same file again: every row is now an update, and the duplicates are still rejected, not counted twice.
    again = await finished(client, admin, (await upload(client, admin, "transit", text))["id"])
    assert (again["processed"], again["inserted"], again["updated"], again["rejected"]) == (45, 0, 42, 3), again
    assert await TransitRecord.all().count() == 42


async def test_a_file_listing_its_people_twice_imports_them_once_and_rejects_every_repeat(client, monkeypatch):
    # An export pasted twice into one file: the later batches hold nothing but rows an earlier batch wrote.
    monkeypatch.setattr(registry, "BATCH", 10)
    admin = await import_admin(client)
    ids: list[str] = []
    while len(ids) < 20:
        ids += [n for n in [random_id_number()] if n not in ids]
    lines = [f"{n},RA-{i},good\n" for i, n in enumerate(ids)]
    text = "id_number,ride_account,standing\n" + "".join(lines + lines)
    job = await finished(client, admin, (await upload(client, admin, "transit", text))["id"])
    assert job["status"] == "completed", job
    assert (job["processed"], job["inserted"], job["updated"], job["rejected"]) == (40, 20, 0, 20), job
    assert [(e["line"], e["reason"]) for e in job["errors"]] == [
        (line, f"身份证号与第 {line - 20} 行重复") for line in range(22, 42)]
    assert await TransitRecord.all().count() == 20 == await landed(TransitRecord, job["id"])
    c = pii.cipher()
    rows = {r.id_number_bidx: r for r in await TransitRecord.all()}
    assert [c.decrypt(rows[bidx(n)].ride_account_enc, context="transit.ride_account") for n in ids] == [
        f"RA-{i}" for i in range(20)]


async def test_new_people_go_in_by_copy_and_a_known_one_by_the_upsert(client, monkeypatch):
    # On PostgreSQL a batch of people the registry does not have is COPYed straight into the table. One that turns
    # out to hold a known person (here its fifth row) is undone to its savepoint and taken apart: its new people
    # by COPY, the known one by the upsert.
    monkeypatch.setattr(registry, "BATCH", 10)
    copied: list[tuple[int, bool]] = []  # (rows, whether the COPY took them)
    upserted: list[int] = []
    copy_new, copy_upsert = registry._copy_new, registry._copy_upsert

    async def recorded_copy(raw, table, columns, data, import_id):
        copied.append((data.count(b"\n"), await copy_new(raw, table, columns, data, import_id)))
        return copied[-1][1]

    async def recorded_upsert(raw, table, columns, data, updates, import_id, rows):
        upserted.append(len(rows))
        return await copy_upsert(raw, table, columns, data, updates, import_id, rows)

    monkeypatch.setattr(registry, "_copy_new", recorded_copy)
    monkeypatch.setattr(registry, "_copy_upsert", recorded_upsert)
    admin = await import_admin(client)
    known = random_id_number()
    first = await finished(client, admin, (await upload(client, admin, "transit",
                                                        f"id_number,ride_account,standing\n{known},RA-old,good\n"))["id"])
    assert first["status"] == "completed", first
    before = await TransitRecord.get(id_number_bidx=bidx(known))
    ids: list[str] = []
    while len(ids) < 39:
        ids += [n for n in [random_id_number()] if n not in ids and n != known]
    ids.insert(14, known)  # line 16, the fifth row of the second batch
    text = "id_number,ride_account,standing\n" + "".join(f"{n},RA-{i},good\n" for i, n in enumerate(ids))
    copied.clear()
    upserted.clear()
    job = await finished(client, admin, (await upload(client, admin, "transit", text))["id"])
    assert job["status"] == "completed", job
    assert (job["processed"], job["inserted"], job["updated"], job["rejected"]) == (40, 39, 1, 0), job
    if rawsql.dialect() == "postgres":
        # Batch 1 by COPY; batch 2's COPY undone, then its nine new rows by COPY and the known one upserted;
        # batches 3 and 4 looked up first (the last ones held a known person) and COPYed whole.
        assert copied == [(10, True), (10, False), (9, True), (10, True), (10, True)], copied
        assert upserted == [1], upserted
    c = pii.cipher()
    rows = {r.id_number_bidx: r for r in await TransitRecord.all()}
    assert len(rows) == 40 == await landed(TransitRecord, job["id"])
    for i, n in enumerate(ids):
        row = rows[bidx(n)]
        assert c.decrypt(row.ride_account_enc, context="transit.ride_account") == f"RA-{i}"
        assert (row.import_id, row.import_line) == (job["id"], i + 2) and row.imported_at and row.updated_at
    assert rows[bidx(known)].imported_at == before.imported_at < rows[bidx(known)].updated_at


async def test_a_person_written_by_another_import_after_the_lookup_is_updated_not_lost(client, monkeypatch):
    # Two known people in one batch, the lookup blind to one of them, as when another import wrote it between the
    # lookup and the COPY: the COPY of the "new" rows meets it, is undone, and the upsert takes them all.
    monkeypatch.setattr(registry, "BATCH", 10)
    admin = await import_admin(client)
    seen, hidden = random_id_number(), random_id_number()
    earlier = f"id_number,ride_account,standing\n{seen},RA-old,good\n{hidden},RA-old,good\n"
    first = await finished(client, admin, (await upload(client, admin, "transit", earlier))["id"])
    assert first["status"] == "completed", first
    known = registry._known

    async def blind(raw, table, rows, import_id):
        found = await known(raw, table, rows, import_id)
        found.pop(bidx(hidden), None)
        return found

    monkeypatch.setattr(registry, "_known", blind)
    ids: list[str] = []
    while len(ids) < 8:
        ids += [n for n in [random_id_number()] if n not in ids and n not in (seen, hidden)]
    ids[2:2] = [seen, hidden]  # lines 4 and 5
    text = "id_number,ride_account,standing\n" + "".join(f"{n},RA-{i},good\n" for i, n in enumerate(ids))
    job = await finished(client, admin, (await upload(client, admin, "transit", text))["id"])
    assert job["status"] == "completed", job
    assert (job["processed"], job["inserted"], job["updated"], job["rejected"]) == (10, 8, 2, 0), job
    c = pii.cipher()
    rows = {r.id_number_bidx: r for r in await TransitRecord.all()}
    assert len(rows) == 10 == await landed(TransitRecord, job["id"])
    assert [c.decrypt(rows[bidx(n)].ride_account_enc, context="transit.ride_account") for n in ids] == [
        f"RA-{i}" for i in range(10)]


async def test_the_command_line_import_is_a_job_readable_through_the_api(live, client, tmp_path):
    from tests.core.test_cli import _run

    admin = await import_admin(client)
    good, twice = random_id_number(), random_id_number()
    path = tmp_path / "low_income.csv"
    path.write_text(f"id_number,category,since\n{good},特困,2020-01-01\n{twice},低保,2020-01-01\n"
                    f"{twice},特困,2021-01-01\n{random_id_number()},低保,2020/01/01\n", encoding="utf-8")
    code, out, err = await _run(live, "import", "low_income", str(path))
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["inserted"], summary["updated"], summary["rejected"]) == (4, 2, 0, 2)
    assert good not in out + err and twice not in out + err
    job = (await client.get(f"/api/v1/admin/imports/{summary['job_id']}", headers=admin)).json()
    assert (job["status"], job["total_rows"], job["processed"], job["inserted"], job["rejected"]) == (
        "completed", 4, 4, 2, 2)
    assert [(r["line"], r["reason"]) for r in await all_rejections(client, admin, job["id"])] == [
        (4, "身份证号与第 3 行重复"), (5, "since 须为 YYYY-MM-DD")]
    assert await AuditLog.filter(action="registry.import", target_id=job["id"], actor_id="cli").count() == 1


async def test_rejections_are_for_import_staff_and_name_a_real_import(client):
    from tests.applications.conftest import staff_headers

    admin = await import_admin(client)
    job = await finished(client, admin, (await upload(
        client, admin, "transit", f"id_number,ride_account,standing\n{random_id_number()},RA-1,lost\n"))["id"])
    assert job["rejected"] == 1
    for path in (f"/api/v1/admin/imports/{job['id']}/rejections", f"/api/v1/admin/imports/{job['id']}/rejections.csv"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=await staff_headers(client))).status_code == 403
        assert (await client.get(path.replace(job["id"], "imp_nothing"), headers=admin)).status_code == 404
    # A refused export leaves no audit row; only the one that went out is recorded.
    assert await AuditLog.filter(action="registry.import.rejections_export").count() == 0


async def test_a_huge_field_deep_in_the_file_is_one_rejected_row(client):
    # The file of the report: a 140,000-character field at row 2,500 ended `failed, 0 inserted` with 2,000 rows
    # written. It is one rejected row now, and every other row lands.
    admin = await import_admin(client)
    ids = list({random_id_number() for _ in range(4000)})[:3000]
    rows = [f"{n},RA-{i},good\n" for i, n in enumerate(ids)]
    rows[2499] = f"{ids[2499]},{'R' * 140_000},good\n"
    job = await finished(client, admin, (await upload(client, admin, "transit", "id_number,ride_account,standing\n"
                                                      + "".join(rows)))["id"])
    assert (job["status"], job["processed"], job["inserted"], job["rejected"]) == ("completed", 3000, 2999, 1), job
    assert job["errors"] == [{"line": 2501, "reason": "ride_account 超过 64 个字符"}]
    assert await TransitRecord.all().count() == 2999 == await landed(TransitRecord, job["id"])
    assert not await TransitRecord.filter(id_number_bidx=bidx(ids[2499])).exists()


async def test_excel_utf8_csv_with_a_bom_and_crlf_imports(client):
    admin = await import_admin(client)
    good, bad = person(), person(name="王3")
    text = "\r\n".join([",".join(POPULATION_HEADER), ",".join(good.values()), ",".join(bad.values())]) + "\r\n"
    job = await finished(client, admin, (await upload(client, admin, "population", "\ufeff" + text))["id"])
    assert (job["status"], job["inserted"], job["rejected"]) == ("completed", 1, 1), job
    assert [e["line"] for e in job["errors"]] == [3]
    record = await PopulationRecord.get(id_number_bidx=bidx(good["id_number"]))
    assert pii.cipher().decrypt(record.address_enc, context="population.address") == good["address"]


async def test_a_pooled_import_counts_and_rejects_as_one_process_does(client, monkeypatch, tmp_path):
    from api.citizens import imports

    monkeypatch.setattr(registry, "BATCH", 10)  # 45 rows: five batches, checked in two processes
    monkeypatch.setattr(registry, "POOL_BATCHES", 1)
    monkeypatch.setattr(imports, "POOL_MIN_ROWS", 0)
    admin = await import_admin(client)
    ids = list({random_id_number() for _ in range(60)})[:45]
    ids[3] = ids[1]  # line 5 repeats line 3, in the same batch
    ids[28] = ids[2]  # line 30 repeats line 4, three batches later
    ids[44] = ids[0]
    path = tmp_path / "transit.csv"
    path.write_text("id_number,ride_account,standing\n" + "".join(
        f"{n},RA-{line},{'good' if line != 20 else 'lost'}\n" for line, n in enumerate(ids, start=2)), encoding="utf-8")
    job, summary = await imports.import_file(dataset="transit", path=path, processes=2)
    assert (summary["read"], summary["inserted"], summary["updated"], summary["rejected"]) == (45, 41, 0, 4)
    assert [(r["line"], r["reason"][:12]) for r in await all_rejections(client, admin, job.id)] == [
        (5, "身份证号与第 3 行重复"), (20, "standing 须为 "), (30, "身份证号与第 4 行重复"),
        (46, "身份证号与第 2 行重复")]
    assert await TransitRecord.all().count() == 41 == await landed(TransitRecord, job.id)
    c = pii.cipher()
    rows = {r.id_number_bidx: r for r in await TransitRecord.all()}
    assert c.decrypt(rows[bidx(ids[2])].ride_account_enc, context="transit.ride_account") == "RA-4"
    _, again = await imports.import_file(dataset="transit", path=path, processes=2)
    assert (again["read"], again["inserted"], again["updated"], again["rejected"]) == (45, 0, 41, 4)

"""The command line against the same stores: import, create-admin, seed-demo."""

import asyncio
import os
import sys
from pathlib import Path

from api.admin.models import AdminAccount, WorkCalendarYear
from api.citizens import idnumber
from api.citizens.models import PopulationRecord
from api.core import pii
from tests.factories import random_id_number, random_phone

ROOT = Path(__file__).resolve().parents[2]


async def _run(live, *args) -> tuple[int, str, str]:
    s = live.settings
    env = {**os.environ, "DATA_DIR": str(s.data_dir), "TZ": "Asia/Shanghai", "LOG_LEVEL": "WARNING",
           "JOB_QUEUE": s.job_queue}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    if s.database_url:
        env["DATABASE_URL"] = s.database_url
    if s.redis_url:
        env["REDIS_URL"] = s.redis_url
    proc = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "server.py"), *args, env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode(), err.decode()


async def test_import_population_reports_bad_rows_and_upserts(live, tmp_path):
    good, phone = random_id_number("19850615"), random_phone()  # the birth date and gender match the id number
    gender = idnumber.gender(good)
    bad = good[:17] + ("1" if good[17] != "1" else "2")
    csv_path = tmp_path / "population.csv"
    csv_path.write_text(
        "id_number,name,gender,birth_date,phone,hukou_region,address,household_no\n"
        f"{good},刘一,{gender},1985-06-15,{phone},110101,北京市东城区,H001\n"
        f"{bad},刘二,女,1985-06-15,{random_phone()},110101,北京市东城区,H002\n", encoding="utf-8")
    code, out, err = await _run(live, "import", "population", str(csv_path))
    assert code == 0, err
    assert '"inserted": 1' in out and '"rejected": 1' in out and '"line": 3' in out
    assert good not in out + err and phone not in out + err
    bidx = pii.cipher().blind_index(good, kind="id_number")
    record = await PopulationRecord.get(id_number_bidx=bidx)
    assert pii.cipher().decrypt(record.name_enc, context="population.name") == "刘一"
    csv_path.write_text(f"id_number,name,gender,birth_date,phone,hukou_region,address\n"
                        f"{good},刘一一,{gender},1985-06-15,{phone},110101,北京市东城区\n", encoding="utf-8")
    code, out, _ = await _run(live, "import", "population", str(csv_path))
    assert code == 0 and '"updated": 1' in out
    record = await PopulationRecord.get(id_number_bidx=bidx)
    assert pii.cipher().decrypt(record.name_enc, context="population.name") == "刘一一"


async def test_import_refuses_a_file_without_the_columns(live, tmp_path):
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("name,phone\n张三,13800000000\n", encoding="utf-8")
    code, _, err = await _run(live, "import", "population", str(csv_path))
    assert code != 0 and "id_number" in err


async def test_create_admin_then_login(live, client):
    code, out, err = await _run(live, "create-admin", "--username", "cli_auditor", "--password", "long-enough-pw",
                                "--role", "auditor")
    assert code == 0, err
    assert (await AdminAccount.get(username="cli_auditor")).roles == ["auditor"]
    r = await client.post("/api/v1/admin/auth/login", json={"username": "cli_auditor", "password": "long-enough-pw"})
    assert r.status_code == 200
    code, _, err = await _run(live, "create-admin", "--username", "x", "--password", "long-enough-pw", "--role", "god")
    assert code != 0


async def test_seed_demo_fills_the_registry_and_prints_how_to_log_in(live):
    code, out, err = await _run(live, "seed-demo", "--people", "5")
    assert code == 0, err
    assert "/sandbox/wechat/codes" in out and "admin" in out
    assert await AdminAccount.exists(username="admin")
    code, out2, _ = await _run(live, "seed-demo", "--people", "5")  # a second run updates, not duplicates
    assert code == 0 and "0 inserted" in out2
    assert "demo placeholder" not in out + out2  # the session's years are loaded: never written over


async def test_seed_demo_gives_an_unloaded_next_year_a_labelled_placeholder(live):
    from api.core import workdays

    await WorkCalendarYear.all().delete()
    code, out, err = await _run(live, "seed-demo", "--people", "1")
    assert code == 0, err
    years = list(range(workdays.BUILTIN_LAST_YEAR + 1, workdays.today().year + 2))
    rows = await WorkCalendarYear.all().order_by("year")
    assert [r.year for r in rows] == years
    for row in rows:
        assert row.source.startswith("演示数据") and row.days == [
            {"date": f"{row.year}-01-01", "kind": "holiday", "name": "元旦"}]
    assert ("demo placeholder" in out) == bool(years)

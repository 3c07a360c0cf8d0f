"""What a live server writes on stdout when a request or a job fails with a person's data in the exception: the
traceback is there, the phone, id number and name are not (the scrubber of every log line covers tracebacks).
The same server starts with a catalogue no calendar covers: it logs the missing year and /readyz names it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.core import pii, workdays
from api.core.logging import scrub
from tests.conftest import free_port
from tests.factories import random_id_number, random_phone

ROOT = Path(__file__).resolve().parents[2]
NAME = "欧阳晓燕"


def _lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]


def _wait_for(log: Path, proc: subprocess.Popen, found, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        if any(found(line) for line in _lines(log)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {what} in the log: " + log.read_text(encoding="utf-8")[-3000:])


def test_a_failing_request_and_job_log_their_tracebacks_without_personal_data(tmp_path):
    phone, id_number = random_phone(), random_id_number()
    person = {"name": NAME, "phone": phone, "id_number": id_number}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JOB_QUEUE")}
    env.update(PORT=str(port), DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="INFO", ACCESS_LOG="false",
               TZ="Asia/Shanghai", APP_ENV="development")
    log = tmp_path / "server.log"
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "core" / "failing_server.py")], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text(encoding="utf-8")[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-3000:]
                time.sleep(0.3)

        r = httpx.post(f"{base}/test/fail", json=person, timeout=10)
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal_error"
        assert phone not in r.text and NAME not in r.text and "Traceback" not in r.text
        assert httpx.post(f"{base}/test/fail-job", json=person, timeout=10).status_code == 202
        _wait_for(log, proc, lambda line: line.get("logger") == "arq.worker" and "failed" in line["event"],
                  "failed job")

        # The catalogue's 365 working days reach past every calendar: said at start-up and by /readyz.
        today = workdays.today()
        year = today.year if not workdays.year_known(today.year) else workdays.BUILTIN_LAST_YEAR + 1
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.json()["checks"]["calendar"] == f"missing {year}", ready.text
        assert ready.status_code == (503 if year == today.year else 200)
    finally:
        proc.terminate()
        proc.wait(30)

    text = log.read_text(encoding="utf-8")
    for raw in (phone, id_number, NAME, NAME.encode("unicode_escape").decode(), repr(NAME.encode())[2:-1]):
        assert raw not in text, raw
    assert pii.mask_phone(phone) in text and pii.mask_id_number(id_number) in text and "欧阳**" in text
    lines = _lines(log)

    request = next(line for line in lines if line["event"] == "unhandled_error")
    assert request["level"] == "error" and request["path"] == "/test/fail" and request["error_type"] == "RuntimeError"
    trace = request["exception"]
    assert trace.startswith("Traceback (most recent call last):") and ", in fail\n" in trace
    assert f"RuntimeError: cannot file the case of 欧阳**（{pii.mask_id_number(id_number)}，" in trace

    job = next(line for line in lines if line.get("logger") == "arq.worker" and "failed" in line["event"])
    assert "fail_with_person" in job["event"] and "ValueError" in job["event"]
    assert job["exception"].startswith("Traceback (most recent call last):")
    assert ", in fail_with_person\n" in job["exception"]
    assert f"'phone': '{pii.mask_phone(phone)}'" in job["exception"]

    started = next(line for line in lines if line["event"] == "calendar_missing")
    assert started["level"] == "error" and started["missing_years"] == [year]
    assert started["horizon_working_days"] == 365 and "load-calendar" in started["load_with"]


def test_the_scrubber_masks_names_written_every_way_a_traceback_writes_them():
    # Standalone or quoted, after a name key whatever its length, with a middle dot, escaped, with +86.
    cases = {
        "KeyError: '张三'": "KeyError: '张*'",
        "{'applicant_name': '阿依古丽买买提', 'reason': '就业办理'}":
            "{'applicant_name': '阿依*****', 'reason': '就业**'}",
        "申请人 阿依古丽·买买提 未找到": "申** 阿依****** 未**",  # words as short as a name go too
        'b\'{"name":"\\u5f20\\u4e09"}\'': 'b\'{"name":"\\u5f20*"}\'',
        "b'\\xe5\\xbc\\xa0\\xe4\\xb8\\x89'": "b'\\xe5\\xbc\\xa0*'",
        "phone=+8613812345678": "phone=138****5678",
        "服务器内部错误，请稍后再试": "服务器内部错误，请稍后再试",  # a sentence stays readable
    }
    for text, expected in cases.items():
        assert scrub(text) == expected, (text, scrub(text))

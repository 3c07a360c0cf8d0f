"""Schemathesis over the whole of /openapi.json, as a client generator's user would meet the API: any 5xx, any
answer that does not match its documented schema and any undocumented status fails.

Each audience runs with its own credentials (a verified citizen, a staff member holding every role and
department, a scanner terminal), a bounded number of examples per operation and a fixed seed, so that a red run
can be replayed (`ST_SEED`, `ST_MAX_EXAMPLES` change them). Schemathesis runs as its own process against the live
test server: the server answers from this test's event loop meanwhile.
"""

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.admin.helpers import new_staff, staff_login
from tests.factories import bearer, verified_citizen

CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance"
MAX_EXAMPLES = os.environ.get("ST_MAX_EXAMPLES", "15")
SEED = os.environ.get("ST_SEED", "20261130")
# Routes that end the caller's own session would leave the rest of the run unauthenticated: they run last, in a
# run of their own.
SESSION_ENDERS = r"/auth/logout$"


async def _schemathesis(live, tmp_path: Path, name: str, *, headers: dict, include: str | None = None,
                        exclude: str | None = None) -> dict:
    """Run schemathesis on the live server; its JSON report (operations, cases and failures)."""
    report = tmp_path / f"{name}.json"
    args = [str(Path(sys.executable).with_name("st")), "run", f"{live.base_url}/openapi.json",
            "--checks", CHECKS, "--max-examples", MAX_EXAMPLES, "--seed", SEED, "--workers", "1",
            "--generation-database", "none", "--request-timeout", "20", "--no-color",
            "--report", "json", "--report-json-path", str(report)]
    for key, value in headers.items():
        args += ["--header", f"{key}: {value}"]
    if include:
        args += ["--include-path-regex", include]
    if exclude:
        args += ["--exclude-path-regex", exclude]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    summary = text[text.rfind("SUMMARY"):] if "SUMMARY" in text else text[-3000:]
    print(f"schemathesis {name}:\n{summary}")
    assert proc.returncode == 0, text[-20000:]
    return json.loads(report.read_text()) if report.exists() else {}


async def test_citizen_routes_keep_their_contract(client, live, tmp_path):
    tokens, _ = await verified_citizen(client)
    await _schemathesis(live, tmp_path, "citizen", headers=bearer(tokens),
                        exclude=rf"^/api/v1/admin|^/api/v1/scans?\b|{SESSION_ENDERS}")


async def test_staff_routes_keep_their_contract(client, live, tmp_path):
    name = await new_staff(roles=("super_admin", "policy_admin", "reviewer", "auditor"),
                           depts=("gongan", "weijian", "yibao", "renshe", "minzheng"))
    staff = (await staff_login(client, name)).json()
    await _schemathesis(live, tmp_path, "staff", headers=bearer(staff), include=r"^/api/v1/admin",
                        exclude=SESSION_ENDERS)


async def test_terminal_and_session_routes_keep_their_contract(client, live, tmp_path):
    staff = (await staff_login(client, await new_staff(roles=("super_admin",), depts=()))).json()
    r = await client.post("/api/v1/admin/terminals", headers=bearer(staff),
                          json={"name": "schemathesis gate", "scene": "transit", "dept": "jiaotong"})
    assert r.status_code == 201, r.text
    terminal = r.json()
    tokens, _ = await verified_citizen(client)
    await _schemathesis(live, tmp_path, "terminal",
                        headers={"Authorization": f"Terminal {terminal['terminal_id']}:{terminal['secret']}"},
                        include=r"^/api/v1/scans?\b")
    await _schemathesis(live, tmp_path, "session-enders", headers=bearer(tokens), include=SESSION_ENDERS)

"""A live server for tests/core/test_log_scrubbing.py: the real app on a store of its own (DATA_DIR), plus a route
and a job that fail with a person's data in their exception, as a bug would, and a catalogue whose longest time
limit (365 working days) reaches a year no calendar covers.

    python tests/core/failing_server.py      (PORT, DATA_DIR; embedded stores)
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.catalog import loader  # noqa: E402
from api.cli import _with_db, migrate  # noqa: E402
from api.core import jobs  # noqa: E402
from api.core.http import json_object, respond  # noqa: E402
from api.core.settings import load_settings  # noqa: E402
from server import create_app  # noqa: E402
from tests.applications.catalogue_fixture import CATALOGUE  # noqa: E402


async def fail_with_person(ctx, person: dict) -> None:
    """A job that fails on a person's data."""
    raise ValueError(f"no registry row for {person!r}")


jobs.JOBS.append(jobs.Job(fail_with_person, tries=1))


async def _prepare(settings) -> None:
    await migrate(settings)
    catalogue = copy.deepcopy(CATALOGUE)
    catalogue["items"][0]["legal_days"] = catalogue["items"][0]["promised_days"] = 365
    path = settings.data_dir / "catalogue.json"
    path.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    await _with_db(settings, lambda s: loader.load_file(settings=s, path=path))


def main() -> None:
    settings = load_settings()
    asyncio.run(_prepare(settings))
    app = create_app(settings)

    @app.post("/test/fail")
    async def fail(request):
        person = json_object(request)
        applicant = f"{person['name']}（{person['id_number']}，{person['phone']}）"
        raise RuntimeError(f"cannot file the case of {applicant}")

    @app.post("/test/fail-job")
    async def fail_job(request):
        await request.app.ctx.deps.jobs.enqueue("fail_with_person", json_object(request))
        return respond({"queued": True}, status=202)

    app.run(host="127.0.0.1", port=settings.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()

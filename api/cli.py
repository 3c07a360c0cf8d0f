"""The command line's work: migrate, seed-demo, import, load-catalogue, load-calendar, create-admin, worker."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from api import demo
from api.admin import calendar
from api.admin import service as admin_service
from api.catalog import loader
from api.citizens import imports, registry
from api.core import db, pii
from api.core.errors import AppError
from api.core.keys import ensure_keys
from api.core.logging import configure_logging
from api.core.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


async def migrate(settings: Settings) -> list[str]:
    """Apply the aerich migrations that the database has not seen yet."""
    from aerich import Command  # start-up cost: only `migrate` needs aerich (and its CLI's imports)

    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with Command(tortoise_config=db.tortoise_config(settings), app="models", location=str(MIGRATIONS)) as cmd:
        await cmd.init()
        return await cmd.upgrade(run_in_transaction=True)


async def _with_db(settings: Settings, work):
    settings = ensure_keys(settings)
    pii.configure(settings)
    await db.open_db(settings)
    try:
        return await work(settings)
    finally:
        await db.close_db()


async def dispatch(args, settings: Settings) -> int:
    """Run one command; the exit status (2 with a message for input the command refuses)."""
    configure_logging(settings.log_level, stream=sys.stderr)  # scrubbed JSON, apart from the results on stdout
    try:
        return await _dispatch(args, settings)
    except (AppError, ValueError, FileNotFoundError) as exc:
        detail = f" {exc.fields}" if getattr(exc, "fields", None) else ""
        print(f"error: {exc}{detail}", file=sys.stderr)
        return 2


async def _dispatch(args, settings: Settings) -> int:
    if args.command == "migrate":
        applied = await migrate(settings)
        print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none'}")
        return 0
    if args.command == "create-admin":
        async def work(_):
            account = await admin_service.create_or_update(username=args.username, password=args.password,
                                                           roles=args.role, depts=args.dept)
            print(f"admin {account.username} roles={','.join(account.roles)} depts={','.join(account.depts) or '-'}")

        await _with_db(settings, work)
        return 0
    if args.command == "import":
        if args.dataset not in registry.DATASETS:
            print(f"unknown dataset {args.dataset!r}; known: {', '.join(registry.DATASETS)}", file=sys.stderr)
            return 2
        # stdout carries the report alone; log lines (scrubbed, as the server's) go with the progress to stderr.
        meter = ProgressMeter(sys.stderr)

        async def work(_):
            _, summary = await imports.import_file(dataset=args.dataset, path=Path(args.file), progress=meter.update,
                                                  processes=settings.import_processes)
            meter.done()
            print(json.dumps(summary, ensure_ascii=False))

        await _with_db(settings, work)
        return 0
    if args.command == "load-catalogue":
        async def work(s):
            print(json.dumps(await loader.load_file(settings=s, path=Path(args.file) if args.file else None),
                             ensure_ascii=False))

        await _with_db(settings, work)
        return 0
    if args.command == "load-calendar":
        data = calendar.parse_file(json.loads(Path(args.file).read_text(encoding="utf-8")))

        async def work(_):
            created, year = await calendar.load_year(year=data.year, body=data)
            print(json.dumps({"year": year["year"], "created": created, "holidays": year["holidays"],
                              "workdays": year["workdays"], "source": year["source"]}, ensure_ascii=False))

        await _with_db(settings, work)
        return 0
    if args.command == "seed-demo":
        if settings.production:
            print("seed-demo refuses to run in production", file=sys.stderr)
            return 2
        await migrate(settings)
        await _with_db(settings, lambda s: demo.seed(s, people=args.people))
        return 0
    raise SystemExit(f"unknown command {args.command}")


class ProgressMeter:
    """A progress line on stderr: redrawn in place on a terminal, a line every 50,000 rows otherwise."""

    def __init__(self, stream):
        self.stream, self.clock, self.started, self.last_line = stream, time.perf_counter, time.perf_counter(), 0
        self.report = None

    def update(self, report) -> None:
        """Show the rows done so far and the rate."""
        self.report = report
        done = report.processed
        rate = done / max(self.clock() - self.started, 1e-6)
        text = f"{report.dataset}: {done:,} rows ({report.rejected_count:,} rejected), {rate:,.0f} rows/s"
        if self.stream.isatty():
            self.stream.write("\r" + text)
            self.stream.flush()
        elif done - self.last_line >= 50_000:
            self.stream.write(text + "\n")
            self.last_line = done

    def done(self) -> None:
        """The final line."""
        if self.report is None:  # an empty file: no batch ran
            return
        self.last_line = -10**9
        self.update(self.report)
        if self.stream.isatty():
            self.stream.write("\n")


def run_worker(settings: Settings) -> int:
    """Run the arq worker (needs REDIS_URL: the embedded store lives inside one process)."""
    if not settings.redis_url:
        print("python server.py worker needs REDIS_URL (the embedded run has no separate worker)", file=sys.stderr)
        return 2
    import worker  # the job modules of every domain: only this command needs them

    return worker.run(settings)

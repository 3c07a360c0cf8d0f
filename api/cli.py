"""The command line's work: migrate, seed-demo, import, load-catalogue, create-admin, worker."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from api.core import db, pii
from api.core.keys import ensure_keys
from api.core.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


async def migrate(settings: Settings) -> list[str]:
    """Apply the aerich migrations that the database has not seen yet."""
    from aerich import Command

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
    from api.core.errors import AppError

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
        from api.admin import service as admin_service

        async def work(_):
            account = await admin_service.create_or_update(username=args.username, password=args.password,
                                                           roles=args.role, depts=args.dept)
            print(f"admin {account.username} roles={','.join(account.roles)} depts={','.join(account.depts) or '-'}")

        await _with_db(settings, work)
        return 0
    if args.command == "import":
        from api.citizens import registry

        if args.dataset not in registry.DATASETS:
            print(f"unknown dataset {args.dataset!r}; known: {', '.join(registry.DATASETS)}", file=sys.stderr)
            return 2
        columns, importer = registry.DATASETS[args.dataset]

        async def work(_):
            report = await importer(registry.read_csv(args.file, required=columns))
            print(json.dumps(report.as_dict(), ensure_ascii=False))

        await _with_db(settings, work)
        return 0
    if args.command == "load-catalogue":
        from api.catalog import loader

        async def work(s):
            print(json.dumps(await loader.load_file(settings=s, path=Path(args.file) if args.file else None),
                             ensure_ascii=False))

        await _with_db(settings, work)
        return 0
    if args.command == "seed-demo":
        from api import demo

        if settings.production:
            print("seed-demo refuses to run in production", file=sys.stderr)
            return 2
        await migrate(settings)
        await _with_db(settings, lambda s: demo.seed(s, people=args.people))
        return 0
    raise SystemExit(f"unknown command {args.command}")


def run_worker(settings: Settings) -> int:
    """Run the arq worker (needs REDIS_URL: the embedded store lives inside one process)."""
    if not settings.redis_url:
        print("python server.py worker needs REDIS_URL (the embedded run has no separate worker)", file=sys.stderr)
        return 2
    from arq.worker import run_worker as arq_run

    from api.core.jobs import worker_settings

    arq_run(worker_settings(settings))
    return 0

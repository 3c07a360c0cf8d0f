"""Registry import speed alone, in production mode on PostgreSQL (see bench/stack.py): the import step of
bench/push.py without the publish and send steps after it.

With N synthetic people (bench/synthetic.py) it times `python server.py import population FILE` twice: into an
empty registry (every row inserted) and again (every row updated in place), and a plain COPY of the same file,
unencrypted, into a scratch table. It prints rows per second (target >= 30,000) and checks the figures add up:
rows read = inserted + updated + rejected, and the table holds what the report says.

    python bench/imports.py [--people 200000]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import argparse
import asyncio
import json
import resource
import time

import asyncpg

from bench import synthetic
from bench.stack import Stack, copy_seconds


async def _rows(stack: Stack) -> int:
    conn = await asyncpg.connect(stack.db_url.replace("postgres://", "postgresql://", 1))
    try:
        return await conn.fetchval("SELECT count(*) FROM population_record")
    finally:
        await conn.close()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _import(stack: Stack, csv_path: Path) -> tuple[float, float, dict]:
    """Wall seconds, CPU seconds of the importing process (less at the mercy of a busy machine) and its report."""
    started, cpu = time.perf_counter(), _cpu()
    out = stack.cli("import", "population", str(csv_path))
    return time.perf_counter() - started, _cpu() - cpu, json.loads(out.strip().splitlines()[-1])


def main() -> int:
    """Run the benchmark; 1 when a figure does not add up (speed is printed, not judged: the machine is shared)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200_000)
    args = parser.parse_args()
    ok = True
    with Stack() as stack:
        csv_path = stack.work / "population.csv"
        synthetic.write_population(csv_path, args.people)
        for label in ("insert", "update"):
            seconds, cpu, report = _import(stack, csv_path)
            read = report["inserted"] + report["updated"] + report["rejected"]
            rows = asyncio.run(_rows(stack))
            print(f"import ({label}): {args.people:,} rows in {seconds:.1f} s = {args.people / seconds:,.0f} rows/s "
                  f"({cpu:.1f} CPU s in the importer, {args.people / cpu:,.0f} rows per CPU s); "
                  f"inserted {report['inserted']:,}, updated {report['updated']:,}, rejected {report['rejected']:,}; "
                  f"table {rows:,}")
            ok = ok and read == args.people
        copy_s = asyncio.run(copy_seconds(stack.db_url, csv_path))
        print(f"plain COPY of the same file {copy_s:.1f} s ({args.people / copy_s:,.0f} rows/s)")
    print("PASS counts add up" if ok else "FAIL rows read != inserted + updated + rejected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

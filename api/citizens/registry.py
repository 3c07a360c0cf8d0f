"""Importing registry datasets in bulk: rows checked one by one, written a thousand at a time, re-imports
updating in place (keyed on the id-number blind index)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from api.citizens.datasets import DATASETS, Dataset, id_bidx
from api.core import pii, rawsql
from api.core.ids import new_id

BATCH = 2000
ERRORS_KEPT = 1000

__all__ = ["DATASETS", "ImportReport", "import_rows", "import_population", "import_disability", "read_csv"]


@dataclass
class ImportReport:
    """What an import did; rejected rows are named by line and reason, never by their content."""

    dataset: str
    inserted: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_count: int = 0

    @property
    def processed(self) -> int:
        """Rows read so far."""
        return self.inserted + self.updated + self.rejected_count

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        return {"dataset": self.dataset, "inserted": self.inserted, "updated": self.updated,
                "rejected": self.rejected_count, "rejected_rows": self.rejected[:100]}


async def import_rows(dataset: str, rows: Iterable[dict], *,
                      progress: Callable[[ImportReport], object] | None = None) -> ImportReport:
    """Import a dataset's rows (line 2 is the first after the header); bad rows are reported and skipped."""
    spec = DATASETS[dataset]
    report = ImportReport(dataset=dataset)
    c = pii.cipher()
    batch: dict[str, dict] = {}
    writing: asyncio.Task | None = None
    for line, row in enumerate(rows, start=2):
        if line % 50 == 0:
            await asyncio.sleep(0)  # lets the previous batch's write move on while this one is encrypted
        reason = spec.problem(row)
        if reason:
            report.rejected_count += 1
            if len(report.rejected) < ERRORS_KEPT:
                report.rejected.append({"line": line, "reason": reason})
            continue
        batch[id_bidx(row, c)] = spec.values(row, c)  # the last row for a person wins within a batch
        if len(batch) >= BATCH:
            if writing is not None:
                await writing
                if progress:
                    await _call(progress, report)
            writing = asyncio.create_task(_upsert(spec, batch, report))
            batch = {}
    if writing is not None:
        await writing
    if batch:
        await _upsert(spec, batch, report)
    if progress:
        await _call(progress, report)
    return report


async def _call(progress, report) -> None:
    result = progress(report)
    if hasattr(result, "__await__"):
        await result


async def _upsert(spec: Dataset, batch: dict[str, dict], report: ImportReport) -> None:
    value_columns = list(next(iter(batch.values())))
    columns = ["id", "id_number_bidx", *value_columns, "imported_at", "updated_at"]
    now = dt.datetime.now(dt.timezone.utc)
    records = [(new_id(spec.id_prefix), key, *(values[c] for c in value_columns), now, now)
               for key, values in batch.items()]
    updates = ", ".join(f"{c} = excluded.{c}" for c in [*value_columns, "updated_at"])
    async with in_transaction() as conn:
        if rawsql.dialect(conn) == "postgres":
            inserted = await _copy_upsert(conn, spec.table, columns, records, updates)
        else:
            inserted = await _values_upsert(conn, spec.table, columns, records, updates)
    report.inserted += inserted
    report.updated += len(records) - inserted


async def _copy_upsert(conn, table: str, columns: list[str], records: list[tuple], updates: str) -> int:
    """PostgreSQL: binary COPY into a session-local staging table, then one upsert from it."""
    staging = f"staging_{table}"
    async with conn.acquire_connection() as raw:
        # A batch lost to a database crash in the last moments is re-imported with the file (rows upsert), so
        # the import need not wait for each commit to reach the disk.
        await raw.execute("SET LOCAL synchronous_commit TO OFF")
        await raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table} INCLUDING DEFAULTS) "
                          "ON COMMIT DELETE ROWS")
        await raw.copy_records_to_table(staging, records=records, columns=columns)
        rows = await raw.fetch(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {staging} "
            f"ON CONFLICT (id_number_bidx) DO UPDATE SET {updates} RETURNING (xmax = 0) AS inserted")
    return sum(1 for r in rows if r["inserted"])


async def _values_upsert(conn, table: str, columns: list[str], records: list[tuple], updates: str) -> int:
    """SQLite: one multi-row INSERT ... ON CONFLICT per batch."""
    keys = [r[1] for r in records]
    row_marks = "(" + ", ".join("?" for _ in columns) + ")"
    existing = await rawsql.fetch(
        f"SELECT count(*) AS n FROM {table} WHERE id_number_bidx IN {rawsql.in_list(keys)}", keys, conn)
    # The ids of rows that already exist are dropped by the update.
    await rawsql.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(row_marks for _ in records)} "
        f"ON CONFLICT (id_number_bidx) DO UPDATE SET {updates}", [v for r in records for v in r], conn)
    return len(records) - int(existing[0]["n"])


async def import_population(rows: Iterable[dict]) -> ImportReport:
    """Insert or update population records (户籍人口) keyed by id number."""
    return await import_rows("population", rows)


async def import_disability(rows: Iterable[dict]) -> ImportReport:
    """Insert or update disability records (残疾人证) keyed by id number."""
    return await import_rows("disability", rows)


def read_csv(path: str, *, required: tuple[str, ...]) -> Iterator[dict]:
    """Rows of a UTF-8 CSV file (a BOM is tolerated); refuse a header that lacks a required column."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        yield from read_csv_lines(handle, required=required)


def read_csv_lines(lines: Iterable[str], *, required: tuple[str, ...]) -> Iterator[dict]:
    """Rows of CSV text given line by line; refuse a header that lacks a required column."""
    reader = csv.DictReader(lines)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"CSV 缺少列: {', '.join(missing)}")
    yield from reader

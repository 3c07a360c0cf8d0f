"""Importing registry datasets in bulk.

A file is read through once for its structure before anything is written (`registry_csv.count_records`): bad
bytes, a NUL, a quote left open, a header without the dataset's columns end the import with the line where the
broken record starts, and nothing of the file lands. Then its rows are checked one by one (`Dataset.check`, field
counts, an id number seen earlier in the file) and written two thousand at a time (ten thousand when a process
pool checks and encrypts them: `python server.py import` of a large file); each batch commits in one
transaction with what it did (its rejected rows and the import's counts, through `on_batch`), so whatever stops an
import leaves exactly what its report says, and a retry goes on after the last batch that landed. Re-imports update
in place (keyed on the id-number blind index); every row records the import and file line that last wrote it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import operator
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from asyncpg.exceptions import UniqueViolationError
from tortoise.transactions import in_transaction

from api.citizens.datasets import DATASETS, Dataset, id_bidx
from api.citizens.registry_csv import Record
from api.core import copy_format, pii, rawsql
from api.core.ids import new_id, ordered_id

BATCH = 2000
POOL_BATCHES = 5  # a pooled import commits BATCH * this many rows at once: fewer statements for the same rows
ERRORS_KEPT = 1000
SPLIT_MAX_SHARE = 0.5  # a batch more known than this is upserted whole: its lookup would spare the upsert little
SQLITE_ROWS_PER_INSERT = 1000  # keeps a multi-row INSERT under SQLite's 32,766 parameters

__all__ = ["DATASETS", "ImportReport", "import_rows", "import_records", "import_population", "import_disability"]




@dataclass(frozen=True)
class Rejection:
    """A row that was not imported: its line, the reason, and its id number masked (never the row's content)."""

    line: int
    reason: str
    id_number: str | None


@dataclass
class ImportReport:
    """What an import did; rejected rows are named by line and reason, never by their content."""

    dataset: str
    inserted: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)  # the first ERRORS_KEPT, {"line", "reason"}
    rejected_count: int = 0

    @property
    def processed(self) -> int:
        """Rows read so far: every one of them inserted, updated or rejected."""
        return self.inserted + self.updated + self.rejected_count

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        return {"dataset": self.dataset, "read": self.processed, "inserted": self.inserted, "updated": self.updated,
                "rejected": self.rejected_count, "rejected_rows": self.rejected[:100]}

    def plus(self, *, inserted: int, updated: int, rejections: list[Rejection]) -> ImportReport:
        """This report with one more batch."""
        room = max(ERRORS_KEPT - len(self.rejected), 0)
        kept = self.rejected + [{"line": r.line, "reason": r.reason} for r in rejections[:room]]
        return dataclasses.replace(self, inserted=self.inserted + inserted, updated=self.updated + updated,
                                   rejected=kept, rejected_count=self.rejected_count + len(rejections))


# on_batch(connection, report before the batch, report after it, the batch's rejections): runs in the batch's
# transaction, so what it writes (the job's counts) commits with the rows or not at all.
OnBatch = Callable[[object, ImportReport, ImportReport, list[Rejection]], Awaitable[None]]


@dataclass
class _Batch:
    rows: dict[str, tuple[int, str, dict]] = field(default_factory=dict)  # bidx -> (line, id number, values)
    rejections: list[Rejection] = field(default_factory=list)
    read: int = 0
    # (columns, the rows as records or as COPY text data, SET clause), made where the rows were checked (a pool
    # process): see prepare_batch
    prepared: tuple[list[str], list[tuple] | bytes, str] | None = None


@dataclass
class _Streak:
    """How many of the import's recent rows the registry already had (a moving average over its batches): it picks
    how PostgreSQL takes the next batch."""

    known_share: float = 0.0

    def saw(self, known: int, rows: int) -> None:
        """One more batch, `known` of whose `rows` the registry had."""
        self.known_share = (self.known_share + known / rows) / 2

    def way(self, rows: int) -> str:
        """`copy` (a batch most likely all new: tried as a plain COPY), `split` (looked up first: its new rows by
        COPY, the known ones by the upsert) or `upsert` (an update file: all of it by the upsert)."""
        # A COPY that meets a known row is undone with the half of the batch it had written, about 8 µs a row of
        # the database's CPU lost; the lookup costs about 2 µs a row. Below a quarter of a known row expected, the
        # COPY is the better bet.
        if self.known_share * rows < 0.25:
            return "copy"
        return "upsert" if self.known_share > SPLIT_MAX_SHARE else "split"


async def import_rows(dataset: str, rows: Iterable[dict], *,
                      progress: Callable[[ImportReport], object] | None = None) -> ImportReport:
    """Import a dataset's rows given as dicts (line 2 is the first, as after a header); bad rows are reported and
    skipped."""
    records = ((line, line, row, None) for line, row in enumerate(rows, start=2))
    return await import_records(dataset, records, import_id=new_id("imp"), progress=progress)


async def import_records(dataset: str, records: Iterable[Record], *, import_id: str,
                         report: ImportReport | None = None, on_batch: OnBatch | None = None,
                         progress: Callable[[ImportReport], object] | None = None,
                         pool: Executor | None = None) -> ImportReport:
    """Check and write `records` batch by batch as import `import_id`, going on from `report` (a retry's counts so
    far); each batch commits with `on_batch`'s writes. With `pool` (processes), rows are checked and encrypted
    there, batches still committed in file order. The report, as committed."""
    spec = DATASETS[dataset]
    report = report or ImportReport(dataset=dataset)
    if pool is not None:
        return await _import_pooled(spec, records, import_id=import_id, report=report, on_batch=on_batch,
                                    progress=progress, pool=pool)
    c = pii.cipher()
    batch, streak = _Batch(), _Streak()
    writing: asyncio.Task | None = None
    try:
        for record in records:
            batch.read += 1
            if batch.read % 50 == 0:
                await asyncio.sleep(0)  # lets the previous batch's write move on while this one is encrypted
            _take(spec, record, batch, c)
            if batch.read >= BATCH:
                if writing is not None:
                    await writing
                    await _call(progress, report)
                writing = asyncio.create_task(_write(spec, batch, import_id, report, on_batch, streak))
                batch = _Batch()
        if writing is not None:
            await writing
            writing = None
            await _call(progress, report)
        if batch.read:
            await _write(spec, batch, import_id, report, on_batch, streak)
            await _call(progress, report)
    finally:
        if writing is not None and not writing.done():
            # Reading stopped (an error, a cancellation): the batch in flight commits or rolls back whole either way.
            await asyncio.gather(writing, return_exceptions=True)
    return report


async def _import_pooled(spec: Dataset, records: Iterable[Record], *, import_id: str, report: ImportReport,
                         on_batch: OnBatch | None, progress, pool: Executor) -> ImportReport:
    loop = asyncio.get_running_loop()
    c = pii.cipher()
    as_text = rawsql.dialect() == "postgres"
    ahead = 2 * max(getattr(pool, "_max_workers", 2), 1)  # enough queued to keep every process busy, no more
    pending: deque[asyncio.Future] = deque()
    writing: asyncio.Task | None = None
    records = iter(records)
    streak = _Streak()

    async def write_next() -> None:
        nonlocal writing
        batch = await pending.popleft()
        if writing is not None:
            await writing
            await _call(progress, report)
        writing = asyncio.create_task(_write(spec, batch, import_id, report, on_batch, streak))

    try:
        size = BATCH * POOL_BATCHES
        # Read in a thread: parsing 10,000 CSV records would hold the loop (and the write in flight) for ~50 ms.
        while chunk := await asyncio.to_thread(lambda: list(itertools.islice(records, size))):
            pending.append(loop.run_in_executor(pool, prepare_batch, spec.name, chunk, import_id, c, as_text))
            while len(pending) >= ahead:
                await write_next()
        while pending:
            await write_next()
        if writing is not None:
            await writing
            writing = None
            await _call(progress, report)
    finally:
        for future in pending:
            future.cancel()
        if writing is not None and not writing.done():
            await asyncio.gather(writing, return_exceptions=True)
    return report


def prepare_batch(dataset: str, records: list[Record], import_id: str, c: pii.PiiCipher,
                  as_text: bool = False) -> _Batch:
    """Check, key and encrypt one batch of records (run in a pool process); the batch with its rows ready to write:
    as COPY text data (`as_text`, for PostgreSQL) or as table records (SQLite)."""
    spec = DATASETS[dataset]
    batch = _Batch()
    for record in records:
        batch.read += 1
        _take(spec, record, batch, c)
    if batch.rows:
        batch.prepared = _copy_data(spec, batch.rows) if as_text else _copy_records(spec, batch.rows, import_id)
        # The values travel back once, inside what was prepared.
        batch.rows = {key: (line, id_number, None) for key, (line, id_number, _) in batch.rows.items()}
    return batch


def _take(spec: Dataset, record: Record, batch: _Batch, c: pii.PiiCipher) -> None:
    """Check one record into the batch: a row to write, or a rejection."""
    line, end, row, problem = record
    reason = problem or spec.check(row)
    if reason is None:
        key = id_bidx(row, c)
        first = batch.rows.get(key)
        if first is None:
            batch.rows[key] = (line, row["id_number"], spec.values(row, c))
            return
        reason = f"身份证号与第 {first[0]} 行重复"
    if end != line:
        reason += f"（这条记录从第 {line} 行跨到第 {end} 行）"
    batch.rejections.append(Rejection(line, reason, masked_id_number(row.get("id_number"))))


def masked_id_number(value) -> str | None:
    """An id number as a report may show it (`430***********123X`); fully starred when it is no id number's length."""
    value = value.strip().upper() if isinstance(value, str) else ""
    if not value:
        return None
    return pii.mask_id_number(value) if 15 <= len(value) <= 18 else "*" * min(len(value), 18)


async def _call(progress, report) -> None:
    if progress is None:
        return
    result = progress(report)
    if hasattr(result, "__await__"):
        await result


async def _write(spec: Dataset, batch: _Batch, import_id: str, report: ImportReport,
                 on_batch: OnBatch | None, streak: _Streak) -> None:
    """Write one batch and what it did in one transaction; the report moves on once it has committed."""
    rejections = list(batch.rejections)
    async with in_transaction() as conn:
        inserted = updated = 0
        if batch.rows:
            inserted, updated, duplicates = await _upsert(conn, spec, batch, import_id, streak)
            if duplicates:
                id_numbers = {line: id_number for line, id_number, _ in batch.rows.values()}
                rejections += [Rejection(line, f"身份证号与第 {first} 行重复", masked_id_number(id_numbers[line]))
                               for line, first in duplicates]
        rejections.sort(key=lambda r: r.line)
        after = report.plus(inserted=inserted, updated=updated, rejections=rejections)
        if on_batch is not None:
            await on_batch(conn, report, after, rejections)
    report.inserted, report.updated = after.inserted, after.updated
    report.rejected, report.rejected_count = after.rejected, after.rejected_count


async def _upsert(conn, spec: Dataset, batch: _Batch, import_id: str,
                  streak: _Streak) -> tuple[int, int, list[tuple[int, int]]]:
    """Insert or update the batch's rows; (inserted, updated, [(line, first line)] of the rows an earlier batch of
    this import already wrote: a duplicate in the file, not written)."""
    if rawsql.dialect(conn) == "postgres":
        async with conn.acquire_connection() as raw:
            # A batch lost to a database crash in the last moments is lost with the job's counts that commit with
            # it, so a retry imports it again: the import need not wait for each commit to reach the disk.
            await raw.execute("SET LOCAL synchronous_commit TO OFF")
            return await _pg_write(raw, spec, batch, import_id, streak)
    columns, records, updates = batch.prepared or _copy_records(spec, batch.rows, import_id)
    return await _values_upsert(conn, spec.table, columns, records, updates, import_id)


async def _pg_write(raw, spec: Dataset, batch: _Batch, import_id: str,
                    streak: _Streak) -> tuple[int, int, list[tuple[int, int]]]:
    """PostgreSQL: the batch's new people by COPY, the others by the upsert, as the streak says is cheapest."""
    columns, data, updates = batch.prepared or _copy_data(spec, batch.rows)
    rows = batch.rows
    way = streak.way(len(rows))
    if way == "copy" and await _copy_new(raw, spec.table, columns, data, import_id):
        streak.saw(0, len(rows))
        return len(rows), 0, []
    if way == "upsert":
        inserted, updated, duplicates = await _copy_upsert(raw, spec.table, columns, data, updates, import_id, rows)
        streak.saw(len(rows) - inserted, len(rows))
        return inserted, updated, duplicates
    known = await _known(raw, spec.table, rows, import_id)
    streak.saw(len(known), len(rows))
    if not known:
        if await _copy_new(raw, spec.table, columns, data, import_id):
            return len(rows), 0, []
        return await _copy_upsert(raw, spec.table, columns, data, updates, import_id, rows)
    # Only the few known rows are handled one by one: the rest of the batch's data stays as it came.
    ours = {key for key, (_, mine) in known.items() if mine}  # an id number repeated in the file: rejected
    duplicates = [(rows[key][0], known[key][0]) for key in ours]
    changed = {key: rows[key] for key in known if key not in ours}
    lines = data.split(b"\n")  # one a row, in the batch's order, then b""
    at = {i: key for i, key in enumerate(rows) if key in known}
    changed_data = b"".join(lines[i] + b"\n" for i, key in at.items() if key in changed)
    new_data = b"\n".join([line for i, line in enumerate(lines) if i not in at])
    inserted, new = 0, len(rows) - len(known)
    if new and await _copy_new(raw, spec.table, columns, new_data, import_id):
        inserted, new_data = new, b""
    if not new_data and not changed:
        return inserted, 0, duplicates
    # What the COPY did not take (a row another import wrote since the lookup undid it) goes by the upsert.
    rest = {key: row for key, row in rows.items() if key not in ours} if new_data else changed
    more, updated, repeated = await _copy_upsert(raw, spec.table, columns, new_data + changed_data, updates,
                                                 import_id, rest)
    return inserted + more, updated, duplicates + repeated


async def _known(raw, table: str, keys: Iterable[str], import_id: str) -> dict[str, tuple[int, bool]]:
    """Which of these people (blind-index keys) the registry has: key -> (the line that wrote them, whether this
    import did)."""
    # The keys (hex digits) as one text: asyncpg encodes a 10,000-element array at four times the client's CPU.
    found = await raw.fetch(
        f"SELECT id_number_bidx AS k, import_line AS line, coalesce(import_id = $2, false) AS ours FROM {table} "
        "WHERE id_number_bidx = ANY(string_to_array($1, ','))", ",".join(keys), import_id)
    return {r["k"]: (r["line"], r["ours"]) for r in found}


def _value_columns(rows: dict[str, tuple[int, str, dict]]) -> tuple[list[str], Callable[[dict], tuple]]:
    """The dataset's stored value columns, and a function picking a row's values in their order."""
    value_columns = list(next(iter(rows.values()))[2])
    pick = operator.itemgetter(*value_columns) if len(value_columns) > 1 else lambda v: (v[value_columns[0]],)
    return value_columns, pick


def _updates(value_columns: list[str]) -> str:
    """The upsert's SET clause."""
    return ", ".join(f"{c} = excluded.{c}" for c in [*value_columns, "import_id", "import_line", "updated_at"])


def _copy_records(spec: Dataset, rows: dict[str, tuple[int, str, dict]],
                  import_id: str) -> tuple[list[str], list[tuple], str]:
    """The batch's rows as table records: (columns, records, the upsert's SET clause)."""
    value_columns, pick = _value_columns(rows)
    columns = ["id", "id_number_bidx", *value_columns, "import_id", "import_line", "imported_at", "updated_at"]
    now = dt.datetime.now(dt.timezone.utc)
    # Ordered ids: a registry's primary key grows at its right edge, not at 10,000 random places a batch.
    records = [(ordered_id(spec.id_prefix), key, *pick(values), import_id, line, now, now)
               for key, (line, _, values) in rows.items()]
    return columns, records, _updates(value_columns)


def _copy_data(spec: Dataset, rows: dict[str, tuple[int, str, dict]]) -> tuple[list[str], bytes, str]:
    """The batch's rows as COPY text data, without what every row of the batch shares (the import, the time), which
    the upsert adds: (columns, data, the upsert's SET clause)."""
    value_columns, pick = _value_columns(rows)
    columns = ["id", "id_number_bidx", *value_columns, "import_line"]
    data = copy_format.text_rows((ordered_id(spec.id_prefix), key, *pick(values), line)
                                 for key, (line, _, values) in rows.items())
    return columns, data, _updates(value_columns)


async def _copy_new(raw, table: str, columns: list[str], data: bytes, import_id: str) -> bool:
    """PostgreSQL: COPY the batch straight into the table, as when none of its people is there yet. True when it
    did; False, with nothing written, when one already was (a re-import, an id number repeated in the file, another
    import's row), for the caller to take the batch apart or upsert it."""
    # COPY writes a page of rows to the WAL at once and runs no plan per row: the database's CPU per row of a first
    # load fell by a fourth against the staging table's upsert (1M rows, bench cluster, 2026-12-03).
    # The database's clock, as the upsert's now(): a row's times never come from two clocks.
    stamp = await raw.fetchval("SELECT now()::text")
    rows = data.replace(b"\n", f"\t{import_id}\t{stamp}\t{stamp}\n".encode())  # every row shares these
    try:
        async with raw.transaction():  # a savepoint: a conflict undoes only this
            await raw.copy_to_table(table, source=memoryview(rows), format="text",
                                    columns=[*columns, "import_id", "imported_at", "updated_at"])
    except UniqueViolationError:
        return False
    return True


async def _copy_upsert(raw, table: str, columns: list[str], data: bytes, updates: str, import_id: str,
                       rows: dict[str, tuple[int, str, dict]]) -> tuple[int, int, list[tuple[int, int]]]:
    """PostgreSQL: COPY into a session-local staging table, then one upsert from it that leaves alone a row this
    import wrote already."""
    staging = f"staging_{table}"
    listed = ", ".join(columns)
    await raw.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
                      f"SELECT {listed} FROM {table} WITH NO DATA")
    # A memoryview: asyncpg would take bytes for a file name.
    await raw.copy_to_table(staging, source=memoryview(data), columns=columns, format="text")
    # Counted in the database: 10,000 rows returned a batch would cost both ends more than the counts do. The
    # lines written come back only when some row was left alone.
    counts = await raw.fetchrow(
        f"WITH written AS (INSERT INTO {table} ({listed}, import_id, imported_at, updated_at) "
        f"SELECT {listed}, $2, now(), now() FROM {staging} "
        f"ON CONFLICT (id_number_bidx) DO UPDATE SET {updates} "
        f"WHERE {table}.import_id IS DISTINCT FROM excluded.import_id "
        "RETURNING import_line, (xmax = 0) AS inserted) "
        "SELECT count(*) AS written, count(*) FILTER (WHERE inserted) AS inserted, "
        "CASE WHEN count(*) < $1 THEN array_agg(import_line) END AS lines FROM written", len(rows), import_id)
    written, inserted = counts["written"], counts["inserted"]
    duplicates = []
    if written < len(rows):
        # An id number repeated in the file: the first lines of those left alone, found by the key's index (a
        # join on the unanalysed staging table would scan the registry).
        lines = set(counts["lines"] or ())  # none at all when every row was an earlier one's duplicate
        left = [(line, key) for key, (line, _, _) in rows.items() if line not in lines]
        first = await _known(raw, table, [key for _, key in left], import_id)
        duplicates = [(line, first[key][0]) for line, key in left]
    return inserted, written - inserted, duplicates


async def _values_upsert(conn, table: str, columns: list[str], records: list[tuple], updates: str,
                         import_id: str) -> tuple[int, int, list[tuple[int, int]]]:
    """SQLite: the rows that exist already, then multi-row INSERT ... ON CONFLICT statements."""
    # Take the write lock first (a no-op write waits out another writer for busy_timeout): a transaction that read
    # first fails at once with "database is locked" when another process (the server, beside a command-line import)
    # has committed since its read.
    await rawsql.execute(f"UPDATE {table} SET import_line = import_line WHERE 0", [], conn)
    keys = [r[1] for r in records]
    existing = await rawsql.fetch(
        f"SELECT id_number_bidx AS k, import_id, import_line FROM {table} WHERE id_number_bidx IN "
        f"{rawsql.in_list(keys)}", keys, conn)
    ours = {e["k"]: e["import_line"] for e in existing if e["import_id"] == import_id}
    line_at = columns.index("import_line")
    duplicates = [(r[line_at], ours[r[1]]) for r in records if r[1] in ours]
    records = [r for r in records if r[1] not in ours]
    row_marks = "(" + ", ".join("?" for _ in columns) + ")"
    for start in range(0, len(records), SQLITE_ROWS_PER_INSERT):
        chunk = records[start:start + SQLITE_ROWS_PER_INSERT]
        # The ids of rows that already exist are dropped by the update.
        await rawsql.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(row_marks for _ in chunk)} "
            f"ON CONFLICT (id_number_bidx) DO UPDATE SET {updates}", [v for r in chunk for v in r], conn)
    updated = len(existing) - len(ours)
    return len(records) - updated, updated, duplicates


async def import_population(rows: Iterable[dict]) -> ImportReport:
    """Insert or update population records (户籍人口) keyed by id number."""
    return await import_rows("population", rows)


async def import_disability(rows: Iterable[dict]) -> ImportReport:
    """Insert or update disability records (残疾人证) keyed by id number."""
    return await import_rows("disability", rows)

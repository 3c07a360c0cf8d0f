"""Registry datasets delivered as CSV: population (户籍人口) and disability (残疾人证) so far."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from tortoise.transactions import in_transaction

from api.citizens import idnumber
from api.citizens.models import DisabilityRecord, PopulationRecord
from api.core import pii

POPULATION_COLUMNS = ("id_number", "name", "gender", "birth_date", "phone", "hukou_region", "address")
BATCH = 500


@dataclass
class ImportReport:
    """What an import did; rejected rows are named by line and reason, never by their content."""

    dataset: str
    inserted: int = 0
    updated: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The report as JSON-ready data."""
        return {"dataset": self.dataset, "inserted": self.inserted, "updated": self.updated,
                "rejected": len(self.rejected), "rejected_rows": self.rejected[:100]}


def _row_problem(row: dict) -> str | None:
    if not row.get("id_number") or not row.get("name"):
        return "id_number 与 name 必填"
    reason = idnumber.problem(row["id_number"])
    if reason:
        return reason
    if row.get("birth_date"):
        try:
            dt.date.fromisoformat(row["birth_date"])
        except ValueError:
            return "birth_date 须为 YYYY-MM-DD"
    region = row.get("hukou_region") or ""
    if region and not (len(region) == 6 and region.isdigit()):
        return "hukou_region 须为 6 位行政区划代码"
    return None


def _record_values(row: dict) -> dict:
    c = pii.cipher()
    id_number = row["id_number"].strip().upper()
    extra = {k: v for k, v in row.items() if k not in POPULATION_COLUMNS and k}
    phone = (row.get("phone") or "").strip() or None
    return {
        "id_number_bidx": c.blind_index(id_number, kind="id_number"),
        "id_number_enc": c.encrypt(id_number, context="population.id_number"),
        "name_enc": c.encrypt(row["name"].strip(), context="population.name"),
        "gender": (row.get("gender") or "").strip() or idnumber.gender(id_number),
        "birth_date": (dt.date.fromisoformat(row["birth_date"]) if row.get("birth_date")
                       else idnumber.birth_date(id_number)),
        "phone_enc": c.encrypt(phone, context="population.phone"),
        "phone_bidx": c.blind_index(phone, kind="phone"),
        "hukou_region": (row.get("hukou_region") or "").strip() or id_number[:6],
        "address_enc": c.encrypt((row.get("address") or "").strip() or None, context="population.address"),
        "extra_enc": c.encrypt(json.dumps(extra, ensure_ascii=False), context="population.extra") if extra else None,
    }


async def _upsert(batch: list[dict], report: ImportReport) -> None:
    keys = [v["id_number_bidx"] for v in batch]
    async with in_transaction():
        existing = {r.id_number_bidx: r for r in await PopulationRecord.filter(id_number_bidx__in=keys)}
        new = []
        for values in batch:
            row = existing.get(values["id_number_bidx"])
            if row is None:
                new.append(PopulationRecord(**values))
                continue
            for k, v in values.items():
                setattr(row, k, v)
            await row.save()
            report.updated += 1
        if new:
            await PopulationRecord.bulk_create(new)
            report.inserted += len(new)


async def import_population(rows: Iterable[dict]) -> ImportReport:
    """Insert or update population records keyed by id number; bad rows are reported and skipped."""
    report = ImportReport(dataset="population")
    batch: dict[str, dict] = {}
    for line, row in enumerate(rows, start=2):
        reason = _row_problem(row)
        if reason:
            report.rejected.append({"line": line, "reason": reason})
            continue
        values = _record_values(row)
        batch[values["id_number_bidx"]] = values  # the last row for a person wins within a batch
        if len(batch) >= BATCH:
            await _upsert(list(batch.values()), report)
            batch = {}
    if batch:
        await _upsert(list(batch.values()), report)
    return report


def read_csv(path: str, *, required: tuple[str, ...]) -> Iterator[dict]:
    """Rows of a UTF-8 CSV file (a BOM is tolerated); refuse a header that lacks a required column."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"CSV 缺少列: {', '.join(missing)}")
        yield from reader


DISABILITY_COLUMNS = ("id_number", "certificate_no", "disability_type", "disability_level", "issued_at")
DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
DISABILITY_LEVELS = ("一级", "二级", "三级", "四级")


def _disability_problem(row: dict) -> str | None:
    reason = idnumber.problem(row.get("id_number") or "")
    if reason:
        return reason
    if not (row.get("certificate_no") or "").strip():
        return "certificate_no 必填"
    if row.get("disability_type") not in DISABILITY_TYPES:
        return f"disability_type 须为 {'、'.join(DISABILITY_TYPES)} 之一"
    if row.get("disability_level") not in DISABILITY_LEVELS:
        return f"disability_level 须为 {'、'.join(DISABILITY_LEVELS)} 之一"
    if row.get("issued_at"):
        try:
            dt.date.fromisoformat(row["issued_at"])
        except ValueError:
            return "issued_at 须为 YYYY-MM-DD"
    return None


async def import_disability(rows: Iterable[dict]) -> ImportReport:
    """Insert or update disability records keyed by id number (the bulk importer comes with the policies work)."""
    report = ImportReport(dataset="disability")
    c = pii.cipher()
    for line, row in enumerate(rows, start=2):
        reason = _disability_problem(row)
        if reason:
            report.rejected.append({"line": line, "reason": reason})
            continue
        values = {"certificate_no_enc": c.encrypt(row["certificate_no"].strip(), context="disability.certificate_no"),
                  "disability_type": row["disability_type"], "disability_level": row["disability_level"],
                  "issued_at": dt.date.fromisoformat(row["issued_at"]) if row.get("issued_at") else None}
        _, created = await DisabilityRecord.update_or_create(
            id_number_bidx=c.blind_index(row["id_number"].strip().upper(), kind="id_number"), defaults=values)
        if created:
            report.inserted += 1
        else:
            report.updated += 1
    return report


DATASETS = {"population": (POPULATION_COLUMNS, import_population),
            "disability": (DISABILITY_COLUMNS, import_disability)}

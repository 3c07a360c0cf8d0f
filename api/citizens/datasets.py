"""The registry datasets departments deliver as CSV: their columns, row checks and stored columns.

Each spec turns a valid row into the values of its table (personal data encrypted, keyed by the
id-number blind index); `registry.import_rows` writes them in bulk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from api.citizens import idnumber
from api.core import pii


@dataclass(frozen=True)
class Dataset:
    """One registry: its CSV columns, table, id prefix, a row check (a reason, or None) and row → values."""

    name: str
    columns: tuple[str, ...]
    table: str
    id_prefix: str
    problem: Callable[[dict], str | None]
    values: Callable[[dict, pii.PiiCipher], dict]


def _date_problem(row: dict, column: str) -> str | None:
    if row.get(column):
        try:
            dt.date.fromisoformat(row[column])
        except ValueError:
            return f"{column} 须为 YYYY-MM-DD"
    return None


def _date(row: dict, column: str) -> dt.date | None:
    return dt.date.fromisoformat(row[column]) if row.get(column) else None


def _choice_problem(row: dict, column: str, choices: tuple[str, ...]) -> str | None:
    return None if row.get(column) in choices else f"{column} 须为 {'、'.join(choices)} 之一"


def _required_problem(row: dict, *columns: str) -> str | None:
    missing = [c for c in columns if not (row.get(c) or "").strip()]
    return f"{'、'.join(missing)} 必填" if missing else None


def _extra(row: dict, columns: tuple[str, ...], c: pii.PiiCipher, table: str) -> str | None:
    # Columns beyond the fixed ones are kept, encrypted: departments add fields before we model them.
    extra = {k: v for k, v in row.items() if k and k not in columns}
    return c.encrypt(json.dumps(extra, ensure_ascii=False), context=f"{table}.extra") if extra else None


def id_bidx(row: dict, c: pii.PiiCipher) -> str:
    """The blind index that keys every registry row."""
    return c.blind_index(row["id_number"].strip().upper(), kind="id_number")


POPULATION_COLUMNS = ("id_number", "name", "gender", "birth_date", "phone", "hukou_region", "address")


def _population_problem(row: dict) -> str | None:
    if not row.get("id_number") or not row.get("name"):
        return "id_number 与 name 必填"
    reason = idnumber.problem(row["id_number"])
    if reason:
        return reason
    if row.get("gender") and row["gender"] not in ("男", "女"):
        return "gender 须为 男 或 女"
    region = row.get("hukou_region") or ""
    if region and not (len(region) == 6 and region.isdigit()):
        return "hukou_region 须为 6 位行政区划代码"
    return _date_problem(row, "birth_date")


def _population_values(row: dict, c: pii.PiiCipher) -> dict:
    id_number = row["id_number"].strip().upper()
    phone = (row.get("phone") or "").strip() or None
    return {
        "id_number_enc": c.encrypt(id_number, context="population.id_number"),
        "name_enc": c.encrypt(row["name"].strip(), context="population.name"),
        "gender": (row.get("gender") or "").strip() or idnumber.gender(id_number),
        "birth_date": _date(row, "birth_date") or idnumber.birth_date(id_number),
        "phone_enc": c.encrypt(phone, context="population.phone"),
        "phone_bidx": c.blind_index(phone, kind="phone"),
        "hukou_region": (row.get("hukou_region") or "").strip() or id_number[:6],
        "address_enc": c.encrypt((row.get("address") or "").strip() or None, context="population.address"),
        "extra_enc": _extra(row, POPULATION_COLUMNS, c, "population"),
    }


def _id_problem(row: dict) -> str | None:
    return idnumber.problem((row.get("id_number") or "").strip().upper())


DISABILITY_COLUMNS = ("id_number", "certificate_no", "disability_type", "disability_level", "issued_at")
DISABILITY_TYPES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
DISABILITY_LEVELS = ("一级", "二级", "三级", "四级")
INSURANCE_COLUMNS = ("id_number", "card_no", "status", "insured_since")
INSURANCE_STATUSES = ("正常参保", "暂停参保", "终止参保")
HEALTH_CARD_COLUMNS = ("id_number", "health_card_no")
TRANSIT_COLUMNS = ("id_number", "ride_account", "standing")
TRANSIT_STANDINGS = ("good", "arrears", "suspended", "closed")
LOW_INCOME_COLUMNS = ("id_number", "category", "since")
LOW_INCOME_CATEGORIES = ("低保", "特困", "低保边缘")


def _first(*checks) -> str | None:
    return next((reason for reason in checks if reason), None)


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("population", POPULATION_COLUMNS, "population_record", "pop", _population_problem, _population_values),
    Dataset("disability", DISABILITY_COLUMNS, "disability_record", "dis",
            lambda r: _first(_id_problem(r), _required_problem(r, "certificate_no"),
                             _choice_problem(r, "disability_type", DISABILITY_TYPES),
                             _choice_problem(r, "disability_level", DISABILITY_LEVELS), _date_problem(r, "issued_at")),
            lambda r, c: {"certificate_no_enc": c.encrypt(r["certificate_no"].strip(),
                                                          context="disability.certificate_no"),
                          "disability_type": r["disability_type"], "disability_level": r["disability_level"],
                          "issued_at": _date(r, "issued_at"),
                          "extra_enc": _extra(r, DISABILITY_COLUMNS, c, "disability")}),
    Dataset("social_insurance", INSURANCE_COLUMNS, "social_insurance_record", "ssr",
            lambda r: _first(_id_problem(r), _required_problem(r, "card_no"),
                             _choice_problem(r, "status", INSURANCE_STATUSES), _date_problem(r, "insured_since")),
            lambda r, c: {"card_no_enc": c.encrypt(r["card_no"].strip(), context="social_insurance.card_no"),
                          "status": r["status"], "insured_since": _date(r, "insured_since"),
                          "extra_enc": _extra(r, INSURANCE_COLUMNS, c, "social_insurance")}),
    Dataset("health_card", HEALTH_CARD_COLUMNS, "health_card_record", "hcr",
            lambda r: _first(_id_problem(r), _required_problem(r, "health_card_no")),
            lambda r, c: {"health_card_no_enc": c.encrypt(r["health_card_no"].strip(),
                                                          context="health_card.health_card_no"),
                          "extra_enc": _extra(r, HEALTH_CARD_COLUMNS, c, "health_card")}),
    Dataset("transit", TRANSIT_COLUMNS, "transit_record", "trr",
            lambda r: _first(_id_problem(r), _required_problem(r, "ride_account"),
                             _choice_problem(r, "standing", TRANSIT_STANDINGS)),
            lambda r, c: {"ride_account_enc": c.encrypt(r["ride_account"].strip(), context="transit.ride_account"),
                          "standing": r["standing"], "extra_enc": _extra(r, TRANSIT_COLUMNS, c, "transit")}),
    Dataset("low_income", LOW_INCOME_COLUMNS, "low_income_record", "lir",
            lambda r: _first(_id_problem(r), _choice_problem(r, "category", LOW_INCOME_CATEGORIES),
                             _date_problem(r, "since")),
            lambda r, c: {"category": r["category"], "since": _date(r, "since"),
                          "extra_enc": _extra(r, LOW_INCOME_COLUMNS, c, "low_income")}),
)}

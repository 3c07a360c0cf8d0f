"""The registry datasets departments deliver as CSV: their columns, row checks and stored columns.

Each spec turns a valid row into the values of its table (personal data encrypted, keyed by the
id-number blind index); `registry.import_records` writes them in bulk. A row is checked whole (`Dataset.check`):
no field longer than its column allows, then the dataset's own rules; the reason names columns and rules, never
the row's content.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from api.citizens import idnumber
from api.core import pii

# The most characters a field may hold, per fixed column of free text: room for any real value, nothing like a
# swallowed file. The other fixed columns have a shape that bounds them (an id number's 18 characters, a date's 10,
# a region's 6 digits, one of a list of values) and are refused by it.
MAX_CHARS = {"name": 50, "phone": 20, "address": 200, "certificate_no": 32, "card_no": 32, "health_card_no": 64,
             "ride_account": 64}
EXTRA_MAX_CHARS = 500  # a column beyond the fixed ones (kept, encrypted)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"1[3-9]\d{9}")
# Letters of any script (生僻字 included), runs joined by one middle dot, dot or space: 阿依古丽·买买提.
_NAME = re.compile(r"[^\W\d_]+(?:[·•‧・. ]?[^\W\d_]+)*")


@dataclass(frozen=True)
class Dataset:
    """One registry: its CSV columns, table, id prefix, a row check (a reason, or None) and row → values."""

    name: str
    columns: tuple[str, ...]
    table: str
    id_prefix: str
    problem: Callable[[dict], str | None]
    values: Callable[[dict, pii.PiiCipher], dict]

    def check(self, row: dict) -> str | None:
        """Why a row cannot be imported (an over-long field, then the dataset's rules), or None."""
        return _length_problem(row, self.columns, self.limits) or self.problem(row)

    @functools.cached_property
    def limits(self) -> tuple[tuple[str, int], ...]:
        """(column, most characters) of the fixed columns of free text."""
        return tuple((c, MAX_CHARS[c]) for c in self.columns if c in MAX_CHARS)


def _length_problem(row: dict, columns: tuple[str, ...], limits: tuple[tuple[str, int], ...]) -> str | None:
    for column, limit in limits:
        value = row.get(column)
        if value and len(value) > limit and len(value.strip()) > limit:
            return f"{column} 超过 {limit} 个字符"
    if len(row) > len(columns):
        for column, value in row.items():
            if value and len(value) > EXTRA_MAX_CHARS and column not in columns:
                return f"{column} 超过 {EXTRA_MAX_CHARS} 个字符"
    return None


def _date_problem(row: dict, column: str) -> str | None:
    value = (row.get(column) or "").strip()
    if value:
        # fromisoformat alone also takes 20200101 and 2020-W01-1.
        if not _DATE.fullmatch(value):
            return f"{column} 须为 YYYY-MM-DD"
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{column} 不是有效日期"
    return None


def _date(row: dict, column: str) -> dt.date | None:
    value = (row.get(column) or "").strip()
    return dt.date.fromisoformat(value) if value else None


def _choice_problem(row: dict, column: str, choices: tuple[str, ...]) -> str | None:
    return None if row.get(column) in choices else f"{column} 须为 {'、'.join(choices)} 之一"


def _required_problem(row: dict, *columns: str) -> str | None:
    missing = [c for c in columns if not (row.get(c) or "").strip()]
    return f"{'、'.join(missing)} 必填" if missing else None


_FIXED: dict[tuple[str, ...], frozenset[str]] = {}


def _extra(row: dict, columns: tuple[str, ...], c: pii.PiiCipher, table: str) -> str | None:
    # Columns beyond the fixed ones are kept, encrypted: departments add fields before we model them.
    fixed = _FIXED.get(columns) or _FIXED.setdefault(columns, frozenset(columns))
    if not row.keys() - fixed:  # the usual row: no more columns than the fixed ones
        return None
    extra = {k: v for k, v in row.items() if k and k not in fixed}
    return c.encrypt(json.dumps(extra, ensure_ascii=False), context=f"{table}.extra") if extra else None


def _phone(value: str | None) -> str:
    """The phone in its canonical form (`pii.normalize`), skipped for one already in it: most rows."""
    value = (value or "").strip()
    return value if not value or _PHONE.fullmatch(value) else pii.normalize(value, kind="phone")


def id_bidx(row: dict, c: pii.PiiCipher) -> str:
    """The blind index that keys every registry row."""
    return c.blind_index(row["id_number"].strip().upper(), kind="id_number")


POPULATION_COLUMNS = ("id_number", "name", "gender", "birth_date", "phone", "hukou_region", "address")


def _population_problem(row: dict) -> str | None:
    id_number = (row.get("id_number") or "").strip().upper()
    name = (row.get("name") or "").strip()
    if not id_number or not name:
        return "id_number 与 name 必填"
    reason = idnumber.problem(id_number)
    if reason:
        return reason
    if len(name) < 2 or not _NAME.fullmatch(name):
        return "name 不是姓名：应为至少 2 个文字，可含间隔号，不含数字与符号"
    gender = (row.get("gender") or "").strip()
    if gender and gender not in ("男", "女"):
        return "gender 须为 男 或 女"
    if gender and gender != idnumber.gender(id_number):
        return "gender 与身份证号中的性别不符"
    born = (row.get("birth_date") or "").strip()
    if born:
        if not _DATE.fullmatch(born):
            return "birth_date 须为 YYYY-MM-DD"
        if born.replace("-", "") != id_number[6:14]:  # the id number's own date is a valid one
            return "birth_date 与身份证号中的出生日期不符"
    phone = _phone(row.get("phone"))
    if phone and not _PHONE.fullmatch(phone):
        return "phone 不是手机号：应为 11 位、以 1 开头"
    region = (row.get("hukou_region") or "").strip()
    if region and not (len(region) == 6 and region.isascii() and region.isdigit()):
        return "hukou_region 须为 6 位行政区划代码"
    return None


def _population_values(row: dict, c: pii.PiiCipher) -> dict:
    id_number = row["id_number"].strip().upper()
    phone = _phone(row.get("phone")) or None
    return {
        "id_number_enc": c.encrypt(id_number, context="population.id_number"),
        "name_enc": c.encrypt(row["name"].strip(), context="population.name"),
        "gender": (row.get("gender") or "").strip() or idnumber.gender(id_number),
        "birth_date": idnumber.birth_date(id_number),  # a birth_date given is checked to be this one
        "phone_enc": c.encrypt(phone, context="population.phone"),
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

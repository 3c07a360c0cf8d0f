"""The catalogue: loading it from its file, and reading it from a per-worker copy kept in step through Redis."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import ValidationError
from tortoise.transactions import in_transaction

from api.catalog import forms
from api.catalog.models import Bundle, Department, ServiceItem
from api.catalog.schemas import CatalogueFile, Material
from api.catalog.search import score
from api.core import db
from api.core.errors import NotFound, ValidationFailed
from api.core.http import field_errors

VERSION_KEY = "catalog:version"
SEARCH_CACHE_SIZE = 2048
RECHECK_SECONDS = 2.0
# A catalogue read on a lagging replica may miss the load whose version it just saw: it is read once more this
# much later (a replica further behind than this is broken, not lagging).
REPLICA_SETTLE_SECONDS = 30.0


@dataclass
class Item:
    """One service item, as the application flow needs it."""

    code: str
    name: str
    dept: str
    dept_name: str
    type: str
    theme: str
    keywords: list[str]
    legal_basis: str
    legal_days: int
    promised_days: int
    online_depth: str
    cross_province: bool
    levels: list[str]
    min_assurance_level: int
    fees: str
    delivery_methods: list[str]
    materials: list[dict]
    form_schema: dict

    @cached_property
    def validator(self) -> Draft202012Validator:
        """The compiled form validator."""
        return Draft202012Validator(self.form_schema, format_checker=forms.FORMAT_CHECKER)

    def summary(self) -> dict:
        """The list entry."""
        return {k: getattr(self, k) for k in ("code", "name", "dept", "dept_name", "theme", "type", "legal_days",
                                               "promised_days", "online_depth", "cross_province",
                                               "min_assurance_level")}

    def guide(self) -> dict:
        """办事指南: everything a citizen needs before applying."""
        return {**self.summary(), "keywords": self.keywords, "legal_basis": self.legal_basis, "levels": self.levels,
                "fees": self.fees, "delivery_methods": self.delivery_methods, "materials": self.materials,
                "form_schema": self.form_schema}


@dataclass
class BundleEntry:
    """一件事 with its items, merged form and merged material list."""

    code: str
    name: str
    description: str
    theme: str
    keywords: list[str]
    items: list[Item]

    @property
    def depts(self) -> list[str]:
        """The departments involved, in item order."""
        return list(dict.fromkeys(i.dept for i in self.items))

    @cached_property
    def form_schema(self) -> dict:
        """One form: a field several items ask for is asked once."""
        properties, required = {}, []
        for item in self.items:
            for name, prop in item.form_schema.get("properties", {}).items():
                properties.setdefault(name, prop)
            required += [r for r in item.form_schema.get("required", []) if r not in required]
        merged = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
        if self.items:  # the loader lets a bundle's items be about one subject only
            merged[forms.SUBJECT] = forms.subject(self.items[0].form_schema)
        return merged

    @cached_property
    def validator(self) -> Draft202012Validator:
        """The compiled merged-form validator."""
        return Draft202012Validator(self.form_schema, format_checker=forms.FORMAT_CHECKER)

    @cached_property
    def materials(self) -> list[dict]:
        """One list: a material several items need is handed in once, under the strictest terms."""
        merged: dict[str, dict] = {}
        for item in self.items:
            for m in item.materials:
                seen = merged.get(m["code"])
                if seen is None:
                    merged[m["code"]] = dict(m)
                else:
                    seen["required"] = seen["required"] or m["required"]
                    seen["commitment_allowed"] = seen["commitment_allowed"] and m["commitment_allowed"]
                    seen["deferrable"] = seen["deferrable"] and m["deferrable"]
                    if seen.get("exempt_by_license_type") != m.get("exempt_by_license_type"):
                        seen["exempt_by_license_type"] = seen.get("exempt_by_license_type") or m.get(
                            "exempt_by_license_type")
        return list(merged.values())

    @property
    def min_assurance_level(self) -> int:
        """The strictest level of its items."""
        return max(i.min_assurance_level for i in self.items)

    @property
    def delivery_methods(self) -> list[str]:
        """Methods every item offers."""
        common = [m for m in ("pickup", "express", "electronic") if all(m in i.delivery_methods for i in self.items)]
        return common or ["pickup"]

    @property
    def promised_days(self) -> int:
        """The bundle is done when its slowest item is."""
        return max(i.promised_days for i in self.items)

    @property
    def cross_province(self) -> bool:
        """Every item can be handled across provinces."""
        return all(i.cross_province for i in self.items)

    def summary(self) -> dict:
        """The list entry."""
        return {"code": self.code, "name": self.name, "description": self.description, "theme": self.theme,
                "item_codes": [i.code for i in self.items], "depts": self.depts}

    def guide(self) -> dict:
        """The bundle's guide: its items, one form, one material list."""
        return {**self.summary(), "keywords": self.keywords, "items": [i.summary() for i in self.items],
                "materials": self.materials, "form_schema": self.form_schema,
                "min_assurance_level": self.min_assurance_level, "delivery_methods": self.delivery_methods,
                "promised_days": self.promised_days}


@dataclass
class Catalogue:
    """The whole catalogue in memory (a few hundred entries: searching it needs no database)."""

    version: str
    items: dict[str, Item] = field(default_factory=dict)
    bundles: dict[str, BundleEntry] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    # Answers to recent searches: the same few words are asked all day, and the catalogue rarely changes.
    searches: dict[tuple, tuple[list[dict], list[dict]]] = field(default_factory=dict)

    def item(self, code: str) -> Item:
        """The item, or 404."""
        try:
            return self.items[code]
        except KeyError:
            raise NotFound("事项不存在") from None

    def search(self, *, q: str, dept: str | None, theme: str | None, cross: bool | None) -> tuple[list, list]:
        """Matching item summaries (best first) and bundle summaries; remembered per question."""
        key = (q, dept, theme, cross)
        found = self.searches.get(key)
        if found is None:
            found = self._search(q=q, dept=dept, theme=theme, cross=cross)
            if len(self.searches) >= SEARCH_CACHE_SIZE:
                self.searches.pop(next(iter(self.searches)))
            self.searches[key] = found
        return found

    def _search(self, *, q: str, dept: str | None, theme: str | None, cross: bool | None) -> tuple[list, list]:
        ranked = []
        for item in self.items.values():
            if (dept and item.dept != dept) or (theme and item.theme != theme) or (
                    cross is not None and item.cross_province != cross):
                continue
            s = score(q, name=item.name, keywords=item.keywords, extra=f"{item.dept_name} {item.theme}") if q else 1.0
            if s > 0:
                ranked.append((-s, item.code, item))
        ranked.sort(key=lambda r: r[:2])
        bundles = []
        if q:
            bundles = [b.summary() for b in self.bundles.values()
                       if score(q, name=b.name, keywords=b.keywords, extra=b.description) > 0
                       and (not dept or dept in b.depts) and (not theme or b.theme == theme)]
        return [r[2].summary() for r in ranked], bundles

    def bundle(self, code: str) -> BundleEntry:
        """The bundle, or 404."""
        try:
            return self.bundles[code]
        except KeyError:
            raise NotFound("一件事不存在") from None


_cached: Catalogue | None = None
_checked_at = 0.0
_reread_at: float | None = None


async def current(*, redis) -> Catalogue:
    """This worker's copy of the catalogue, reloaded when another process loaded a new one."""
    global _cached, _checked_at, _reread_at
    now = time.monotonic()
    if _cached is not None and now - _checked_at < RECHECK_SECONDS:
        return _cached
    version = await redis.get(VERSION_KEY) or "0"
    changed = _cached is None or _cached.version != version
    if changed or (_reread_at is not None and now >= _reread_at):
        _cached = await _read(version)
        _reread_at = now + REPLICA_SETTLE_SECONDS if changed and db.reading_replica() else None
    _checked_at = now
    return _cached


async def _read(version: str) -> Catalogue:
    catalogue = Catalogue(version=version)
    catalogue.departments = {d.code: d.name for d in await Department.all(using_db=db.reader())}
    for row in await ServiceItem.all(using_db=db.reader()).order_by("code"):
        catalogue.items[row.code] = Item(
            code=row.code, name=row.name, dept=row.dept, dept_name=catalogue.departments.get(row.dept, row.dept),
            type=row.type, theme=row.theme, keywords=row.keywords, legal_basis=row.legal_basis,
            legal_days=row.legal_days, promised_days=row.promised_days, online_depth=row.online_depth,
            cross_province=row.cross_province, levels=row.levels, min_assurance_level=row.min_assurance_level,
            fees=row.fees, delivery_methods=row.delivery_methods, materials=row.materials,
            form_schema=row.form_schema)
    for row in await Bundle.all(using_db=db.reader()).order_by("code"):
        members = [catalogue.items[c] for c in row.item_codes if c in catalogue.items]
        catalogue.bundles[row.code] = BundleEntry(code=row.code, name=row.name, description=row.description,
                                                  theme=row.theme, keywords=row.keywords, items=members)
    return catalogue


def _check(data: CatalogueFile) -> dict[str, str]:
    problems: dict[str, str] = {}
    depts = {d.code for d in data.departments}
    items = {}
    for n, item in enumerate(data.items):
        where = f"items.{n}"
        if item.code in items:
            problems[f"{where}.code"] = "事项编码重复"
        items[item.code] = item
        if item.dept not in depts:
            problems[f"{where}.dept"] = "未知的部门"
        if item.theme not in data.themes:
            problems[f"{where}.theme"] = "未知的主题"
        if item.promised_days > item.legal_days:
            problems[f"{where}.promised_days"] = "承诺时限不得长于法定时限"
        try:
            Draft202012Validator.check_schema(item.form_schema)
        except SchemaError as exc:
            problems[f"{where}.form_schema"] = exc.message
        for path, problem in forms.problems(item.form_schema).items():
            problems[f"{where}.form_schema.{path}"] = problem
    for n, bundle in enumerate(data.bundles):
        missing = [c for c in bundle.items if c not in items]
        if missing:
            problems[f"bundles.{n}.items"] = f"不存在的事项: {', '.join(missing)}"
        elif len({items[c].dept for c in bundle.items}) < 2:
            problems[f"bundles.{n}.items"] = "一件事须涉及至少两个部门"
        elif len({forms.subject(items[c].form_schema) for c in bundle.items}) > 1:
            problems[f"bundles.{n}.items"] = "一件事的事项须同为关于申请人本人（x-subject: self）或同为关于他人"
    return problems


async def load_catalogue(*, data: dict, redis) -> dict:
    """Validate a catalogue file and write it in one transaction; every worker picks it up within seconds."""
    try:
        parsed = CatalogueFile.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("目录文件格式有误", fields=field_errors(exc)) from None
    problems = _check(parsed)
    if problems:
        raise ValidationFailed("目录文件内容有误", fields=problems)
    async with in_transaction():
        for d in parsed.departments:
            await Department.update_or_create(code=d.code, defaults={"name": d.name})
        for item in parsed.items:
            values = item.model_dump(exclude={"code"})
            values["materials"] = [Material.model_validate(m).model_dump() for m in values["materials"]]
            await ServiceItem.update_or_create(code=item.code, defaults=values)
        for b in parsed.bundles:
            await Bundle.update_or_create(code=b.code, defaults={
                "name": b.name, "description": b.description, "theme": b.theme, "keywords": b.keywords,
                "item_codes": b.items})
    await redis.incr(VERSION_KEY)
    return {"departments": len(parsed.departments), "items": len(parsed.items), "bundles": len(parsed.bundles)}

"""What the registries say about people: one person's facts, and who a rule matches, on SQLite or PostgreSQL."""

from __future__ import annotations

import datetime as dt

from tortoise import Tortoise

from api.policies import rules
from api.policies.attributes import ATTRIBUTES, TABLES


def _connection():
    return Tortoise.get_connection("default")


def _as_date(value) -> dt.date | None:
    # SQLite hands dates back as ISO text, PostgreSQL as dates.
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _typed(attr, value):
    if value is None:
        return None
    if attr.type == "date":
        return _as_date(value)
    if attr.type == "bool":
        return bool(value)
    if attr.type == "int":
        return int(value)
    return value


async def _rows(predicate: rules.Predicate) -> list[dict]:
    conn = _connection()
    sql, params = predicate.bind(conn.capabilities.dialect)
    return [dict(r) for r in await conn.execute_query_dict(sql, params)]


async def load_facts(*, person_bidx: str) -> dict | None:
    """A person's facts keyed by attribute name (no `age`: it depends on the day); None when not in the population."""
    stored = [a for a in ATTRIBUTES.values() if a.name != rules.AGE]
    columns = ", ".join(f"({a.sql}) AS {a.name}" for a in stored)
    sql = f"SELECT {columns} FROM {rules.population_from(TABLES)} WHERE p.id_number_bidx = ?"
    rows = await _rows(rules.Predicate(sql=sql, params=[person_bidx]))
    if not rows:
        return None
    return {a.name: _typed(a, rows[0][a.name]) for a in stored}


async def population_name(*, person_bidx: str) -> str | None:
    """The encrypted name of a person in the population registry; None when they are not in it."""
    rows = await _rows(rules.Predicate(sql="SELECT name_enc FROM population_record WHERE id_number_bidx = ?",
                                       params=[person_bidx]))
    return rows[0]["name_enc"] if rows else None


async def count_matching(rule, *, as_of: dt.date) -> int:
    """How many people in the population the rule matches on `as_of`."""
    predicate = rules.compile_sql(rule, as_of=as_of)
    predicate.sql = f"SELECT count(*) AS n FROM {rules.population_from(predicate.joins)} WHERE {predicate.sql}"
    rows = await _rows(predicate)
    return int(rows[0]["n"])


async def sample_matching(rule, *, as_of: dt.date, limit: int) -> list[dict]:
    """Up to `limit` matching people: their encrypted id number and name, region and birth date."""
    predicate = rules.compile_sql(rule, as_of=as_of)
    predicate.sql = (f"SELECT p.id_number_enc, p.name_enc, p.hukou_region, p.birth_date "
                     f"FROM {rules.population_from(predicate.joins)} WHERE {predicate.sql} LIMIT ?")
    predicate.params.append(int(limit))
    return [{**r, "birth_date": _as_date(r["birth_date"])} for r in await _rows(predicate)]

"""Policy rules: validation against the attribute registry, compilation to SQL, and evaluation with reasons.

A rule is `{"all": [...]}`, `{"any": [...]}`, `{"not": rule}` or a condition `{"field", "op", "value"}`.
Both the SQL and the Python evaluation use three-valued logic: a condition on a missing fact is unknown
(only `exists` is always decided), and a person matches only when the whole rule is true — which is
exactly how SQL's WHERE treats NULL, so the two always agree.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from dataclasses import dataclass, field

from api.core.errors import ValidationFailed
from api.policies.attributes import ATTRIBUTES, TABLES, Attribute

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST = 200
COMBINATORS = ("all", "any", "not")
CONDITION_KEYS = ("field", "op", "value")
AGE = "age"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLACEHOLDER = re.compile(r"\?")
_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PY_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
           ">=": operator.ge}


# --- validation -------------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self):
        self.errors: dict[str, str] = {}
        self.conditions = 0

    def fail(self, path: str, problem: str) -> None:
        self.errors.setdefault(path, problem)

    def node(self, node, path: str, depth: int):
        if not isinstance(node, dict):
            return self.fail(path, "规则须为对象")
        combinators = [k for k in COMBINATORS if k in node]
        if not combinators:
            return self.condition(node, path)
        key = combinators[0]
        extra = [k for k in node if k != key]
        if extra:
            return self.fail(path, f"不允许的键 {', '.join(map(str, extra))}（all、any、not 须单独成对象）")
        if depth > MAX_DEPTH:
            return self.fail(path, f"嵌套超过 {MAX_DEPTH} 层")
        child_path = f"{path}.{key}"
        if key == "not":
            inner = self.node(node["not"], child_path, depth + 1)
            return {"not": inner}
        children = node[key]
        if not isinstance(children, list):
            return self.fail(child_path, "须为规则列表")
        if not children:
            return self.fail(child_path, "不能为空")
        return {key: [self.node(c, f"{child_path}[{i}]", depth + 1) for i, c in enumerate(children)]}

    def condition(self, node: dict, path: str):
        self.conditions += 1
        extra = [k for k in node if k not in CONDITION_KEYS]
        if extra:
            return self.fail(path, f"不允许的键 {', '.join(map(str, extra))}")
        name, op = node.get("field"), node.get("op")
        if not isinstance(name, str) or not name:
            return self.fail(f"{path}.field", "缺少 field")
        attr = ATTRIBUTES.get(name)
        if attr is None:
            return self.fail(f"{path}.field", f"未知字段 {name}")
        if not isinstance(op, str) or not op:
            return self.fail(f"{path}.op", "缺少 op")
        if op not in attr.ops:
            return self.fail(f"{path}.op", f"字段 {name} 不支持运算 {op}（可用：{' '.join(attr.ops)}）")
        if "value" not in node and op != "exists":
            return self.fail(f"{path}.value", "缺少 value")
        value = self.value(attr, op, node.get("value", True), f"{path}.value")
        return {"field": name, "op": op, "value": value}

    def value(self, attr: Attribute, op: str, value, path: str):
        if op == "exists":
            return value if isinstance(value, bool) else self.fail(path, "exists 的值须为 true 或 false")
        if op == "prefix":
            if not isinstance(value, str) or not value:
                return self.fail(path, "prefix 的值须为非空字符串")
            if attr.digits and not re.fullmatch(rf"\d{{1,{attr.digits}}}", value):
                return self.fail(path, f"须为 1 至 {attr.digits} 位数字")
            return value
        if op in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                return self.fail(path, f"{op} 的值须为非空列表")
            if len(value) > MAX_LIST:
                return self.fail(path, f"列表不能超过 {MAX_LIST} 项")
            items = [self.scalar(attr, v, f"{path}[{i}]") for i, v in enumerate(value)]
            return list(dict.fromkeys(items))
        return self.scalar(attr, value, path)

    def scalar(self, attr: Attribute, value, path: str):
        if attr.type == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                return self.fail(path, "须为整数")
            if attr.bounds and not attr.bounds[0] <= value <= attr.bounds[1]:
                return self.fail(path, f"须在 {attr.bounds[0]} 至 {attr.bounds[1]} 之间")
        elif attr.type == "date":
            if not isinstance(value, str) or not _DATE.fullmatch(value) or _parse_date(value) is None:
                return self.fail(path, "须为日期 YYYY-MM-DD")
        elif attr.type == "bool":
            if not isinstance(value, bool):
                return self.fail(path, "须为 true 或 false")
        else:
            if not isinstance(value, str) or not value:
                return self.fail(path, "须为非空字符串")
            if attr.choices and value not in attr.choices:
                return self.fail(path, f"须为 {'、'.join(attr.choices)} 之一")
            if attr.digits and not re.fullmatch(rf"\d{{{attr.digits}}}", value):
                return self.fail(path, f"须为 {attr.digits} 位数字")
        return value


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def validate(rule) -> dict:
    """The rule in normal form, or ValidationFailed naming each problem by its JSON path (`rule.all[2].value`)."""
    checker = _Checker()
    normal = checker.node(rule, "rule", 1)
    if checker.conditions > MAX_CONDITIONS:
        checker.fail("rule", f"条件不能超过 {MAX_CONDITIONS} 个")
    if checker.errors:
        raise ValidationFailed("规则校验未通过", fields=checker.errors)
    return normal


# --- age ------------------------------------------------------------------------------------------------------

def age_on(birth: dt.date, as_of: dt.date) -> int:
    """Age in whole years on `as_of` (someone born on Feb 29 turns a year older on Mar 1 in a common year)."""
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


def cutoff(years: int, as_of: dt.date) -> dt.date:
    """The latest birth date of someone at least `years` old on `as_of`: age >= years ⟺ birth <= cutoff."""
    year = as_of.year - years
    try:
        return as_of.replace(year=year)
    except ValueError:  # as_of is Feb 29 and `year` is a common year
        return dt.date(year, 2, 28)


# --- SQL --------------------------------------------------------------------------------------------------------

@dataclass
class Predicate:
    """A rule as an SQL boolean expression over `population_from(joins)`, with `?` placeholders."""

    sql: str
    params: list = field(default_factory=list)
    joins: set[str] = field(default_factory=set)

    def bind(self, dialect: str, *, start: int = 1) -> tuple[str, list]:
        """SQL and parameters for a dialect: `$start..` and dates for PostgreSQL; `?` and ISO dates for SQLite."""
        if dialect == "postgres":
            counter = iter(range(start, start + len(self.params)))
            return _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", self.sql), list(self.params)
        return self.sql, [p.isoformat() if isinstance(p, dt.date) else p for p in self.params]


def population_from(joins) -> str:
    """The FROM clause: the population left-joined to the registries the rule reads."""
    parts = ["population_record p"]
    parts += [f"LEFT JOIN {table} {alias} ON {alias}.id_number_bidx = p.id_number_bidx"
              for alias, table in TABLES.items() if alias in joins]
    return " ".join(parts)


def key_range(column: str, low: str | None, high: str | None) -> tuple[str, list[str]]:
    """` AND column >= ? AND column < ?` for the key range [low, high) (None: open, its condition left out), and its
    parameters."""
    kept = [(f"{column} {op} ?", v) for op, v in ((">=", low), ("<", high)) if v is not None]
    return "".join(f" AND {sql}" for sql, _ in kept), [v for _, v in kept]


# The population's columns a rule reads (its attributes' `p.` expressions): on PostgreSQL the key index carries
# them (migration 18), so a slice of the population by key is read from that index alone.
RULE_COLUMNS = ("id_number_bidx", "gender", "birth_date", "hukou_region")


def population_slice(joins, low: str | None, high: str | None, *, fenced: bool) -> tuple[str, list[str]]:
    """`population_from(joins)` cut to the people whose blind index is in [low, high) (None: open) in every table it
    reads, and its parameters: the population's `RULE_COLUMNS` only. `fenced` (PostgreSQL) plans the population's
    slice on its own, before the rule."""
    # Without the fence PostgreSQL answers a slice from an index of the rule's own columns (the preview index),
    # reading every matching person of the registry to keep the slice's: a campaign's chunks then cost the square
    # of the registry (at 2,000,000 people each chunk read 407,753 index entries to keep 19,000). OFFSET 0 makes
    # it read the slice by the key index first, so a chunk costs its slice whatever the registry's size. Reading
    # the table's rows instead (all of its columns) took each chunk to a sixth of the table's pages: at 10M people
    # the 101 chunks of a campaign read its 4.8 GB seventeen times over.
    cut, params = key_range("population_record.id_number_bidx", low, high)
    parts = [f"(SELECT {', '.join(RULE_COLUMNS)} FROM population_record WHERE 1 = 1{cut}"
             f"{' OFFSET 0' if fenced else ''}) p"]
    for alias, table in TABLES.items():
        if alias in joins:
            # The joined registry's key range too, so that it is read by the slice alone.
            cut, more = key_range(f"{alias}.id_number_bidx", low, high)
            parts.append(f"LEFT JOIN {table} {alias} ON {alias}.id_number_bidx = p.id_number_bidx{cut}")
            params += more
    return " ".join(parts), params


def compile_sql(rule, *, as_of: dt.date) -> Predicate:
    """The rule as a parameterised SQL predicate; ages become birth-date cutoffs computed for `as_of`."""
    predicate = Predicate(sql="")
    predicate.sql = _sql(validate(rule), as_of, predicate)
    return predicate


def _sql(node: dict, as_of: dt.date, out: Predicate) -> str:
    if "not" in node:
        return f"(NOT {_sql(node['not'], as_of, out)})"
    for key, joiner in (("all", " AND "), ("any", " OR ")):
        if key in node:
            return "(" + joiner.join(_sql(c, as_of, out) for c in node[key]) + ")"
    attr, op, value = ATTRIBUTES[node["field"]], node["op"], node["value"]
    if attr.join:
        out.joins.add(attr.join)
    col = attr.sql
    if op == "exists":
        return f"(({col}) IS {'NOT ' if value else ''}NULL)"
    if attr.name == AGE:
        return _age_sql(col, op, value, as_of, out)
    if attr.type == "bool":
        # Compiled to the expression itself (or its negation): no boolean parameter to type on either database.
        return f"({col})" if (value is True) == (op == "=") else f"(NOT ({col}))"
    if op == "prefix":
        out.params += [len(value), value]
        if ord(value[-1]) >= 0xD7FF:  # no next character that every store can hold: the exact test alone
            return f"(substr({col}, 1, ?) = ?)"
        # The range lets an index on the column find the rows (both stores compare text by code point); substr
        # keeps the test exact.
        out.params[-2:-2] = [value, value[:-1] + chr(ord(value[-1]) + 1)]
        return f"({col} >= ? AND {col} < ? AND substr({col}, 1, ?) = ?)"
    if op in ("in", "not_in"):
        out.params += [_param(attr, v) for v in value]
        return f"({col} {'NOT IN' if op == 'not_in' else 'IN'} ({', '.join('?' for _ in value)}))"
    out.params.append(_param(attr, value))
    return f"({col} {_SQL_OPS[op]} ?)"


def _param(attr: Attribute, value):
    return dt.date.fromisoformat(value) if attr.type == "date" else value


def _age_sql(col: str, op: str, value, as_of: dt.date, out: Predicate) -> str:
    def at_least(n: int) -> str:
        out.params.append(cutoff(n, as_of))
        return f"({col} <= ?)"

    def under(n: int) -> str:
        out.params.append(cutoff(n, as_of))
        return f"({col} > ?)"

    def exactly(n: int) -> str:
        return f"({under(n + 1)} AND {at_least(n)})"

    if op in ("in", "not_in"):
        inner = "(" + " OR ".join(exactly(n) for n in value) + ")"
        return inner if op == "in" else f"(NOT {inner})"
    return {
        ">=": lambda: at_least(value),
        ">": lambda: at_least(value + 1),
        "<": lambda: under(value),
        "<=": lambda: under(value + 1),
        "=": lambda: exactly(value),
        "!=": lambda: f"(NOT {exactly(value)})",
    }[op]()


# --- evaluation -------------------------------------------------------------------------------------------------

def fact(attr: Attribute, facts: dict, as_of: dt.date):
    """The value of an attribute in a person's facts (dates as `date`, age on `as_of`); None when missing."""
    if attr.name == AGE:
        birth = fact(ATTRIBUTES["birth_date"], facts, as_of)
        return None if birth is None else age_on(birth, as_of)
    value = facts.get(attr.name)
    if value is None:
        return None
    if attr.type == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if attr.type == "bool":
        return bool(value)
    return value


def _test(attr: Attribute, op: str, value, actual) -> bool | None:
    if op == "exists":
        return (actual is not None) == value
    if actual is None:
        return None
    if attr.type == "date":
        value = [_param(attr, v) for v in value] if isinstance(value, list) else _param(attr, value)
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if op == "prefix":
        return actual.startswith(value)
    return _PY_OPS[op](actual, value)


def _kleene(results: list[bool | None], *, all_: bool) -> bool | None:
    decisive = not all_  # all: one false decides; any: one true decides
    if decisive in results:
        return decisive
    return None if None in results else all_


def _eval(node: dict, facts: dict, as_of: dt.date, reasons: list[dict]) -> bool | None:
    if "not" in node:
        inner = _eval(node["not"], facts, as_of, reasons)
        return None if inner is None else not inner
    if "all" in node or "any" in node:
        # Every child is evaluated, without short-circuit, so that each condition gets its reason.
        results = [_eval(c, facts, as_of, reasons) for c in node.get("all") or node["any"]]
        return _kleene(results, all_="all" in node)
    attr, op, value = ATTRIBUTES[node["field"]], node["op"], node["value"]
    actual = fact(attr, facts, as_of)
    result = _test(attr, op, value, actual)
    reasons.append({
        "field": attr.name, "label": attr.label, "op": op, "value": value,
        "actual": actual.isoformat() if isinstance(actual, dt.date) else actual,
        "passed": result is True,
        # The dataset to correct when a missing fact is why the condition did not pass.
        "missing_dataset": attr.dataset if actual is None and result is not True else None,
    })
    return result


def evaluate(rule, facts: dict, *, as_of: dt.date) -> bool | None:
    """The rule's three-valued result for a person's facts: True, False, or None when unknown."""
    return _eval(validate(rule), facts, as_of, [])


def explain(rule, facts: dict, *, as_of: dt.date) -> tuple[bool, list[dict]]:
    """Whether the person is eligible (the rule is true), and one reason per condition in rule order."""
    reasons: list[dict] = []
    result = _eval(validate(rule), facts, as_of, reasons)
    return result is True, reasons

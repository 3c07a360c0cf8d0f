"""The attribute registry: the facts a policy rule may test, where each comes from and how it is derived."""

from __future__ import annotations

from dataclasses import dataclass

from api.citizens.datasets import DISABILITY_LEVELS, DISABILITY_TYPES

# Alias → table of each registry joined to the population (population_record is always `p`).
TABLES: dict[str, str] = {
    "d": "disability_record",
    "s": "social_insurance_record",
    "h": "health_card_record",
    "t": "transit_record",
    "l": "low_income_record",
}

OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "int": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"),
    "date": ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"),
    # No ordering on strings: SQLite and PostgreSQL collate them differently.
    "str": ("=", "!=", "in", "not_in", "prefix", "exists"),
    "bool": ("=", "!=", "exists"),
}


@dataclass(frozen=True)
class Attribute:
    """One fact about a person a rule can test: its type, origin and the SQL column it reads."""

    name: str
    type: str  # int, str, date, bool
    label: str
    dataset: str
    sql: str
    join: str | None
    choices: tuple | None
    derivation: str
    bounds: tuple[int, int] | None = None  # int attributes: the values a rule may name
    digits: int | None = None  # str attributes holding a fixed-length numeric code
    choice_labels: tuple | None = None  # the choices' names for people, when the stored values are codes

    @property
    def ops(self) -> tuple[str, ...]:
        """The operators a rule may apply to this attribute (no prefix match on an enumeration)."""
        ops = OPS_BY_TYPE[self.type]
        return tuple(o for o in ops if o != "prefix") if self.choices else ops


def _exists(alias: str) -> str:
    return f"{alias}.id_number_bidx IS NOT NULL"


_ATTRIBUTES = (
    Attribute("age", "int", "年龄（周岁）", "population", "p.birth_date", None, None,
              "按匹配当日由出生日期计算周岁", bounds=(0, 150)),
    Attribute("gender", "str", "性别", "population", "p.gender", None, ("男", "女"), "户籍登记的性别"),
    Attribute("hukou_region", "str", "户籍所在地（行政区划代码）", "population", "p.hukou_region", None, None,
              "户籍地址的 6 位行政区划代码（GB/T 2260），可按前缀匹配省、市", digits=6),
    Attribute("birth_date", "date", "出生日期", "population", "p.birth_date", None, None, "户籍登记的出生日期"),
    Attribute("has_disability", "bool", "持有残疾人证", "disability", _exists("d"), "d", None,
              "残疾人证登记中有此人即为是"),
    Attribute("disability_level", "str", "残疾等级", "disability", "d.disability_level", "d", DISABILITY_LEVELS,
              "残疾人证登记的等级"),
    Attribute("disability_type", "str", "残疾类别", "disability", "d.disability_type", "d", DISABILITY_TYPES,
              "残疾人证登记的类别"),
    Attribute("social_insurance_status", "str", "社会保险参保状态", "social_insurance", "s.status", "s",
              ("正常参保", "暂停参保", "终止参保"), "社会保险参保登记的状态"),
    Attribute("insured_since", "date", "参保日期", "social_insurance", "s.insured_since", "s", None,
              "社会保险参保登记的起始日期"),
    Attribute("has_health_card", "bool", "已申领电子健康卡", "health_card", _exists("h"), "h", None,
              "电子健康卡登记中有此人即为是"),
    Attribute("transit_standing", "str", "乘车码账户状态", "transit", "t.standing", "t",
              ("good", "arrears", "suspended", "closed"), "乘车码账户登记的状态（正常、欠费、暂停、注销）",
              choice_labels=("正常", "欠费", "暂停", "注销")),
    Attribute("low_income_category", "str", "低收入人口类别", "low_income", "l.category", "l",
              ("低保", "特困", "低保边缘"), "民政低收入人口登记的类别"),
    Attribute("low_income_since", "date", "纳入低收入人口日期", "low_income", "l.since", "l", None,
              "民政低收入人口登记的纳入日期"),
)

ATTRIBUTES: dict[str, Attribute] = {a.name: a for a in _ATTRIBUTES}

DATASET_LABELS = {"population": "户籍人口", "disability": "残疾人证", "social_insurance": "社会保险参保",
                  "health_card": "电子健康卡", "transit": "乘车码账户", "low_income": "低收入人口"}
OP_LABELS = {"=": "等于", "!=": "不等于", "<": "小于", "<=": "小于或等于", ">": "大于", ">=": "大于或等于",
             "in": "属于其中之一", "not_in": "不属于其中任何一个", "prefix": "以此开头",
             "exists": "有登记（true）或无登记（false）"}
FORMATS = {"date": "YYYY-MM-DD"}


def _value_shape(op: str) -> str:
    return {"in": "list", "not_in": "list", "prefix": "text_prefix", "exists": "bool"}.get(op, "scalar")


def _options(a: Attribute) -> list[dict] | None:
    if a.type == "bool":
        return [{"value": True, "label": "是"}, {"value": False, "label": "否"}]
    if not a.choices:
        return None
    return [{"value": v, "label": label} for v, label in zip(a.choices, a.choice_labels or a.choices, strict=True)]


def catalogue() -> list[dict]:
    """The registry as JSON for the admin console's rule builder: each attribute's type, meaning, operators (named,
    with the shape of value each takes), choices with their names, bounds and format."""
    return [{"name": a.name, "type": a.type, "label": a.label, "dataset": a.dataset,
             "dataset_label": DATASET_LABELS[a.dataset], "derivation": a.derivation,
             "choices": list(a.choices) if a.choices else None, "options": _options(a), "ops": list(a.ops),
             "operators": [{"op": op, "label": OP_LABELS[op], "value": _value_shape(op)} for op in a.ops],
             "bounds": list(a.bounds) if a.bounds else None, "digits": a.digits, "format": FORMATS.get(a.type)}
            for a in ATTRIBUTES.values()]

"""The attribute registry and the rule engine: validation paths, SQL that agrees with Python, and explanations."""

from __future__ import annotations

import datetime as dt
import random
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.citizens import models
from api.core.errors import ValidationFailed
from api.policies import attributes, facts, rules
from api.policies.attributes import ATTRIBUTES

D = dt.date


def problems(rule) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        rules.validate(rule)
    return caught.value.fields


def cond(field: str, op: str, value=None) -> dict:
    return {"field": field, "op": op, "value": value}


# --- validation -------------------------------------------------------------------------------------------------

def test_unknown_field_is_named_by_its_path():
    rule = {"all": [cond("age", ">=", 60), cond("hukou_region", "=", "110101"), cond("foo", "=", 1)]}
    assert problems(rule) == {"rule.all[2].field": "未知字段 foo"}


def test_wrong_value_types():
    assert "rule.value" in problems(cond("age", ">=", "60"))
    assert "rule.value" in problems(cond("age", ">=", True))  # a bool is not an int
    assert "rule.value" in problems(cond("age", ">=", 151))
    assert "rule.not.value" in problems({"not": cond("has_disability", "=", 1)})
    assert "rule.any[1].value" in problems({"any": [cond("gender", "=", "男"), cond("gender", "=", 1)]})
    assert "rule.value" in problems(cond("hukou_region", "=", "11010"))
    assert "rule.value" in problems(cond("hukou_region", "prefix", "11a"))
    assert "rule.value" in problems(cond("hukou_region", "prefix", ""))
    assert "rule.value" in problems(cond("gender", "exists", "yes"))


def test_operator_must_suit_the_type():
    assert problems(cond("gender", "<", "男")) == {"rule.op": "字段 gender 不支持运算 <（可用：= != in not_in exists）"}
    assert "rule.all[0].op" in problems({"all": [cond("hukou_region", ">=", "110101")]})
    assert "rule.op" in problems(cond("has_health_card", "in", [True]))
    assert "rule.op" in problems(cond("age", "prefix", "1"))
    assert "rule.op" in problems(cond("disability_level", "prefix", "一"))  # an enumeration has no prefixes
    assert "rule.op" in problems(cond("age", "like", 1))


def test_bad_dates():
    for text in ("2020-02-30", "20200101", "2020-1-1", "2020-01-01T00:00", 20200101):
        assert "rule.all[0].value" in problems({"all": [cond("birth_date", "<", text)]}), text
    assert rules.validate(cond("birth_date", "=", "2000-02-29"))["value"] == "2000-02-29"


def test_lists_and_choices():
    assert problems(cond("disability_level", "in", [])) == {"rule.value": "in 的值须为非空列表"}
    assert "rule.value" in problems(cond("disability_level", "not_in", "一级"))
    assert "rule.value" in problems(cond("age", "in", list(range(201))))
    assert "rule.value[1]" in problems(cond("disability_level", "in", ["一级", "五级"]))
    assert "rule.value" in problems(cond("transit_standing", "=", "bad"))
    normal = rules.validate(cond("disability_level", "in", ["一级", "二级", "一级"]))
    assert normal["value"] == ["一级", "二级"]


def test_shape_problems():
    assert problems({"field": "age", "op": ">=", "value": 60, "note": "x"}) == {"rule": "不允许的键 note"}
    assert "rule" in problems({"all": [cond("age", ">=", 60)], "any": [cond("age", "<", 90)]})
    assert problems({"all": []}) == {"rule.all": "不能为空"}
    assert "rule.any" in problems({"any": cond("age", ">=", 60)})
    assert "rule.all[0]" in problems({"all": ["age >= 60"]})
    assert "rule.value" in problems({"field": "age", "op": ">="})
    assert rules.validate({"field": "has_health_card", "op": "exists"}) == cond("has_health_card", "exists", True)
    deep = cond("age", ">=", 60)
    for _ in range(8):
        deep = {"not": deep}
    rules.validate(deep)
    assert "rule" + ".not" * 8 in problems({"not": deep})
    assert problems({"any": [cond("age", "=", n % 150) for n in range(101)]}) == {"rule": "条件不能超过 100 个"}


def test_catalogue_lists_every_attribute_with_its_operators():
    items = {a["name"]: a for a in attributes.catalogue()}
    assert set(items) == set(ATTRIBUTES)
    assert items["age"]["ops"] == ["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists"]
    assert "prefix" in items["hukou_region"]["ops"] and "<" not in items["hukou_region"]["ops"]
    assert items["gender"]["choices"] == ["男", "女"]
    assert {a["dataset"] for a in items.values()} == {"population", "disability", "social_insurance",
                                                      "health_card", "transit", "low_income"}


# --- SQL --------------------------------------------------------------------------------------------------------

def test_sql_holds_no_values_and_numbers_placeholders_for_postgres():
    rule = {"all": [cond("hukou_region", "prefix", "3205"), cond("low_income_category", "in", ["低保", "特困"]),
                    {"not": cond("insured_since", "<", "2021-07-01")}, cond("age", "=", 61)]}
    p = rules.compile_sql(rule, as_of=D(2024, 2, 29))
    assert "?" in p.sql and "3205" not in p.sql and "低保" not in p.sql and "2021" not in p.sql and "'" not in p.sql
    assert "LIKE" not in p.sql.upper() and "substr(p.hukou_region, 1, ?) = ?" in p.sql
    assert p.joins == {"l", "s"}
    assert p.params[:6] == ["3205", "3206", 4, "3205", "低保", "特困"]
    # Aged 61 on 2024-02-29: born after 1962-02-28 and up to 1963-02-28.
    assert p.params[7:] == [D(1962, 2, 28), D(1963, 2, 28)]
    sql, params = p.bind("postgres", start=3)
    assert "?" not in sql and "$3" in sql and f"${3 + len(params) - 1}" in sql and f"${3 + len(params)}" not in sql
    assert params[6] == D(2021, 7, 1)
    sql, params = p.bind("sqlite")
    assert sql == p.sql and params[6] == "2021-07-01"
    assert rules.population_from(p.joins) == (
        "population_record p LEFT JOIN social_insurance_record s ON s.id_number_bidx = p.id_number_bidx "
        "LEFT JOIN low_income_record l ON l.id_number_bidx = p.id_number_bidx")
    assert rules.population_from(set()) == "population_record p"


def test_feb_29_birthdays_and_cutoffs():
    leapling = D(2000, 2, 29)
    assert rules.age_on(leapling, D(2018, 2, 28)) == 17
    assert rules.age_on(leapling, D(2018, 3, 1)) == 18
    assert rules.age_on(leapling, D(2020, 2, 29)) == 20
    assert rules.cutoff(18, D(2018, 2, 28)) == D(2000, 2, 28)
    assert rules.cutoff(1, D(2020, 2, 29)) == D(2019, 2, 28)
    assert rules.cutoff(4, D(2020, 2, 29)) == D(2016, 2, 29)


@settings(max_examples=300, deadline=None, database=None)
@given(birth=st.dates(D(1900, 1, 1), D(2040, 12, 31)) | st.sampled_from([D(2000, 2, 29), D(2007, 2, 28),
                                                                          D(2007, 3, 1)]),
       as_of=st.dates(D(2000, 1, 1), D(2040, 12, 31)) | st.sampled_from([D(2024, 2, 29), D(2023, 2, 28)]),
       years=st.integers(0, 100) | st.just(17))
def test_cutoff_agrees_with_age(birth, as_of, years):
    assert (rules.age_on(birth, as_of) >= years) == (birth <= rules.cutoff(years, as_of))


# --- explanations -------------------------------------------------------------------------------------------------

def test_age_boundary_on_the_birthday():
    rule = cond("age", ">=", 60)
    person = {"birth_date": D(1964, 5, 10)}
    ok, reasons = rules.explain(rule, person, as_of=D(2024, 5, 10))
    assert ok and reasons[0]["actual"] == 60 and reasons[0]["passed"]
    ok, reasons = rules.explain(rule, person, as_of=D(2024, 5, 9))
    assert not ok and reasons[0]["actual"] == 59 and reasons[0]["missing_dataset"] is None


def test_missing_disability_row_names_the_dataset():
    rule = {"all": [cond("age", ">=", 60), cond("disability_level", "in", ["一级", "二级"]),
                    cond("birth_date", "<", "1970-01-01")]}
    person = {"birth_date": "1950-03-01", "has_disability": False, "disability_level": None}
    ok, reasons = rules.explain(rule, person, as_of=D(2024, 1, 1))
    assert not ok
    assert [r["field"] for r in reasons] == ["age", "disability_level", "birth_date"]
    assert reasons[0] == {"field": "age", "label": "年龄（周岁）", "op": ">=", "value": 60, "actual": 73,
                          "passed": True, "missing_dataset": None}
    assert reasons[1]["passed"] is False and reasons[1]["actual"] is None
    assert reasons[1]["missing_dataset"] == "disability"
    assert reasons[2]["actual"] == "1950-03-01" and reasons[2]["passed"]
    assert rules.evaluate(rule, person, as_of=D(2024, 1, 1)) is None


def test_not_around_a_missing_fact_is_not_eligible():
    rule = {"not": cond("disability_level", "=", "一级")}
    ok, reasons = rules.explain(rule, {"has_disability": False}, as_of=D(2024, 1, 1))
    assert not ok and reasons[0]["missing_dataset"] == "disability"
    assert rules.evaluate(rule, {}, as_of=D(2024, 1, 1)) is None
    # Whereas asking whether the row exists is always decided.
    assert rules.evaluate({"not": cond("disability_level", "exists", True)}, {}, as_of=D(2024, 1, 1)) is True
    assert rules.evaluate({"any": [cond("disability_level", "=", "一级"), cond("has_disability", "=", False)]},
                          {"has_disability": False}, as_of=D(2024, 1, 1)) is True


# --- the database -------------------------------------------------------------------------------------------------

def fresh_region() -> str:
    """A county code no other test uses, so a rule on it matches only this test's people."""
    return f"9{random.randrange(10, 99)}{random.randrange(1000):03d}"


async def insert_person(p: dict) -> None:
    """A person in the population and, as `p` says, in each other registry (encrypted columns hold filler)."""
    bidx = p["bidx"]
    await models.PopulationRecord.create(id_number_bidx=bidx, id_number_enc="enc", name_enc="enc", gender=p["gender"],
                                  birth_date=p["birth_date"], hukou_region=p["hukou_region"])
    if p["disability"]:
        kind, level, issued = p["disability"]
        await models.DisabilityRecord.create(id_number_bidx=bidx, certificate_no_enc="enc", disability_type=kind,
                                      disability_level=level, issued_at=issued)
    if p["insurance"]:
        status, since = p["insurance"]
        await models.SocialInsuranceRecord.create(id_number_bidx=bidx, card_no_enc="enc", status=status,
                                                  insured_since=since)
    if p["health_card"]:
        await models.HealthCardRecord.create(id_number_bidx=bidx, health_card_no_enc="enc")
    if p["transit"]:
        await models.TransitRecord.create(id_number_bidx=bidx, ride_account_enc="enc", standing=p["transit"])
    if p["low_income"]:
        category, since = p["low_income"]
        await models.LowIncomeRecord.create(id_number_bidx=bidx, category=category, since=since)


async def delete_people(bidxs: list[str]) -> None:
    for model in (models.PopulationRecord, models.DisabilityRecord, models.SocialInsuranceRecord,
                  models.HealthCardRecord, models.TransitRecord, models.LowIncomeRecord):
        await model.filter(id_number_bidx__in=bidxs).delete()


def person(region: str = "110101", birth: dt.date | None = None, **rows) -> dict:
    return {"bidx": f"t-{secrets.token_hex(8)}", "gender": "女", "birth_date": birth, "hukou_region": region,
            "disability": None, "insurance": None, "health_card": False, "transit": None, "low_income": None,
            **rows}


async def test_counts_samples_and_facts_on_a_feb_29_birthday(live):
    region = fresh_region()
    leapling = person(region, D(2000, 2, 29), disability=("肢体", "二级", None), health_card=True)
    other = person(region, D(2001, 6, 1))
    for p in (leapling, other):
        await insert_person(p)
    try:
        adult = {"all": [cond("hukou_region", "=", region), cond("age", ">=", 18)]}
        assert await facts.count_matching(adult, as_of=D(2018, 2, 28)) == 0
        assert await facts.count_matching(adult, as_of=D(2018, 3, 1)) == 1
        assert await facts.count_matching({"all": [cond("hukou_region", "prefix", region[:5]),
                                                   cond("age", "=", 20)]}, as_of=D(2020, 2, 29)) == 1
        sample = await facts.sample_matching(adult, as_of=D(2030, 1, 1), limit=5)
        assert sorted(r["birth_date"] for r in sample) == [D(2000, 2, 29), D(2001, 6, 1)]
        assert {r["hukou_region"] for r in sample} == {region} and all(r["name_enc"] == "enc" for r in sample)
        known = await facts.load_facts(person_bidx=leapling["bidx"])
        assert known["birth_date"] == D(2000, 2, 29) and known["has_disability"] is True
        assert known["disability_level"] == "二级" and known["disability_type"] == "肢体"
        assert known["has_health_card"] is True and known["transit_standing"] is None
        assert known["insured_since"] is None and known["low_income_category"] is None
        assert await facts.load_facts(person_bidx="t-nobody") is None
    finally:
        await delete_people([leapling["bidx"], other["bidx"]])


async def test_age_on_a_feb_29_matching_day(live):
    region = fresh_region()
    crowd = [person(region, D(2007, 2, 28)), person(region, D(2007, 3, 1)), person(region, D(2008, 2, 29))]
    for p in crowd:
        await insert_person(p)
    try:
        def ages(op, value):
            return {"all": [cond("hukou_region", "=", region), cond("age", op, value)]}

        leap = D(2024, 2, 29)  # 2007 has no Feb 29: whoever was born up to 2007-02-28 is 17 today
        assert await facts.count_matching(ages(">=", 17), as_of=leap) == 1
        assert await facts.count_matching(ages("=", 16), as_of=leap) == 2
        assert await facts.count_matching(ages("in", [15, 16]), as_of=leap) == 2
        assert await facts.count_matching(ages("not_in", [15, 16]), as_of=leap) == 1
        assert await facts.count_matching(ages(">", 15), as_of=leap) == 3
        assert await facts.count_matching(ages(">=", 17), as_of=D(2024, 3, 1)) == 2
        assert await facts.count_matching(ages("<", 16), as_of=D(2024, 2, 28)) == 1
    finally:
        await delete_people([p["bidx"] for p in crowd])


# --- the property: SQL and Python agree ---------------------------------------------------------------------------

LEAP_DAYS = [D(y, 2, 29) for y in (1940, 1944, 1960, 1964, 2000, 2004, 2008, 2016, 2020, 2024)]
AS_OF = st.one_of(st.sampled_from([D(2020, 2, 29), D(2024, 2, 29), D(2036, 2, 29)]),
                  st.sampled_from([D(2023, 2, 28), D(2024, 2, 28), D(2024, 3, 1), D(2025, 2, 28), D(2025, 3, 1)]),
                  st.dates(D(1995, 1, 1), D(2040, 12, 31)))
AGES = [0, 1, 17, 18, 59, 60, 61, 64, 65, 79, 80, 100, 150]
DATES = [*LEAP_DAYS[4:], D(2023, 2, 28), D(2024, 3, 1), D(1970, 1, 1), D(2021, 7, 1)]
REGIONS = ["110101", "110102", "110201", "320505"]
PREFIXES = ["1", "11", "1101", "110101", "32", "4"]


class Focus:
    """What one example revolves around: the day, and a few ages and dates that both people and rules sit on
    (boundaries are only tested when a fact and a rule value meet exactly)."""

    def __init__(self, as_of: dt.date, ages: list[int], days: list[dt.date]):
        self.as_of, self.ages, self.days = as_of, ages, days

    def someday(self) -> st.SearchStrategy:
        return st.one_of(st.sampled_from(self.days), st.sampled_from(self.days), st.dates(D(1950, 1, 1), D(2040, 1, 1)))

    def birthdays(self) -> st.SearchStrategy:
        """Birthdays a day either side of the focus ages' boundaries, leap days, and anything else."""
        near = st.builds(rules.cutoff, st.sampled_from(self.ages), st.just(self.as_of))
        near = st.builds(lambda d, shift: d + dt.timedelta(days=shift), near, st.integers(-1, 1))
        return st.one_of(near, near, near, st.sampled_from(self.days), st.sampled_from(LEAP_DAYS),
                         st.dates(D(1870, 1, 1), D(2040, 12, 31)))

    def scalars(self, attr) -> st.SearchStrategy:
        if attr.type == "int":
            return st.one_of(st.sampled_from(self.ages), st.sampled_from(self.ages), st.integers(*attr.bounds))
        if attr.type == "date":
            return st.one_of(self.someday(), self.birthdays()).map(dt.date.isoformat)
        if attr.type == "bool":
            return st.booleans()
        return st.sampled_from(attr.choices or REGIONS)

    def condition(self) -> st.SearchStrategy:
        def value(attr, op):
            if op == "exists":
                return st.booleans()
            if op == "prefix":
                return st.sampled_from(PREFIXES)
            if op in ("in", "not_in"):
                return st.lists(self.scalars(attr), min_size=1, max_size=4)
            return self.scalars(attr)

        def for_attr(attr):
            return st.sampled_from(attr.ops).flatmap(
                lambda op: value(attr, op).map(lambda v: {"field": attr.name, "op": op, "value": v}))

        # Age is the attribute with the subtle SQL, so it is drawn a few times as often as the others.
        names = [*ATTRIBUTES, "age", "age"]
        return st.sampled_from(names).flatmap(lambda name: for_attr(ATTRIBUTES[name]))

    def rules(self, depth: int = 4) -> st.SearchStrategy:
        leaf = self.condition()
        if depth == 0:
            return leaf
        sub = self.rules(depth - 1)
        return st.one_of(leaf, st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
                         st.lists(sub, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
                         sub.map(lambda x: {"not": x}))

    def people(self) -> st.SearchStrategy:
        someday = maybe(self.someday())
        row = st.fixed_dictionaries({
            "gender": maybe(st.sampled_from(["男", "女"])),
            "birth_date": maybe(self.birthdays()),
            "hukou_region": maybe(st.sampled_from(REGIONS)),
            "disability": maybe(st.tuples(st.sampled_from(ATTRIBUTES["disability_type"].choices),
                                          st.sampled_from(ATTRIBUTES["disability_level"].choices), someday)),
            "insurance": maybe(st.tuples(st.sampled_from(ATTRIBUTES["social_insurance_status"].choices), someday)),
            "health_card": st.booleans(),
            "transit": maybe(st.sampled_from(ATTRIBUTES["transit_standing"].choices)),
            "low_income": maybe(st.tuples(st.sampled_from(ATTRIBUTES["low_income_category"].choices), someday)),
        })
        return st.lists(row, min_size=3, max_size=8)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def _connection():
    from tortoise import Tortoise

    return Tortoise.get_connection("default")


async def matched_by_sql(rule, bidxs: list[str], as_of: dt.date) -> set[str]:
    """Who among `bidxs` the rule's SQL matches."""
    p = rules.compile_sql(rule, as_of=as_of)
    among = ", ".join("?" for _ in bidxs)
    query = rules.Predicate(sql=f"SELECT p.id_number_bidx FROM {rules.population_from(p.joins)} WHERE {p.sql} "
                                f"AND p.id_number_bidx IN ({among})", params=[*p.params, *bidxs])
    conn = _connection()
    return {r["id_number_bidx"] for r in await conn.execute_query_dict(*query.bind(conn.capabilities.dialect))}


async def truth_by_sql(rule_list: list[dict], bidxs: list[str], as_of: dt.date) -> dict[str, list[bool | None]]:
    """Each rule's three-valued result for each person, as SQL sees it (NULL is unknown), in one query."""
    columns, params, joins = [], [], set()
    for n, rule in enumerate(rule_list):
        predicate = rules.compile_sql(rule, as_of=as_of)
        columns.append(f"CASE WHEN {predicate.sql} THEN 1 WHEN NOT {predicate.sql} THEN 0 END AS r{n}")
        params += predicate.params * 2
        joins |= predicate.joins
    query = rules.Predicate(
        sql=f"SELECT p.id_number_bidx, {', '.join(columns)} FROM {rules.population_from(joins)} "
            f"WHERE p.id_number_bidx IN ({', '.join('?' for _ in bidxs)})", params=[*params, *bidxs])
    conn = _connection()
    rows = await conn.execute_query_dict(*query.bind(conn.capabilities.dialect))
    return {r["id_number_bidx"]: [None if r[f"r{n}"] is None else r[f"r{n}"] == 1 for n in range(len(rule_list))]
            for r in rows}


def leaves(rule: dict) -> list[dict]:
    if "not" in rule:
        return leaves(rule["not"])
    if "all" in rule or "any" in rule:
        return [leaf for child in rule.get("all") or rule["any"] for leaf in leaves(child)]
    return [rule]


def every_condition(as_of: dt.date) -> list[dict]:
    """Each attribute with each of its operators, on values that sit on the crowd's boundaries."""
    values = {"int": [17, 60, 61], "bool": [True, False],
              "date": [rules.cutoff(60, as_of).isoformat(), "2021-07-01", "2000-02-29"]}
    out = []
    for attr in ATTRIBUTES.values():
        pool = values.get(attr.type) or list(attr.choices or REGIONS)
        for op in attr.ops:
            if op == "exists":
                out += [cond(attr.name, op, True), cond(attr.name, op, False)]
            elif op == "prefix":
                out += [cond(attr.name, op, v) for v in PREFIXES]
            elif op in ("in", "not_in"):
                out += [cond(attr.name, op, pool[:2]), cond(attr.name, op, pool[1:])]
            else:
                out += [cond(attr.name, op, v) for v in pool]
    return out


async def test_every_condition_agrees_at_its_boundaries(live):
    as_of = D(2024, 2, 29)
    births = [rules.cutoff(60, as_of) + dt.timedelta(days=d) for d in (-1, 0, 1)]
    births += [rules.cutoff(61, as_of), rules.cutoff(61, as_of) + dt.timedelta(days=1), D(2000, 2, 29), None]
    days = [D(2021, 6, 30), D(2021, 7, 1), D(2021, 7, 2), None]
    crowd = [person(REGIONS[n % 4] if n % 5 else None, births[n % len(births)], gender=("男", "女", None)[n % 3],
                    disability=(ATTRIBUTES["disability_type"].choices[n % 7],
                                ATTRIBUTES["disability_level"].choices[n % 4], days[n % 4]) if n % 3 else None,
                    insurance=(ATTRIBUTES["social_insurance_status"].choices[n % 3], days[n % 4]) if n % 4 else None,
                    health_card=bool(n % 2), transit=ATTRIBUTES["transit_standing"].choices[n % 4] if n % 5 else None,
                    low_income=(ATTRIBUTES["low_income_category"].choices[n % 3], days[(n + 1) % 4]) if n % 2 else None)
             for n in range(14)]
    for p in crowd:
        await insert_person(p)
    try:
        known = {p["bidx"]: await facts.load_facts(person_bidx=p["bidx"]) for p in crowd}
        checked = every_condition(as_of)
        for start in range(0, len(checked), 60):
            chunk = checked[start:start + 60]
            by_sql = await truth_by_sql(chunk, list(known), as_of)
            for bidx, f in known.items():
                assert by_sql[bidx] == [rules.evaluate(r, f, as_of=as_of) for r in chunk], (f, chunk)
    finally:
        await delete_people([p["bidx"] for p in crowd])


# Hypothesis cannot await, but pytest-asyncio (>= 0.23) recognises an `async def` test under @given and runs each
# example's coroutine to completion on the test's event loop — here the session loop, which also owns Tortoise's
# connections and the live server. Search and shrinking stay Hypothesis' own, and st.data() lets the people and
# the rules be drawn around the `as_of` drawn first.
@pytest.mark.asyncio(loop_scope="session")
@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                 HealthCheck.too_slow])
@given(data=st.data())
async def test_sql_and_python_agree(live, data):
    ages = st.lists(st.sampled_from(AGES) | st.integers(0, 150), min_size=1, max_size=2)
    days = st.lists(st.sampled_from(DATES) | st.dates(D(1950, 1, 1), D(2040, 1, 1)), min_size=1, max_size=2)
    focus = Focus(data.draw(AS_OF, label="as_of"), data.draw(ages, label="ages"), data.draw(days, label="days"))
    as_of = focus.as_of
    crowd = [{**p, "bidx": f"t-{secrets.token_hex(8)}"} for p in data.draw(focus.people(), label="people")]
    # Several rules per crowd: the inserts are the slow part, and more rules search more of the space.
    drawn = [rules.validate(r) for r in data.draw(st.lists(focus.rules(), min_size=1, max_size=6), label="rules")]
    try:
        for p in crowd:
            await insert_person(p)
        known = {p["bidx"]: await facts.load_facts(person_bidx=p["bidx"]) for p in crowd}
        for p in crowd:
            assert known[p["bidx"]]["birth_date"] == p["birth_date"]
            assert known[p["bidx"]]["has_health_card"] is p["health_card"]
            assert known[p["bidx"]]["has_disability"] is (p["disability"] is not None)
        for rule in drawn:
            results = {bidx: rules.evaluate(rule, f, as_of=as_of) for bidx, f in known.items()}
            for bidx, result in results.items():
                assert rules.explain(rule, known[bidx], as_of=as_of)[0] is (result is True)
            expected = {bidx for bidx, result in results.items() if result is True}
            assert await matched_by_sql(rule, list(known), as_of) == expected, rule
        # Beyond who matches: every rule and every single condition is true, false or unknown alike in both,
        # so that a wrong condition cannot hide behind the rest of its rule.
        checked = drawn + [leaf for rule in drawn for leaf in leaves(rule)]
        by_sql = await truth_by_sql(checked, list(known), as_of)
        for bidx, f in known.items():
            assert by_sql[bidx] == [rules.evaluate(r, f, as_of=as_of) for r in checked], (bidx, f, checked)
    finally:
        await delete_people([p["bidx"] for p in crowd])

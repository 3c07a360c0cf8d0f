"""The catalogue: search in Chinese, filters, guides, bundles, and the loader's checks."""

import copy
import json

import pytest

from api.catalog import service as catalog
from api.catalog.loader import DEFAULT_FILE
from api.core.errors import ValidationFailed
from tests.applications.catalogue_fixture import CATALOGUE


async def test_search_finds_items_and_bundles_by_chinese_words(client, test_catalogue):
    r = await client.get("/api/v1/items", params={"q": "出生", "limit": 100})
    assert r.status_code == 200
    body = r.json()
    assert "T00000000002" in [i["code"] for i in body["items"]]
    assert "B_TEST_NEWBORN" in [b["code"] for b in body["bundles"]]
    # Two words, neither a whole name: matched by words and character pairs.
    found = await client.get("/api/v1/items", params={"q": "新生儿 出生", "limit": 100})
    codes = [i["code"] for i in found.json()["items"]]
    assert "T00000000002" in codes
    assert (await client.get("/api/v1/items", params={"q": "完全无关的词"})).json()["items"] == []


async def test_filters_by_department_theme_and_cross_province(client, test_catalogue):
    items = (await client.get("/api/v1/items", params={"dept": "yibao", "limit": 100})).json()["items"]
    assert items and all(i["dept"] == "yibao" for i in items)
    cross = (await client.get("/api/v1/items", params={"cross_province": "true", "limit": 100})).json()["items"]
    assert cross and all(i["cross_province"] for i in cross)
    assert "T00000000001" not in [i["code"] for i in cross]
    r = await client.get("/api/v1/items", params={"limit": 0})
    assert r.status_code == 422


async def test_pages_do_not_repeat_or_skip(client, test_catalogue):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/items", params=params)).json()
        seen += [i["code"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    everything = (await client.get("/api/v1/items", params={"limit": 100})).json()["items"]
    assert seen == [i["code"] for i in everything] and len(seen) == len(set(seen))


async def test_item_guide_and_unknown_codes(client, test_catalogue):
    guide = (await client.get("/api/v1/items/T00000000001")).json()
    materials = {m["code"]: m for m in guide["materials"]}
    assert materials["M_RESIDENCE_PROOF"]["commitment_allowed"] and materials["M_PHOTO"]["deferrable"]
    assert materials["M_ID_CARD"]["exempt_by_license_type"] == "resident_id_card"
    assert guide["form_schema"]["required"] and guide["dept_name"] == "市公安局"
    assert (await client.get("/api/v1/items/NOPE0000")).status_code == 404
    assert (await client.get("/api/v1/bundles/B_NOPE")).status_code == 404


@pytest.mark.parametrize("breakage", ["one_dept_bundle", "unknown_item", "bad_schema", "slow_promise", "bad_theme"])
async def test_the_loader_refuses_a_broken_catalogue(live, breakage):
    data = copy.deepcopy(CATALOGUE)
    if breakage == "one_dept_bundle":
        data["bundles"][0]["items"] = ["T00000000001", "T00000000004"]
    elif breakage == "unknown_item":
        data["bundles"][0]["items"] = ["T00000000002", "T99999999999"]
    elif breakage == "bad_schema":
        data["items"][0]["form_schema"] = {"type": "objekt"}
    elif breakage == "slow_promise":
        data["items"][0]["promised_days"] = 99
    else:
        data["items"][0]["theme"] = "不存在的主题"
    with pytest.raises(ValidationFailed):
        await catalog.load_catalogue(data=data, redis=live.app.ctx.deps.redis)


def _props(data: dict, code: str) -> dict:
    return next(i for i in data["items"] if i["code"] == code)["form_schema"]["properties"]


@pytest.mark.parametrize("breakage", ["unbound_applicant", "wrong_kind", "unknown_kind", "twice_the_same_kind",
                                      "id_number_unchecked", "bad_subject", "bundle_of_two_subjects"])
async def test_the_loader_refuses_a_form_that_would_unbind_or_misname_an_identity(client, live, breakage):
    data = copy.deepcopy(CATALOGUE)
    props = _props(data, "T00000000001")
    where = "items.0.form_schema"
    if breakage == "unbound_applicant":  # an edit that would let citizens type anyone's id number again
        del props["applicant_id_number"]["x-identity"]
        where += ".properties.applicant_id_number.x-identity"
    elif breakage == "wrong_kind":
        props["applicant_phone"]["x-identity"] = "name"
        where += ".properties.applicant_phone.x-identity"
    elif breakage == "unknown_kind":
        props["reason"]["x-identity"] = "email"
        where += ".properties.reason.x-identity"
    elif breakage == "twice_the_same_kind":
        props["other_phone"] = {"type": "string", "x-identity": "phone"}
        where += ".properties.other_phone.x-identity"
    elif breakage == "id_number_unchecked":
        del props["spouse_id_number"]["format"]
        where += ".properties.spouse_id_number.format"
    elif breakage == "bad_subject":
        data["items"][0]["form_schema"]["x-subject"] = "someone"
        where += ".x-subject"
    else:
        data["items"][1]["form_schema"]["x-subject"] = "other"  # T00000000002, in the bundle with ...03
        where = "bundles.0.items"
    before = (await client.get("/api/v1/items/T00000000001")).json()
    with pytest.raises(ValidationFailed) as refused:
        await catalog.load_catalogue(data=data, redis=live.app.ctx.deps.redis)
    assert where in refused.value.fields, refused.value.fields
    assert (await client.get("/api/v1/items/T00000000001")).json() == before


async def test_the_guide_shows_which_fields_are_the_applicants_own(client, test_catalogue):
    guide = (await client.get("/api/v1/items/T00000000001")).json()
    props = guide["form_schema"]["properties"]
    assert {k: p.get("x-identity") for k, p in props.items() if p.get("x-identity")} == {
        "applicant_name": "name", "applicant_id_number": "id_number", "applicant_phone": "phone"}
    assert props["spouse_id_number"]["format"] == "id-number" and "x-identity" not in props["spouse_id_number"]
    bundle = (await client.get("/api/v1/bundles/B_TEST_NEWBORN")).json()
    assert bundle["form_schema"]["x-subject"] == "self"
    assert bundle["form_schema"]["properties"]["applicant_name"]["x-identity"] == "name"


def test_the_demo_catalogue_is_real_sized_and_consistent():
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    parsed = catalog.CatalogueFile.model_validate(data)
    assert len(parsed.items) >= 30 and len(parsed.bundles) >= 6
    assert catalog._check(parsed) == {}
    names = " ".join(b.name for b in parsed.bundles)
    for must in ("新生儿出生", "入学", "退休", "残疾人", "身后", "餐饮"):
        assert must in names, must


async def test_the_demo_catalogue_loads_and_search_finds_the_newborn_bundle(client, live):
    from api.catalog.loader import load_file

    report = await load_file(settings=live.settings)
    assert report["items"] >= 30
    body = (await client.get("/api/v1/items", params={"q": "出生"})).json()
    assert any("新生儿出生" in b["name"] for b in body["bundles"])

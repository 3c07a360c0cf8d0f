"""Message templates as data: loaded and checked at start, rendered per channel, fields cut at a boundary."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.core.settings import Settings
from notifications.templates import HERE, TemplateError, Templates, load
from notifications.templates.fit import ASCII_TOKEN, CJK, ELLIPSIS, FieldError, cut, fit

THING = {"rule": "text", "max": 20}

# Chinese and Latin words, numbers, spaces and clause marks, mixed.
pieces = st.one_of(
    st.text(alphabet="政务服务高龄老人津贴发放通知关于做好年度全省", min_size=1, max_size=8),
    st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True),
    st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,2})?", fullmatch=True),
    st.sampled_from(["，", "。", "；", "、", "：", "！", "？", " ", ", ", ". ", "「", "」"]),
)
texts = st.lists(pieces, min_size=1, max_size=20).map("".join)
latin = st.lists(st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True), min_size=1, max_size=12).map(" ".join)


def _split_points(text: str) -> set[int]:
    return {p for m in ASCII_TOKEN.finditer(text) for p in range(m.start() + 1, m.end())}


@settings(max_examples=400, deadline=None)
@given(text=texts, limit=st.integers(min_value=2, max_value=40))
def test_a_cut_fits_is_a_prefix_plus_an_ellipsis_and_splits_no_ascii_word(text, limit):
    out = cut(text, limit)
    if len(text) <= limit:
        assert out == text
        return
    if out is None:  # no boundary at all within the room (e.g. one long word)
        return
    assert len(out) <= limit and out.endswith(ELLIPSIS)
    kept = out[:-len(ELLIPSIS)]
    assert kept and text.startswith(kept)
    assert len(kept) not in _split_points(text)


@settings(max_examples=300, deadline=None)
@given(text=latin, limit=st.integers(min_value=2, max_value=40))
def test_latin_text_is_cut_at_a_space(text, limit):
    out = cut(text, limit)
    if out is None or out == text:
        return
    kept = out[:-1]
    assert len(out) <= limit and text.startswith(kept) and text[len(kept)] == " "


def test_chinese_text_is_cut_after_a_clause_mark_and_the_mark_dropped():
    assert cut("您符合高龄老人津贴条件，无需申请，已为您办理高龄津贴", 20) == "您符合高龄老人津贴条件，无需申请…"
    # No clause mark in reach: between characters, but not inside "2026".
    assert cut("关于做好全省高龄老人津贴发放工作的2026年度通知", 20) == "关于做好全省高龄老人津贴发放工作的…"
    assert cut("关于做好全省高龄老人津贴发放工作2026年度通知", 20) == "关于做好全省高龄老人津贴发放工作…"
    assert cut("Elderly allowance notice for the whole province", 20) == "Elderly allowance…"
    assert cut("Supercalifragilisticexpialidocious", 20) is None


def test_a_21_character_thing_is_cut_at_a_boundary_with_an_ellipsis():
    value = "您的高龄津贴资格认证已通过，请于本月领取"
    value = value + "款"
    assert len(value) == 21
    assert value[:20] == "您的高龄津贴资格认证已通过，请于本月领取"  # what `[:20]` used to send, mid-word
    assert fit(value, THING) == "您的高龄津贴资格认证已通过…"  # at the clause mark, within 20 with the ellipsis
    # A number is never split: the cut goes before "2026", not inside it.
    assert fit("请于本月底前完成高龄津贴年度资格认证2026", THING) == "请于本月底前完成高龄津贴年度资格认证…"
    assert fit("Annual check 2026 of the elderly allowance", THING) == "Annual check 2026…"


def test_phrases_numbers_codes_and_times_are_checked_not_cut():
    types = load()[1]["wechat"]
    assert fit("已受理", types["phrase"]) == "已受理"
    for bad in ("已经受理完毕", "ok", "已受理1"):
        with pytest.raises(FieldError):
            fit(bad, types["phrase"])
    assert fit("2026-11-30", types["date"]) == "2026-11-30"
    assert fit("2026年11月30日 08:00", types["date"]) == "2026年11月30日 08:00"
    assert fit("2026-11-30 08:00~2026-11-30 12:00", types["time"])
    for kind, bad in (("date", "明天"), ("time", "2026-11-30T08:00"), ("number", "12a"), ("number", "1" * 33),
                      ("character_string", "SF 1234"), ("character_string", "A" * 33), ("amount", "100 元")):
        with pytest.raises(FieldError):
            fit(bad, types[kind])
    assert fit("¥100.50", types["amount"]) == "¥100.50"
    assert fit("SF1234567890", types["character_string"]) == "SF1234567890"


def test_the_policy_push_renders_on_every_channel():
    t = Templates(Settings())
    params = {"title": "关于做好2026年度全省高龄老人津贴发放工作的通知",
              "body": "您符合「高龄老人津贴」条件，无需申请，已为您办理。", "date": "2026-11-30"}
    wechat = t.render("policy_push", "wechat", params)
    assert wechat.template_id == Settings().wechat_template_policy
    assert wechat.data == {"thing1": "关于做好2026年度全省高龄老人津贴发…",
                           "thing2": "您符合「高龄老人津贴」条件，无需申请…", "date3": "2026-11-30"}
    assert t.render("policy_push", "alipay", params).data == wechat.data
    sms = t.render("policy_push", "sms", params)
    assert sms.template_id == Settings().sms_template_policy and sms.data == {"title": params["title"]}
    long = t.render("policy_push", "sms", {**params, "title": params["title"] * 2}).data["title"]
    assert len(long) <= 30 and long.endswith("…")
    inbox = t.render("policy_push", "inbox", params)
    assert (inbox.title, inbox.body) == (params["title"], params["body"])


def test_every_event_kind_renders_and_a_bad_value_falls_back_or_fails_clearly():
    t = Templates(Settings())
    kinds = set(t.messages)
    assert {"policy_push", "application_accepted", "supplement_requested", "application_approved",
            "application_denied", "application_shipped", "application_completed", "certificate_issued",
            "certificate_rejected", "certificate_revoked", "grant_recorded", "code_frozen", "delegation_invitation",
            "delegation_accepted", "delegation_revoked"} <= kinds
    sample = {"item_name": "城乡居民基本养老保险待遇申领", "application_no": "AP20261130000123",
              "at": "2026-11-30 10:15",
              "what": "户口簿首页及本人页复印件", "due": "2026-12-15", "reason": "材料不全", "carrier": "中国邮政 EMS",
              "tracking_no": "EMS1234567890", "certificate_name": "残疾人证", "issuer": "长沙市残联",
              "policy_title": "高龄津贴", "benefit": "100元/月", "date": "2026-11-30", "inviter": "张*",
              "scope": "养老保险待遇认证", "expires": "2026-12-07", "relative": "李*", "title": "t", "body": "b",
              "promised_days": 5, "state": "已冻结"}
    for kind in kinds:
        for channel in ("wechat", "alipay", "sms", "inbox"):
            if channel in t.messages[kind]:
                r = t.render(kind, channel, sample)
                assert all(r.data.values()) or channel == "inbox", (kind, channel, r)
    denied = t.render("application_denied", "wechat", {**sample, "reason": "Supercalifragilisticexpialidocious" * 2})
    assert denied.data["thing5"] == "详见小程序内说明"  # the defined default
    with pytest.raises(TemplateError, match="application_accepted.wechat.character_string2"):
        t.render("application_accepted", "wechat", {**sample, "application_no": "办件 123"})
    with pytest.raises(TemplateError, match="not given"):
        t.render("application_accepted", "wechat", {"item_name": "x"})


def test_the_catalogue_lists_each_platform_template_once():
    rows = Templates(Settings()).catalogue()
    keys = [(r["platform"], r["template_id"]) for r in rows]
    assert len(keys) == len(set(keys))
    tid = Settings().wechat_template_policy
    policy = next(r for r in rows if r["platform"] == "wechat" and r["template_id"] == tid)
    assert policy["fields"] == {"thing1": "thing", "thing2": "thing", "date3": "date"} and policy["kind"] == "long_term"


def _broken(tmp_path, change) -> Templates:
    for name in ("messages.json", "value_types.json"):
        shutil.copy(HERE / name, tmp_path / name)
    messages = json.loads((tmp_path / "messages.json").read_text(encoding="utf-8"))
    change(messages)
    (tmp_path / "messages.json").write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
    return Templates(Settings(), directory=tmp_path)


@pytest.mark.parametrize(("change", "error"), [
    (lambda m: m["policy_push"]["wechat"]["fields"].update({"thing9": {"type": "things", "value": "x"}}),
     "unknown wechat value type"),
    (lambda m: m["policy_push"]["wechat"]["fields"].update({"date9": {"type": "thing", "value": "x"}}),
     "type and a number"),
    (lambda m: m["application_accepted"]["wechat"]["fields"]["phrase3"].update({"value": "已经受理完毕"}),
     "constant does not fit"),
    (lambda m: m["policy_push"]["inbox"].update({"body": "{nobody}"}), "not among its params"),
    (lambda m: m["policy_push"]["sms"]["params"]["title"].update({"max": 35}) or
     m["policy_push"]["sms"].update({"text": m["policy_push"]["sms"]["text"] * 2}), "over one segment"),
    (lambda m: m["policy_push"]["sms"].update({"text": "无参数"}), "slots and the params differ"),
    (lambda m: m["policy_push"]["wechat"].update({"template_id": "x"}), "exactly one of"),
])
def test_a_bad_template_fails_at_load_naming_what_is_wrong(tmp_path, change, error):
    with pytest.raises(TemplateError, match=error):
        _broken(tmp_path, change)


def test_cjk_detection_matches_the_fit_rules():
    assert CJK.search("高龄") and not CJK.search("Elderly 2026")

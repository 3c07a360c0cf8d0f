"""The applicant's messages render on every channel from what real cases hold: 26-character application ids, long
bundle titles, a clerk's long note, the longest carrier and waybill number a staff action accepts. (A template that
cannot render fails its row `template_error` and the citizen hears nothing on that channel.)"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from api.applications import moves, supplements
from api.core.ids import new_id
from api.core.settings import Settings
from notifications.templates import Templates, load

NOW = dt.datetime(2026, 11, 30, 2, 15, tzinfo=dt.timezone.utc)
TYPICAL = {"title": "测试居住登记", "note": "请补充居住证明原件", "carrier": "EMS", "tracking_no": "1180123456789",
           "names": ["居住证明"]}
LONGEST = {"title": ("新生儿出生医学证明签发、城乡居民医保参保登记、户口登记、社会保障卡申领" * 3)[:128],
           "note": "经核查，申请人提交的居住证明与登记地址不一致，" * 20,
           "carrier": "中国邮政速递物流股份有限公司国际及港澳台特快专递业务部门",
           "tracking_no": "JDVA" + "0123456789" * 2 + "ABCDEFGH",
           "names": ["居民身份证", "居住证明", "近期免冠照片", "其他补充材料"] * 3}


def _case(values: dict, *, status: str) -> SimpleNamespace:
    due = (NOW.date() + dt.timedelta(days=14)).isoformat()
    asked = {"materials": [], "due": due, "what": supplements.what(values["names"], values["note"][:500])}
    return SimpleNamespace(id=new_id("app"), title=values["title"], carrier=values["carrier"][:32],
                           tracking_no=values["tracking_no"][:32],
                           supplement=asked if status == "supplement_requested" else None)


@pytest.mark.parametrize("values", [TYPICAL, LONGEST], ids=["typical", "longest"])
@pytest.mark.parametrize("to_status", sorted(moves.MESSAGE_OF))
def test_every_move_message_renders_on_every_channel(to_status, values):
    t = Templates(Settings())
    types = load()[1]
    kind = moves.MESSAGE_OF[to_status]
    case = _case(values, status=to_status)
    params = moves.message_params(case, top=case, note=values["note"][:500], at=NOW)
    assert len(case.id) == 26
    for channel in ("wechat", "alipay", "sms", "inbox"):
        if channel not in t.messages[kind]:
            continue
        rendered = t.render(kind, channel, params)
        if channel == "inbox":
            assert rendered.title and rendered.body
            continue
        assert all(rendered.data.values()), (kind, channel, rendered.data)
        if channel in ("wechat", "alipay"):
            for key, field in t.messages[kind][channel]["fields"].items():
                assert len(rendered.data[key]) <= types[channel][field["type"]]["max"], (kind, channel, key)
    wechat = t.render(kind, "wechat", params).data
    if "character_string2" in wechat:
        assert wechat["character_string2"] == case.id  # the number itself, never a stand-in
    if kind == "application_shipped":
        assert wechat["character_string3"] == case.tracking_no


def test_the_supplement_reminder_renders_on_every_channel():
    t = Templates(Settings())
    for values in (TYPICAL, LONGEST):
        params = {"item_name": values["title"], "application_no": new_id("app"), "due": "2026-12-15",
                  "what": supplements.what(values["names"], values["note"][:500])}
        for channel in ("wechat", "alipay", "sms", "inbox"):
            rendered = t.render("supplement_due_soon", channel, params)
            assert all(rendered.data.values()) if channel != "inbox" else rendered.body

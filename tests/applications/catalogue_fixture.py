"""A small catalogue whose every property the tests control (the demo catalogue is tested on its own)."""

PERSON_FIELDS = {
    "applicant_name": {"type": "string", "title": "申请人姓名", "minLength": 2, "maxLength": 32, "x-identity": "name"},
    "applicant_id_number": {"type": "string", "title": "申请人身份证号", "pattern": "^[0-9]{17}[0-9X]$",
                            "format": "id-number", "x-identity": "id_number"},
    "applicant_phone": {"type": "string", "title": "联系电话", "pattern": "^1[3-9][0-9]{9}$", "x-identity": "phone"},
}
SPOUSE_ID = {"type": "string", "title": "配偶身份证号", "pattern": "^[0-9]{17}[0-9X]$", "format": "id-number"}
CHILD_FIELDS = {
    "child_name": {"type": "string", "title": "新生儿姓名", "minLength": 2, "maxLength": 32},
    "child_birth_date": {"type": "string", "title": "出生日期", "format": "date"},
}


def _m(code, name, *, required=True, commitment=False, deferrable=False, exempt=None):
    return {"code": code, "name": name, "required": required, "commitment_allowed": commitment,
            "deferrable": deferrable, "exempt_by_license_type": exempt, "description": ""}


def _item(code, name, dept, *, cross, materials, props, required, days=5, level=2, delivery=None, keywords=(),
          subject=None):
    schema = {"type": "object", "properties": props, "required": required, "additionalProperties": False}
    if subject:
        schema["x-subject"] = subject
    return {
        "code": code, "name": name, "dept": dept, "type": "公共服务", "theme": "户籍办理",
        "keywords": list(keywords), "legal_basis": "《测试条例》第一条", "legal_days": 20, "promised_days": days,
        "online_depth": "全程网办", "cross_province": cross, "levels": ["省", "市", "县"],
        "min_assurance_level": level, "fees": "不收费",
        "delivery_methods": delivery or ["pickup", "express", "electronic"], "materials": materials,
        "form_schema": schema,
    }


CATALOGUE = {
    "themes": ["户籍办理", "生育收养", "社会保障"],
    "departments": [{"code": "gongan", "name": "市公安局"}, {"code": "weijian", "name": "市卫生健康委"},
                    {"code": "yibao", "name": "市医疗保障局"}],
    "items": [
        _item("T00000000001", "测试居住登记", "gongan", cross=False, keywords=["居住", "登记"],
              materials=[_m("M_ID_CARD", "居民身份证", exempt="resident_id_card"),
                         _m("M_RESIDENCE_PROOF", "居住证明", commitment=True),
                         _m("M_PHOTO", "近期免冠照片", deferrable=True),
                         _m("M_EXTRA", "其他补充材料", required=False)],
              props={**PERSON_FIELDS,
                     "reason": {"type": "string", "title": "申请事由", "enum": ["就业", "就学", "投亲"]},
                     "spouse_id_number": SPOUSE_ID, "note": {"type": "string", "title": "备注", "maxLength": 200}},
              required=["applicant_name", "applicant_id_number", "reason"]),
        _item("T00000000002", "测试出生医学证明签发", "weijian", cross=True, days=3, keywords=["出生", "新生儿"],
              materials=[_m("M_ID_CARD", "居民身份证", exempt="resident_id_card"),
                         _m("M_BIRTH_RECORD", "分娩记录")],
              props={"applicant_name": PERSON_FIELDS["applicant_name"], **CHILD_FIELDS},
              required=["applicant_name", "child_name", "child_birth_date"]),
        _item("T00000000003", "测试城乡居民医保参保登记", "yibao", cross=True, days=7, keywords=["医保", "参保"],
              materials=[_m("M_ID_CARD", "居民身份证", exempt="resident_id_card"),
                         _m("M_HOUSEHOLD_REGISTER", "居民户口簿", deferrable=True)],
              props={"applicant_name": PERSON_FIELDS["applicant_name"],
                     "child_name": CHILD_FIELDS["child_name"]},
              required=["applicant_name", "child_name"], delivery=["electronic", "pickup"]),
        _item("T00000000004", "测试仅需手机号的预约", "gongan", cross=True, level=1, days=1,
              materials=[_m("M_PHOTO", "近期免冠照片", required=False)],
              props={"applicant_name": PERSON_FIELDS["applicant_name"]}, required=["applicant_name"]),
        # 为他人申请: the form's applicant is the person named in it, not the citizen who submits (经办人).
        _item("T00000000005", "测试代他人开具证明", "gongan", cross=True, subject="other",
              materials=[_m("M_AUTHORISATION", "授权委托书", required=False)],
              props={**PERSON_FIELDS,
                     "relation": {"type": "string", "title": "与申请人关系", "enum": ["子女", "配偶"]}},
              required=["applicant_name", "applicant_id_number", "relation"]),
    ],
    "bundles": [
        {"code": "B_TEST_NEWBORN", "name": "测试新生儿出生一件事", "description": "出生医学证明与医保参保一次办",
         "theme": "生育收养", "keywords": ["出生", "新生儿"], "items": ["T00000000002", "T00000000003"]},
    ],
}

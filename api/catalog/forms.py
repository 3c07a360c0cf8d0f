"""What form schemas say beyond JSON Schema: whose identity a field holds, and which fields are id numbers.

A property marked `"x-identity": "name" | "id_number" | "phone"` holds that element of a person's identity. In a
form about the applicant (the default, `"x-subject": "self"` at the schema's top) those fields are the applicant's
own and are filled from their verified identity; a form about someone else (`"x-subject": "other"`, e.g. applying
for a relative named in the form) leaves them as typed. `"format": "id-number"` marks a mainland id number,
checked with its GB 11643 check digit wherever it appears.
"""

from __future__ import annotations

from jsonschema import FormatChecker

from api.citizens import idnumber

IDENTITY = "x-identity"
SUBJECT = "x-subject"
SUBJECTS = ("self", "other")
IDENTITY_KINDS = ("name", "id_number", "phone")
ID_NUMBER_FORMAT = "id-number"
# The fields every catalogue item names its applicant with: in a form about the applicant they must be bound, so an
# edit of the catalogue cannot silently turn them back into free text.
APPLICANT_FIELDS = {"applicant_name": "name", "applicant_id_number": "id_number", "applicant_phone": "phone"}

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks(ID_NUMBER_FORMAT, raises=ValueError)
def _id_number(value) -> bool:
    if not isinstance(value, str):
        return True  # the field's `type` speaks for other values
    problem = idnumber.problem(value)
    if problem:
        raise ValueError(problem)
    return True


def identity_fields(schema: dict) -> dict[str, str]:
    """{field: identity kind} of the form's marked properties."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {name: prop[IDENTITY] for name, prop in properties.items()
            if isinstance(prop, dict) and prop.get(IDENTITY) in IDENTITY_KINDS}


def subject(schema: dict) -> str:
    """`self` when the form is about the applicant (the default), `other` when about someone they name."""
    return schema.get(SUBJECT, "self")


def bound_fields(schema: dict) -> dict[str, str]:
    """{field: identity kind} of the fields filled from the applicant's verified identity."""
    return identity_fields(schema) if subject(schema) == "self" else {}


def problems(schema: dict) -> dict[str, str]:
    """What is wrong with a form schema's own vocabulary, as {path under the schema: problem}."""
    found: dict[str, str] = {}
    if schema.get(SUBJECT, "self") not in SUBJECTS:
        found[SUBJECT] = "须为 self（关于申请人本人）或 other（关于申请人所指的他人）"
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return found  # the JSON Schema check names what is wrong with it
    seen: dict[str, str] = {}
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        where = f"properties.{name}"
        kind = prop.get(IDENTITY)
        if kind is not None:
            if kind not in IDENTITY_KINDS:
                found[f"{where}.{IDENTITY}"] = f"须为 {'、'.join(IDENTITY_KINDS)} 之一"
                continue
            if kind in seen:
                found[f"{where}.{IDENTITY}"] = f"与 {seen[kind]} 重复：每种身份信息只能有一个字段"
            seen[kind] = name
            if prop.get("type") != "string":
                found[f"{where}.type"] = "身份信息字段须为 string"
        if (kind == "id_number" or name.endswith("id_number")) and prop.get("format") != ID_NUMBER_FORMAT:
            found[f"{where}.format"] = f"身份证号字段须标注 format: {ID_NUMBER_FORMAT}（校验位检查）"
        expected = APPLICANT_FIELDS.get(name)
        if expected and subject(schema) == "self" and kind != expected:
            found[f"{where}.{IDENTITY}"] = f"申请人身份字段须标注 {IDENTITY}: {expected}（由实名信息填写）"
    return found

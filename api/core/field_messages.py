"""The Chinese words of a 422's `fields`: one translation of each validation problem, by its kind, for pydantic
(request bodies) and JSON Schema (item forms) alike, never per model."""

from __future__ import annotations

import re

TIMESTAMP_HINT = "带时区的时间（ISO 8601，如 2025-03-01T09:30:00+08:00）"
DATE_HINT = "日期（YYYY-MM-DD）"

# pydantic error type → message; `{name}` is filled from the error's context.
_PYDANTIC = {
    "missing": "必填",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "string_unicode": "应为字符串",
    "string_too_short": "长度至少 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_not_ascii": "只能包含 ASCII 字符",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "整数超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须大于或等于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须小于或等于 {le}",
    "multiple_of": "须为 {multiple_of} 的整数倍",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "frozen_set_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "dataclass_type": "应为对象",
    "typed_dict_type": "应为对象",
    "date_type": "应为" + DATE_HINT,
    "date_parsing": "应为" + DATE_HINT,
    "date_from_datetime_parsing": "应为" + DATE_HINT,
    "date_from_datetime_inexact": "应为" + DATE_HINT + "，不带时刻",
    "date_past": "须为过去的日期",
    "date_future": "须为将来的日期",
    "datetime_type": "应为" + TIMESTAMP_HINT,
    "datetime_parsing": "应为" + TIMESTAMP_HINT,
    "datetime_from_date_parsing": "应为" + TIMESTAMP_HINT,
    "datetime_object_invalid": "应为" + TIMESTAMP_HINT,
    "datetime_past": "须为过去的时间",
    "datetime_future": "须为将来的时间",
    "timezone_aware": "时间需带时区（如 +08:00）",
    "timezone_naive": "时间不能带时区",
    "time_type": "应为时刻（HH:MM[:SS]）",
    "time_parsing": "应为时刻（HH:MM[:SS]）",
    "url_type": "应为网址",
    "url_parsing": "应为网址",
    "url_syntax_violation": "应为网址",
    "url_too_long": "网址过长",
    "url_scheme": "网址协议不正确",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "bytes_type": "应为字符串",
    "bytes_too_short": "长度至少 {min_length} 字节",
    "bytes_too_long": "长度不能超过 {max_length} 字节",
    "union_tag_invalid": "类型标记不正确",
    "union_tag_not_found": "缺少类型标记",
    "none_required": "应为空（null）",
    "json_invalid": "不是合法的 JSON",
    "json_type": "应为 JSON 字符串",
    "frozen_field": "不可修改",
    "frozen_instance": "不可修改",
}
FALLBACK = "取值不正确"
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a、b、c"."""
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", expected)
    return "、".join(quoted) if quoted else expected.replace(" or ", "、")


def pydantic_problem(error: dict) -> str:
    """The Chinese message of one pydantic error (an item of `ValidationError.errors()`)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        # Our own validators raise ValueError with the message already in Chinese: without pydantic's prefix.
        cause = ctx.get("error")
        return str(cause) if cause else FALLBACK
    if kind in ("literal_error", "enum"):
        return "取值须为以下之一：" + _choices(str(ctx.get("expected", "")))
    template = _PYDANTIC.get(kind)
    if template is None:
        message = error.get("msg", "")
        return message if _CHINESE.search(message) else FALLBACK  # a custom error written in Chinese stands
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


# JSON Schema keyword → message, for the forms of service items (api/catalog form_schema).
_JSONSCHEMA = {
    "required": "必填",
    "minLength": "长度至少 {value} 个字符",
    "maxLength": "长度不能超过 {value} 个字符",
    "pattern": "格式不正确",
    "minimum": "须大于或等于 {value}",
    "maximum": "须小于或等于 {value}",
    "exclusiveMinimum": "须大于 {value}",
    "exclusiveMaximum": "须小于 {value}",
    "multipleOf": "须为 {value} 的整数倍",
    "minItems": "至少 {value} 项",
    "maxItems": "最多 {value} 项",
    "uniqueItems": "不能有重复项",
    "minProperties": "至少 {value} 个字段",
    "maxProperties": "最多 {value} 个字段",
    "additionalProperties": "不允许的字段",
    "unevaluatedProperties": "不允许的字段",
    "format": "格式不正确（{value}）",
    "const": "取值须为 {value}",
}
_JSON_TYPES = {"string": "字符串", "integer": "整数", "number": "数字", "boolean": "布尔值（true 或 false）",
               "object": "对象", "array": "数组", "null": "空（null）"}


def jsonschema_problem(error) -> str:
    """The Chinese message of one `jsonschema.ValidationError`."""
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        return "应为" + "或".join(_JSON_TYPES.get(k, k) for k in kinds)
    if keyword == "enum":
        return "取值须为以下之一：" + "、".join(str(v) for v in value)
    if keyword == "format" and value in ("date", "date-time"):
        return "应为" + (DATE_HINT if value == "date" else TIMESTAMP_HINT)
    template = _JSONSCHEMA.get(keyword)
    return template.format(value=value) if template else FALLBACK

"""pydantic's validation errors in the platform's words: one message per problem, naming the field, in the request's
language (zh-Hans unless the caller asks for English; LocaleMiddleware picks it from Accept-Language or the cookie).

pydantic says "Field required" or "Input should be a valid integer"; a person calling the API reads
"缺少必填字段「summary」" and "「items.0.length」应为整数".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext

Message = Callable[[str, Mapping[str, Any]], str]


def field_path(loc: Sequence[Any]) -> str:
    """The field as the caller wrote it: without where ninja read it from ("body", "query", …) and, for a body
    read into one schema parameter, without the parameter's name (the caller never wrote "payload")."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body" and len(parts) >= 3:
        parts = parts[2:]
    elif parts and parts[0] in {"body", "query", "path", "form", "file", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts)


def _choices(ctx: Mapping[str, Any]) -> str:
    # pydantic lists the choices as "'a', 'b' or 'c'": the English "or" becomes a plain list.
    return re.sub(r"\s+or\s+", ", ", str(ctx.get("expected", "")))


def _custom(prefix: str) -> Message:
    # A schema's own validator already says what is wrong (in the platform's words); pydantic only prefixes it.
    def message(field: str, ctx: Mapping[str, Any]) -> str:
        reason = str(ctx.get("error") or ctx.get("msg", "")).removeprefix(prefix)
        return gettext("「%(field)s」：%(reason)s") % {"field": field, "reason": reason}

    return message


def _simple(template: Callable[[], str]) -> Message:
    return lambda field, ctx: template() % {"field": field}


def _string_too_short(field: str, ctx: Mapping[str, Any]) -> str:
    if ctx.get("min_length") == 1:
        return gettext("「%(field)s」不能为空") % {"field": field}
    return gettext("「%(field)s」至少需要 %(n)s 个字符") % {"field": field, "n": ctx.get("min_length")}


def _bound(template: Callable[[], str], key: str) -> Message:
    return lambda field, ctx: template() % {"field": field, "n": ctx.get(key)}


_INTEGER = _simple(lambda: gettext("「%(field)s」应为整数"))
_NUMBER = _simple(lambda: gettext("「%(field)s」应为数字"))
_BOOLEAN = _simple(lambda: gettext("「%(field)s」应为 true 或 false"))
_DATE = _simple(lambda: gettext("「%(field)s」应为日期（YYYY-MM-DD）"))
_DATETIME = _simple(lambda: gettext("「%(field)s」应为日期时间（如 2026-01-31T08:00:00+08:00）"))
_LIST = _simple(lambda: gettext("「%(field)s」应为列表"))
_OBJECT = _simple(lambda: gettext("「%(field)s」应为对象（JSON 对象）"))
_UUID = _simple(lambda: gettext("「%(field)s」应为 UUID"))
_URL = _simple(lambda: gettext("「%(field)s」应为网址（http:// 或 https:// 开头）"))


def _choice(field: str, ctx: Mapping[str, Any]) -> str:
    return gettext("「%(field)s」的取值须为以下之一：%(choices)s") % {"field": field, "choices": _choices(ctx)}


MESSAGES: dict[str, Message] = {
    "missing": _simple(lambda: gettext("缺少必填字段「%(field)s」")),
    "missing_argument": _simple(lambda: gettext("缺少必填字段「%(field)s」")),
    "extra_forbidden": _simple(lambda: gettext("不认识的字段「%(field)s」，请删去")),
    "string_type": _simple(lambda: gettext("「%(field)s」应为文本")),
    "string_too_short": _string_too_short,
    "string_too_long": _bound(lambda: gettext("「%(field)s」最多 %(n)s 个字符"), "max_length"),
    "string_pattern_mismatch": _simple(lambda: gettext("「%(field)s」的格式不符合要求")),
    "int_parsing": _INTEGER,
    "int_type": _INTEGER,
    "int_from_float": _INTEGER,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "finite_number": _NUMBER,
    "bool_parsing": _BOOLEAN,
    "bool_type": _BOOLEAN,
    "greater_than": _bound(lambda: gettext("「%(field)s」应大于 %(n)s"), "gt"),
    "greater_than_equal": _bound(lambda: gettext("「%(field)s」应不小于 %(n)s"), "ge"),
    "less_than": _bound(lambda: gettext("「%(field)s」应小于 %(n)s"), "lt"),
    "less_than_equal": _bound(lambda: gettext("「%(field)s」应不大于 %(n)s"), "le"),
    "multiple_of": _bound(lambda: gettext("「%(field)s」应为 %(n)s 的整数倍"), "multiple_of"),
    "enum": _choice,
    "literal_error": _choice,
    "too_short": _bound(lambda: gettext("「%(field)s」至少需要 %(n)s 项"), "min_length"),
    "too_long": _bound(lambda: gettext("「%(field)s」最多 %(n)s 项"), "max_length"),
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "uuid_parsing": _UUID,
    "uuid_type": _UUID,
    "url_parsing": _URL,
    "url_type": _URL,
    "url_scheme": _URL,
    "json_invalid": _simple(lambda: gettext("「%(field)s」不是合法的 JSON")),
    "value_error": _custom("Value error, "),
    "assertion_error": _custom("Assertion failed, "),
}


def validation_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (an entry of `ValidationError.errors()`) as a sentence naming the field."""
    field = field_path(error.get("loc", ())) or gettext("请求体")
    ctx: Mapping[str, Any] = {"msg": error.get("msg", ""), **(error.get("ctx") or {})}
    message = MESSAGES.get(str(error.get("type", "")))
    if message is None:
        # A kind not listed above: still the platform's words, never pydantic's English.
        return gettext("「%(field)s」的值不符合要求") % {"field": field}
    return message(field, ctx)

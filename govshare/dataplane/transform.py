"""The one transformation from a raw stream to a dataset's typed rows, written once in DuckDB SQL.

`build_transform_sql` turns the confirmed column mapping into a query over a relation named `raw` (the raw stream:
`_row` plus the source's columns as strings, trimmed: `trimmed_raw`). `transform_sql_for` hands the same query to
another engine: for Spark it is transpiled with SQLGlot, so both engines apply the same rules and a test compares
their results. `run_transform` does the whole step on an engine: trim, then the query.

Output: `_row`, one typed column per mapped item, then `_error_column` and `_error`: both null for a good row; for a
bad row the item name of the FIRST failing column (in mapping order) and a Chinese reason users can act on.
Unmapped source columns are dropped. Every value is trimmed (spaces, tabs, line breaks, no-break and ideographic
spaces, BOM) before the query, in Arrow (a tenth of what trimming cost inside DuckDB's query, and the same input for
every engine); the query makes an empty value null.

Types (catalog.choices.ItemDataType):
- C 字符型, M 备注型 → VARCHAR; the item's length, when given, is a maximum number of characters.
- N 数值型 → DOUBLE. The catalogue gives a numeric item a length (digits) but no scale, so there is no exact
  DECIMAL(p, s) to choose without guessing from the data (and a column's type must not depend on the rows of one
  load). DOUBLE holds every integer up to 2^53 (15 digits) exactly and parses identically on DuckDB and Spark
  (both round correctly). Money, where exactness matters, is Y. Accepted: `-12`, `3.5`, `.5`, `1e3`, and
  thousands separators in the strict `1,234,567.89` grouping; not accepted: `inf`, `NaN`, `0x10`, `1d`, values
  beyond the range of DOUBLE. The length counts digits.
- Y 货币型 → DECIMAL(18,2): the same forms without exponent, an optional leading ¥/￥; more than two decimals
  (other than trailing zeros) is refused rather than rounded. The length counts digits.
- D 日期型 → DATE from `2024-03-05`, `2024-3-5`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`, and a dashed or
  slashed date followed by a zero time (`2024-03-05 00:00:00`, what spreadsheets and databases export).
  Years 1000–9999; impossible days (2月30日) are refused.
- T 日期时间型 → TIMESTAMP (without time zone, wall-clock time of the platform, China Standard Time) from
  `2024-03-05 10:20:30`, `2024-03-05T10:20:30.123456`, `2024/3/5 10:20`, `2024年3月5日 10:20:30`, a date alone
  (midnight); an ISO offset (`Z`, `+08:00`, `-0500`) converts the time to UTC+08:00. Fractions beyond
  microseconds are truncated.
- L 逻辑型 → BOOLEAN from 是/否, true/false, t/f, yes/no, y/n, 1/0 (any case).
- B 二进制 → VARCHAR holding hexadecimal (optionally 0x…) or Base64 text, checked but not decoded.

Checks of one column, first failing wins: NUL character; longer than the platform's field limit; a required item
empty; not convertible to the type; longer than the item's length. A reason quotes the refused value (its first
QUOTED_VALUE_CHARS characters), except for an item stored encrypted (`ColumnSpec.withhold_values`): the rejects
file is plain text, so it only says what was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from sqlglot import exp

from govshare.catalog.choices import ItemDataType
from govshare.dataplane.raw import ERROR_COLUMN, ERROR_REASON, ROW_COLUMN, ColumnSpec, map_columns

if TYPE_CHECKING:
    from govshare.dataplane.engines import DataEngine

# Wall-clock time of the platform: China Standard Time has had no daylight saving since 1991.
LOCAL_UTC_OFFSET_MINUTES = 8 * 60
# How much of a bad value an error message quotes; nothing of a value of an item stored encrypted.
QUOTED_VALUE_CHARS = 40
WITHHELD_VALUE = "加密存储的信息项，不引用原始值"

# Characters trimmed from both ends of every value. Includes every character that Java's regex `$` treats as a
# line terminator, so that an anchored pattern means the same on Spark (java.util.regex) and DuckDB (RE2).
TRIM_CHARACTERS = " \t\n\r\x0b\x0c\u00a0\u3000\u0085\u2028\u2029\ufeff"

# Patterns use only character classes, no backslashes: Spark SQL unescapes backslashes in string literals.
_NUMBER = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_GROUPED = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?$"
_MONEY = r"^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)$"
_MORE_THAN_TWO_DECIMALS = r"[.][0-9]{2}[0-9]*[1-9]"
_ZERO_TIME = r"( +00:00(:00([.]0+)?)?)?"
_DATE = (
    r"^[1-9][0-9]{3}(-[0-9]{1,2}-[0-9]{1,2}" + _ZERO_TIME + r"|/[0-9]{1,2}/[0-9]{1,2}" + _ZERO_TIME
    + r"|[.][0-9]{1,2}[.][0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日|[0-9]{4})$"
)  # fmt: skip
_COMPACT_DATE = r"^[0-9]{8}$"
# The common forms, converted by a plain cast on both engines (hours 24 and leap seconds kept out: DuckDB would
# accept them).
_ISO_DATE = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$"
_ISO_TIMESTAMP = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
# Applied after translate(v, '/年月日', '--- '): groups 1 year, 2 month, 3 day, 4 hour, 5 minute, 6 second,
# 7 fraction, 8 offset (DuckDB extracts groups 0–9 only).
_TIMESTAMP = (
    r"^([1-9][0-9]{3})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:T| +)([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})([.][0-9]{1,9})?)? *(Z|[+-][0-9]{2}:?[0-9]{2})?)? *$"
)
_HEX = r"^(0[xX])?([0-9A-Fa-f][0-9A-Fa-f])+$"
_BASE64 = r"^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
TRUE_WORDS = ("是", "true", "t", "yes", "y", "1")
FALSE_WORDS = ("否", "false", "f", "no", "n", "0")

_TYPE_NAMES: dict[str, str] = {
    ItemDataType.NUMBER: "数值",
    ItemDataType.CURRENCY: "货币金额",
    ItemDataType.DATE: "日期",
    ItemDataType.DATETIME: "日期时间",
    ItemDataType.LOGICAL: "逻辑值",
    ItemDataType.BINARY: "十六进制或 Base64 文本",
}

ARROW_TYPES: dict[str, pa.DataType] = {
    ItemDataType.CHAR: pa.string(),
    ItemDataType.MEMO: pa.string(),
    ItemDataType.BINARY: pa.string(),
    ItemDataType.NUMBER: pa.float64(),
    ItemDataType.CURRENCY: pa.decimal128(18, 2),
    ItemDataType.DATE: pa.date32(),
    ItemDataType.DATETIME: pa.timestamp("us"),
    ItemDataType.LOGICAL: pa.bool_(),
}
SQL_TYPES: dict[str, str] = {
    ItemDataType.CHAR: "VARCHAR",
    ItemDataType.MEMO: "VARCHAR",
    ItemDataType.BINARY: "VARCHAR",
    ItemDataType.NUMBER: "DOUBLE",
    ItemDataType.CURRENCY: "DECIMAL(18, 2)",
    ItemDataType.DATE: "DATE",
    ItemDataType.DATETIME: "TIMESTAMP",
    ItemDataType.LOGICAL: "BOOLEAN",
}
RESERVED_COLUMNS = frozenset({ROW_COLUMN, ERROR_COLUMN, ERROR_REASON})


def output_schema(specs: Sequence[ColumnSpec]) -> pa.Schema:
    """The Arrow schema of the transformation's result (both engines' results are cast to it)."""
    return pa.schema(
        [
            (ROW_COLUMN, pa.int64()),
            *((spec.target, ARROW_TYPES[spec.data_type]) for spec in specs),
            (ERROR_COLUMN, pa.string()),
            (ERROR_REASON, pa.string()),
        ]
    )


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _matches(value: str, pattern: str) -> str:
    return f"regexp_matches({value}, {quote_literal(pattern)})"


def _group(value: str, pattern: str, group: int) -> str:
    return f"regexp_extract({value}, {quote_literal(pattern)}, {group})"


def _digits(number: str) -> str:
    """How many digits the mantissa of a canonical number (`_canonical_number`) has: the length of N and Y items."""
    mantissa = f"split_part(lower({number}), 'e', 1)"
    return (
        f"(length({mantissa}) - CASE WHEN left({number}, 1) IN ('+', '-') THEN 1 ELSE 0 END "
        f"- CASE WHEN contains({number}, '.') THEN 1 ELSE 0 END)"
    )


def _canonical_number(v: str, plain: str) -> str:
    return f"CASE WHEN {_matches(v, plain)} THEN {v} WHEN {_matches(v, _GROUPED)} THEN replace({v}, ',', '') END"


def _date_text(v: str) -> str:
    """'YYYY-MM-DD' for a value in one of the accepted date forms, else null."""
    dashed = f"translate({v}, '/.年月日', '----')"
    part = f"split_part(split_part({dashed}, ' ', 1), '-', {{n}})"
    return (
        f"CASE WHEN {_matches(v, _ISO_DATE)} THEN {v} "
        f"WHEN {_matches(v, _COMPACT_DATE)} THEN "
        f"substr({v}, 1, 4) || '-' || substr({v}, 5, 2) || '-' || substr({v}, 7, 2) "
        f"WHEN {_matches(v, _DATE)} THEN "
        f"{part.format(n=1)} || '-' || lpad({part.format(n=2)}, 2, '0') || '-' || lpad({part.format(n=3)}, 2, '0') "
        "END"
    )


def _timestamp_value(v: str, q: str) -> str:
    """The TIMESTAMP of `v` in one of the accepted forms (offsets converted to UTC+08:00), else null.
    `q` is `v` translated to dashes, or null when `v` is already 'YYYY-MM-DD HH:MM:SS' (the fast path)."""

    def group(n: int) -> str:
        return _group(q, _TIMESTAMP, n)

    hour = f"coalesce(nullif({group(4)}, ''), '0')"
    minute = f"coalesce(nullif({group(5)}, ''), '0')"
    second = f"coalesce(nullif({group(6)}, ''), '0')"
    fraction = f"rpad(substr({group(7)}, 2, 6), 6, '0')"
    text = (
        f"{group(1)} || '-' || lpad({group(2)}, 2, '0') || '-' || lpad({group(3)}, 2, '0') || ' ' || "
        f"lpad({hour}, 2, '0') || ':' || lpad({minute}, 2, '0') || ':' || lpad({second}, 2, '0') || '.' || {fraction}"
    )
    in_range = (
        f"TRY_CAST({hour} AS INTEGER) <= 23 AND TRY_CAST({minute} AS INTEGER) <= 59 "
        f"AND TRY_CAST({second} AS INTEGER) <= 59"
    )
    offset = group(8)
    offset_minutes = (
        f"(CASE WHEN substr({offset}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
        f"(CAST(substr({offset}, 2, 2) AS INTEGER) * 60 + CAST(substr({offset}, length({offset}) - 1, 2) AS INTEGER))"
    )
    shift = (
        f"CASE WHEN {offset} = '' THEN 0 WHEN {offset} = 'Z' THEN {LOCAL_UTC_OFFSET_MINUTES} "
        f"ELSE {LOCAL_UTC_OFFSET_MINUTES} - {offset_minutes} END"
    )
    # The fast path: both engines' casts read 'YYYY-MM-DD HH:MM:SS' and 'YYYY-MM-DDTHH:MM:SS' alike.
    return (
        f"CASE WHEN {q} IS NULL THEN TRY_CAST({v} AS TIMESTAMP) "
        f"WHEN {_matches(q, _TIMESTAMP)} AND {in_range} THEN "
        f"TRY_CAST({text} AS TIMESTAMP) + to_minutes(CAST({shift} AS BIGINT)) END"
    )


def _prepared(spec: ColumnSpec, v: str) -> str:
    """A normalised text of `v` that the parsing step reads (computed once per value)."""
    kind = spec.data_type
    if kind == ItemDataType.NUMBER:
        return _canonical_number(v, _NUMBER)
    if kind == ItemDataType.CURRENCY:
        return _canonical_number(f"CASE WHEN left({v}, 1) IN ('¥', '￥') THEN substr({v}, 2) ELSE {v} END", _MONEY)
    if kind == ItemDataType.DATE:
        return _date_text(v)
    if kind == ItemDataType.DATETIME:
        return f"CASE WHEN NOT {_matches(v, _ISO_TIMESTAMP)} THEN translate({v}, '/年月日', '--- ') END"
    return v


def _parsed(spec: ColumnSpec, v: str, q: str) -> str:
    """The typed value of `v` (trimmed text or null; `q` its prepared text), or null when it cannot be converted."""
    kind = spec.data_type
    if kind in (ItemDataType.CHAR, ItemDataType.MEMO):
        return v
    if kind == ItemDataType.BINARY:
        return f"CASE WHEN {_matches(v, _HEX)} OR {_matches(v, _BASE64)} THEN {v} END"
    if kind == ItemDataType.NUMBER:
        # Out of DOUBLE's range: DuckDB and Spark both give infinity, which is refused.
        return f"CASE WHEN abs(TRY_CAST({q} AS DOUBLE)) <= 1.7976931348623157e308 THEN TRY_CAST({q} AS DOUBLE) END"
    if kind == ItemDataType.CURRENCY:
        return f"CASE WHEN NOT {_matches(q, _MORE_THAN_TWO_DECIMALS)} THEN TRY_CAST({q} AS DECIMAL(18, 2)) END"
    if kind == ItemDataType.DATE:
        return f"TRY_CAST({q} AS DATE)"
    if kind == ItemDataType.DATETIME:
        return f"CASE WHEN {v} IS NOT NULL THEN {_timestamp_value(v, q)} END"
    if kind == ItemDataType.LOGICAL:
        true_words = ", ".join(quote_literal(word) for word in TRUE_WORDS)
        false_words = ", ".join(quote_literal(word) for word in FALSE_WORDS)
        return f"CASE WHEN lower({v}) IN ({true_words}) THEN TRUE WHEN lower({v}) IN ({false_words}) THEN FALSE END"
    raise ValueError(f"未知的数据类型：{kind}")


def _longer_than(v: str, chars: int) -> str:
    """`length(v) > chars`, counting characters only for the values with more bytes than that (a UTF-8 character
    is at least one byte): the byte length is known without reading the value, the character count is not."""
    return f"(strlen({v}) > {chars} AND length({v}) > {chars})"


def _quoted_value(v: str) -> str:
    return f"CASE WHEN length({v}) > {QUOTED_VALUE_CHARS} THEN substr({v}, 1, {QUOTED_VALUE_CHARS}) || '…' ELSE {v} END"


def _error(spec: ColumnSpec, v: str, q: str, p: str, max_field_chars: int) -> str:
    """The Chinese reason why column `v` (parsed as `p`) fails, or null."""
    kind = spec.data_type
    whens = [
        f"WHEN contains({v}, chr(0)) THEN '含空字符（NUL）'",
        f"WHEN {_longer_than(v, max_field_chars)} THEN '超过单个字段最大长度 {max_field_chars}'",
    ]
    if spec.required:
        whens.append(f"WHEN {v} IS NULL THEN '必填项为空'")
    if kind in _TYPE_NAMES and spec.withhold_values:
        reason = quote_literal(f"无法转换为{_TYPE_NAMES[kind]}（{WITHHELD_VALUE}）")
        whens.append(f"WHEN {v} IS NOT NULL AND {p} IS NULL THEN {reason}")
    elif kind in _TYPE_NAMES:
        reason = quote_literal(f"无法转换为{_TYPE_NAMES[kind]}：")
        whens.append(f"WHEN {v} IS NOT NULL AND {p} IS NULL THEN {reason} || {_quoted_value(v)}")
    if spec.length is not None and kind in (ItemDataType.CHAR, ItemDataType.MEMO):
        whens.append(
            f"WHEN {_longer_than(v, spec.length)} THEN "
            f"'超过长度 {spec.length}（实际 ' || CAST(length({v}) AS VARCHAR) || '）'"
        )
    if spec.length is not None and kind in (ItemDataType.NUMBER, ItemDataType.CURRENCY):
        digits = _digits(q)
        whens.append(
            f"WHEN {p} IS NOT NULL AND {digits} > {spec.length} THEN "
            f"'超过长度 {spec.length}（实际 ' || CAST({digits} AS VARCHAR) || ' 位数字）'"
        )
    return "CASE " + " ".join(whens) + " END"


def trimmed_raw(raw: pa.RecordBatchReader) -> pa.RecordBatchReader:
    """The raw stream with every text value trimmed of TRIM_CHARACTERS at both ends (an error of `raw` comes out
    as it is)."""

    def trim(column: pa.Array) -> pa.Array:
        return pc.utf8_trim(column, TRIM_CHARACTERS)

    texts = [f.name for f in raw.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    return map_columns(raw, raw.schema, dict.fromkeys(texts, trim))


def run_transform(
    engine: DataEngine, raw: pa.RecordBatchReader, specs: Sequence[ColumnSpec], *, max_field_chars: int
) -> pa.RecordBatchReader:
    """The whole transformation of a raw stream on `engine`: values trimmed, then the query in its dialect."""
    sql = transform_sql_for(engine.name, build_transform_sql(specs, max_field_chars=max_field_chars))
    return engine.transform(trimmed_raw(raw), sql, schema=output_schema(specs))


def _check_specs(specs: Sequence[ColumnSpec]) -> None:
    if not specs:
        raise ValueError("字段映射为空：至少映射一个信息项")
    seen: set[str] = set()
    for spec in specs:
        if spec.target in RESERVED_COLUMNS:
            raise ValueError(f"信息项名称“{spec.target}”为系统保留字段名")
        if spec.target.lower() in seen:
            raise ValueError(f"信息项“{spec.target}”被映射了两次")
        seen.add(spec.target.lower())
        if spec.data_type not in ARROW_TYPES:
            raise ValueError(f"信息项“{spec.target}”的数据类型“{spec.data_type}”未知")


def build_transform_sql(specs: Sequence[ColumnSpec], *, max_field_chars: int) -> str:
    """The DuckDB query turning relation `raw` (values trimmed: `trimmed_raw`) into the dataset's typed columns
    plus `_error_column`, `_error`."""
    _check_specs(specs)
    cleaned = ", ".join(
        f"nullif(CAST({quote_identifier(spec.source)} AS VARCHAR), '') AS v{i}" for i, spec in enumerate(specs)
    )
    prepared = ", ".join(f"v{i}, {_prepared(spec, f'v{i}')} AS q{i}" for i, spec in enumerate(specs))
    parsed = ", ".join(f"v{i}, q{i}, {_parsed(spec, f'v{i}', f'q{i}')} AS p{i}" for i, spec in enumerate(specs))
    checked = ", ".join(
        f"p{i}, {_error(spec, f'v{i}', f'q{i}', f'p{i}', max_field_chars)} AS e{i}" for i, spec in enumerate(specs)
    )
    values = ", ".join(
        f"CAST(p{i} AS {SQL_TYPES[spec.data_type]}) AS {quote_identifier(spec.target)}" for i, spec in enumerate(specs)
    )
    error_column = (
        "CASE "
        + " ".join(f"WHEN e{i} IS NOT NULL THEN {quote_literal(spec.target)}" for i, spec in enumerate(specs))
        + " END"
    )
    error_reason = "coalesce(" + ", ".join(f"e{i}" for i in range(len(specs))) + ")"
    row = quote_identifier(ROW_COLUMN)
    # Every name is quoted (quote_identifier / quote_literal) and every number is an int: no injection.
    return (
        f"WITH cleaned AS (SELECT {row}, {cleaned} FROM raw), "  # noqa: S608
        f"prepared AS (SELECT {row}, {prepared} FROM cleaned), "
        f"parsed AS (SELECT {row}, {parsed} FROM prepared), "
        f"checked AS (SELECT {row}, {checked} FROM parsed) "
        f"SELECT {row}, {values}, "
        f"CAST({error_column} AS VARCHAR) AS {quote_identifier(ERROR_COLUMN)}, "
        f"CAST({error_reason} AS VARCHAR) AS {quote_identifier(ERROR_REASON)} "
        "FROM checked"
    )


def _spark_functions(node: exp.Expression) -> exp.Expression:
    """DuckDB functions SQLGlot leaves as they are: to_minutes(n) is Spark's make_dt_interval(0, 0, n, 0),
    strlen(v) (bytes of a string) is octet_length(v)."""
    if not isinstance(node, exp.Anonymous):
        return node
    name = str(node.this).lower()
    if name == "to_minutes":
        return exp.Anonymous(
            this="make_dt_interval",
            expressions=[exp.Literal.number(0), exp.Literal.number(0), node.expressions[0], exp.Literal.number(0)],
        )
    if name == "strlen":
        return exp.Anonymous(this="octet_length", expressions=node.expressions)
    return node


def transform_sql_for(engine: str, sql: str) -> str:
    """The query as the engine runs it: DuckDB's own, or transpiled to Spark SQL."""
    if engine == "duckdb":
        return sql
    if engine == "spark":
        tree = sqlglot.parse_one(sql, read="duckdb").transform(_spark_functions)
        return tree.sql(dialect="spark")
    raise ValueError(f"未知的计算引擎：{engine}")

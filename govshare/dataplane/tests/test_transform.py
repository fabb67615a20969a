"""The one SQL transformation (run on DuckDB here; test_engines runs it on Spark too)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from govshare.dataplane.engines import DuckDBEngine
from govshare.dataplane.raw import ColumnSpec, raw_schema
from govshare.dataplane.transform import build_transform_sql, output_schema, run_transform, transform_sql_for


def run(specs: list[ColumnSpec], rows: list[dict[str, str | None]], *, max_field_chars: int = 10_000) -> list[dict]:
    columns = sorted({name for row in rows for name in row} | {spec.source for spec in specs})
    batch = pa.record_batch(
        [pa.array(range(2, len(rows) + 2), pa.int64())]
        + [pa.array([row.get(c) for row in rows], pa.string()) for c in columns],
        schema=raw_schema(columns),
    )
    reader = pa.RecordBatchReader.from_batches(batch.schema, [batch])
    return run_transform(DuckDBEngine(), reader, specs, max_field_chars=max_field_chars).read_all().to_pylist()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0) -> dt.datetime:
    """A wall-clock time: the dataset's TIMESTAMP has no time zone."""
    return dt.datetime(year, month, day, hour, minute, second, us)  # noqa: DTZ001


def values(data_type: str, texts: Sequence[str | None], **spec: Any) -> list[dict]:
    return run([ColumnSpec("x", "值", data_type, **spec)], [{"x": text} for text in texts])


def one(data_type: str, text: str | None, **spec: Any) -> dict:
    return values(data_type, [text], **spec)[0]


def test_output_has_row_typed_columns_and_errors_and_drops_unmapped_columns() -> None:
    specs = [ColumnSpec("xm", "姓名", "C", 10), ColumnSpec("csrq", "出生日期", "D"), ColumnSpec("je", "金额", "Y", 10)]
    rows = run(specs, [{"xm": "张三", "csrq": "1990-01-02", "je": "12.5", "bz": "不映射"}])
    assert rows == [
        {
            "_row": 2,
            "姓名": "张三",
            "出生日期": dt.date(1990, 1, 2),
            "金额": Decimal("12.50"),
            "_error_column": None,
            "_error": None,
        }
    ]


def test_output_schema_is_the_arrow_types_of_the_items() -> None:
    specs = [ColumnSpec(c, f"项{c}", c) for c in "CNYDTLMB"]
    assert output_schema(specs).types == [
        pa.int64(),
        pa.string(),
        pa.float64(),
        pa.decimal128(18, 2),
        pa.date32(),
        pa.timestamp("us"),
        pa.bool_(),
        pa.string(),
        pa.string(),
        pa.string(),
        pa.string(),
    ]


def test_values_are_trimmed_and_empty_becomes_null() -> None:
    rows = values("C", ["  张三\t", "\u3000李四\u00a0\r\n", "   ", "", None, "\ufeff王五"])
    assert [r["值"] for r in rows] == ["张三", "李四", None, None, None, "王五"]
    assert all(r["_error"] is None for r in rows)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", dt.date(2024, 3, 5)),
        ("2024-3-5", dt.date(2024, 3, 5)),
        ("2024/3/5", dt.date(2024, 3, 5)),
        ("2024/03/05", dt.date(2024, 3, 5)),
        ("2024.3.5", dt.date(2024, 3, 5)),
        ("20240305", dt.date(2024, 3, 5)),
        ("2024年3月5日", dt.date(2024, 3, 5)),
        ("2024年03月05日", dt.date(2024, 3, 5)),
        ("2024-03-05 00:00:00", dt.date(2024, 3, 5)),
        ("2024/3/5 00:00", dt.date(2024, 3, 5)),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_dates_in_the_accepted_forms(text: str, expected: dt.date) -> None:
    assert one("D", text) == {"_row": 2, "值": expected, "_error_column": None, "_error": None}


@pytest.mark.parametrize(
    "text",
    ["19xx-01-01", "2023-02-29", "2024-13-01", "2024-03-05 10:00:00", "0999-01-01", "2024-3", "3/5/2024", "2024年3月5"],
)
def test_dates_that_are_refused_name_the_value(text: str) -> None:
    row = one("D", text)
    assert (row["值"], row["_error_column"], row["_error"]) == (None, "值", f"无法转换为日期：{text}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05 10:20:30", at(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T10:20:30", at(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T10:20:30.5", at(2024, 3, 5, 10, 20, 30, 500_000)),
        ("2024-03-05T10:20:30.123456789", at(2024, 3, 5, 10, 20, 30, 123_456)),
        ("2024/3/5 9:05", at(2024, 3, 5, 9, 5)),
        ("2024年3月5日 10:20:30", at(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05", at(2024, 3, 5)),
        ("2024-03-05T10:20:30+08:00", at(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T02:20:30Z", at(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T10:20:30-0500", at(2024, 3, 5, 23, 20, 30)),
        ("2024-12-31T20:00:00Z", at(2025, 1, 1, 4, 0, 0)),
    ],
)
def test_timestamps_in_the_accepted_forms(text: str, expected: dt.datetime) -> None:
    row = one("T", text)
    assert (row["值"], row["_error"]) == (expected, None)


@pytest.mark.parametrize(
    "text", ["2024-03-05 24:00:00", "2024-03-05 10:60:00", "2024-03-05 10:20:60", "2024-02-30 10:00", "now"]
)
def test_timestamps_that_are_refused(text: str) -> None:
    assert one("T", text)["_error"] == f"无法转换为日期时间：{text}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("是", True), ("否", False), ("TRUE", True), ("false", False), ("1", True), ("0", False),
     ("Y", True), ("n", False), ("T", True), ("f", False), ("yes", True), ("No", False)],
)  # fmt: skip
def test_booleans(text: str, expected: bool) -> None:
    assert one("L", text)["值"] is expected


def test_a_boolean_that_is_not_one_is_refused() -> None:
    assert one("L", "也许")["_error"] == "无法转换为逻辑值：也许"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12.0), ("-3.5", -3.5), (".5", 0.5), ("1e3", 1000.0), ("+7", 7.0), ("1,234,567.5", 1234567.5), ("5.", 5.0)],
)
def test_numbers(text: str, expected: float) -> None:
    assert one("N", text)["值"] == expected


@pytest.mark.parametrize("text", ["1,23", "12a", "inf", "NaN", "0x10", "1d", "1e400", "--1", "1 000"])
def test_numbers_that_are_refused(text: str) -> None:
    assert one("N", text)["_error"] == f"无法转换为数值：{text}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.3", Decimal("12.30")),
        ("￥1,234.50", Decimal("1234.50")),
        ("¥-3", Decimal("-3.00")),
        ("1.2300", Decimal("1.23")),
    ],
)
def test_money(text: str, expected: Decimal) -> None:
    assert one("Y", text)["值"] == expected


def test_money_with_more_than_two_decimals_is_refused_not_rounded() -> None:
    assert one("Y", "12.345")["_error"] == "无法转换为货币金额：12.345"


def test_binary_is_hex_or_base64_text() -> None:
    rows = values("B", ["0xCAFE", "cafe", "aGVsbG8=", "不是"])
    assert [r["值"] for r in rows] == ["0xCAFE", "cafe", "aGVsbG8=", None]
    assert rows[3]["_error"] == "无法转换为十六进制或 Base64 文本：不是"


def test_text_longer_than_the_item_length() -> None:
    row = one("C", "一二三四五六", length=5)
    assert (row["值"], row["_error_column"], row["_error"]) == ("一二三四五六", "值", "超过长度 5（实际 6）")


def test_lengths_count_characters_not_bytes() -> None:
    # 15 bytes of UTF-8 within a length of 5 characters, and within a platform limit of 5.
    rows = run([ColumnSpec("x", "值", "C", 5)], [{"x": "一二三四五"}, {"x": "一二三四五六"}], max_field_chars=5)
    assert [r["_error"] for r in rows] == [None, "超过单个字段最大长度 5"]


def test_a_number_with_more_digits_than_the_item_length() -> None:
    assert one("N", "-1234.56", length=5)["_error"] == "超过长度 5（实际 6 位数字）"
    assert one("N", "-123.45", length=5)["_error"] is None


def test_required_item_empty() -> None:
    assert one("C", "  ", required=True)["_error"] == "必填项为空"


def test_nul_character() -> None:
    assert one("C", "a\x00b")["_error"] == "含空字符（NUL）"


def test_field_longer_than_the_platform_limit() -> None:
    rows = run([ColumnSpec("x", "值", "M")], [{"x": "长" * 11}, {"x": "长" * 10}], max_field_chars=10)
    assert [r["_error"] for r in rows] == ["超过单个字段最大长度 10", None]


def test_a_long_bad_value_is_quoted_shortened() -> None:
    assert one("D", "x" * 100)["_error"] == "无法转换为日期：" + "x" * 40 + "…"


def test_the_first_failing_column_is_reported() -> None:
    specs = [ColumnSpec("a", "甲", "C"), ColumnSpec("b", "乙", "D"), ColumnSpec("c", "丙", "N", required=True)]
    [row] = run(specs, [{"a": "好", "b": "坏日期", "c": ""}])
    assert (row["_error_column"], row["_error"]) == ("乙", "无法转换为日期：坏日期")
    [row] = run(specs, [{"a": "好", "b": "2024-01-01", "c": ""}])
    assert (row["_error_column"], row["_error"]) == ("丙", "必填项为空")


def test_names_with_quotes_and_one_source_column_mapped_twice() -> None:
    specs = [ColumnSpec('a"b', "名'称", "C"), ColumnSpec('a"b', "名称 2", "N")]
    [row] = run(specs, [{'a"b': "x"}])
    assert (row["名'称"], row["名称 2"], row["_error_column"]) == ("x", None, "名称 2")


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "字段映射为空"),
        ([ColumnSpec("a", "_row", "C")], "系统保留字段名"),
        ([ColumnSpec("a", "名称", "C"), ColumnSpec("b", "名称", "N")], "被映射了两次"),
        ([ColumnSpec("a", "名称", "Q")], "数据类型“Q”未知"),
    ],
)
def test_bad_mappings_are_refused(specs: list[ColumnSpec], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_transform_sql(specs, max_field_chars=10)


def test_spark_sql_is_the_transpiled_query() -> None:
    sql = build_transform_sql([ColumnSpec("t", "时间", "T"), ColumnSpec("n", "数", "N")], max_field_chars=10)
    spark_sql = transform_sql_for("spark", sql)
    assert "make_dt_interval" in spark_sql.lower() and "to_minutes" not in spark_sql.lower()
    assert "`时间`" in spark_sql and "RLIKE" in spark_sql
    sqlglot.parse_one(spark_sql, read="spark")  # valid Spark SQL for SQLGlot too
    assert transform_sql_for("duckdb", sql) == sql
    with pytest.raises(ValueError, match="未知的计算引擎"):
        transform_sql_for("oracle", sql)


# Property tests: the SQL against a small reference of the documented rules.

_DATE_FORMS = [
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d}",
    lambda d: f"{d.year}-{d.month}-{d.day}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}-{d.month:02d}-{d.day:02d} 00:00:00",
]
_dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
_padding = st.sampled_from(["", " ", "\t", "\u3000", "\r\n"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_dates, st.sampled_from(_DATE_FORMS), _padding, _padding), min_size=1, max_size=40))
def test_every_date_written_in_an_accepted_form_is_read_back(cases: list) -> None:
    rows = values("D", [left + form(d) + right for d, form, left, right in cases])
    assert [r["值"] for r in rows] == [d for d, *_ in cases]
    assert all(r["_error"] is None for r in rows)


def _reference_date(text: str) -> dt.date | None:
    m = re.fullmatch(r"([1-9]\d{3})(\d{2})(\d{2})", text) or re.fullmatch(
        r"([1-9]\d{3})(?:-(\d{1,2})-(\d{1,2})(?: +00:00(?::00(?:\.0+)?)?)?"
        r"|/(\d{1,2})/(\d{1,2})(?: +00:00(?::00(?:\.0+)?)?)?"
        r"|\.(\d{1,2})\.(\d{1,2})|年(\d{1,2})月(\d{1,2})日)",
        text,
    )
    if m is None:
        return None
    year, *rest = (int(g) for g in m.groups() if g is not None)
    try:
        return dt.date(year, rest[0], rest[1])
    except ValueError:
        return None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="0123456789-/.年月日 :1", min_size=1, max_size=14), min_size=1, max_size=40))
def test_any_text_is_read_as_a_date_exactly_when_the_rules_say_so(texts: list[str]) -> None:
    rows = values("D", texts)
    for text, row in zip(texts, rows, strict=True):
        expected = _reference_date(text.strip(" "))
        if text.strip(" ") == "":
            assert row["值"] is None and row["_error"] is None
        elif expected is None:
            assert row["值"] is None and row["_error"] == f"无法转换为日期：{text.strip(' ')}"[: 8 + 40] + (
                "…" if len(text.strip(" ")) > 40 else ""
            )
        else:
            assert (row["值"], row["_error"]) == (expected, None)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=at(1900, 1, 2), max_value=at(2100, 12, 30)),
            st.sampled_from([" ", "T"]),
            st.one_of(st.none(), st.integers(min_value=-12 * 60, max_value=14 * 60).map(lambda m: m - m % 15)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_every_timestamp_with_or_without_offset_is_read_back(cases: list) -> None:
    texts = []
    expected = []
    for moment, separator, offset in cases:
        text = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S.%f")
        if offset is None:
            expected.append(moment)
        else:
            sign = "-" if offset < 0 else "+"
            text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
            expected.append(moment - dt.timedelta(minutes=offset) + dt.timedelta(hours=8))
        texts.append(text)
    assert [r["值"] for r in values("T", texts)] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
def test_every_finite_double_is_read_back_exactly(numbers: list[float]) -> None:
    rows = values("N", [repr(x) for x in numbers])
    assert [r["值"] for r in rows] == numbers


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=-(10**15), max_value=10**15), min_size=1, max_size=40))
def test_integers_with_thousands_separators(numbers: list[int]) -> None:
    assert [r["值"] for r in values("N", [f"{n:,}" for n in numbers])] == [float(n) for n in numbers]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(min_value=-(10**9), max_value=10**9), st.integers(0, 3)), min_size=1, max_size=40)
)
def test_the_length_of_a_number_counts_its_digits(cases: list[tuple[int, int]]) -> None:
    texts = [f"{n}.{'5' * decimals}" if decimals else str(n) for n, decimals in cases]
    for (n, decimals), row in zip(cases, values("N", texts, length=6), strict=True):
        digits = len(str(abs(n))) + decimals
        expected = None if digits <= 6 else f"超过长度 6（实际 {digits} 位数字）"
        assert row["_error"] == expected


def _reference_number(text: str) -> float | None:
    if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
        number = float(text)
    elif re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        number = float(text.replace(",", ""))
    else:
        return None
    return number if abs(number) != float("inf") else None


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="0123456789+-.,eE xa", min_size=1, max_size=12), min_size=1, max_size=40))
def test_any_text_is_read_as_a_number_exactly_when_the_rules_say_so(texts: list[str]) -> None:
    texts = [t for t in texts if t.strip(" ")]
    if not texts:
        return
    for text, row in zip(texts, values("N", texts), strict=True):
        assert row["值"] == _reference_number(text.strip(" "))
        assert (row["_error"] is None) == (row["值"] is not None)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=Decimal("-9999999999999999.99"), max_value=Decimal("9999999999999999.99"), places=2),
        min_size=1,
        max_size=40,
    )
)
def test_every_two_decimal_amount_is_read_back_exactly(amounts: list[Decimal]) -> None:
    assert [r["值"] for r in values("Y", [str(a) for a in amounts])] == amounts


_BOOLEANS = {"是": True, "否": False, "true": True, "false": False, "t": True, "f": False, "yes": True, "no": False,
             "y": True, "n": False, "1": True, "0": False}  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(_BOOLEANS)), st.randoms()), min_size=1, max_size=30))
def test_booleans_in_any_case(cases: list) -> None:
    texts = ["".join(c.upper() if rnd.random() < 0.5 else c for c in word) for word, rnd in cases]
    assert [r["值"] for r in values("L", texts)] == [_BOOLEANS[word] for word, _ in cases]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="是否真假truefalsyoTRUEFALSYNO10 x", min_size=1, max_size=6), min_size=1, max_size=30))
def test_any_text_is_a_boolean_exactly_when_it_is_one_of_the_words(texts: list[str]) -> None:
    for text, row in zip(texts, values("L", texts), strict=True):
        word = text.strip(" ").lower()
        assert row["值"] == _BOOLEANS.get(word)
        assert (row["_error"] is None) == (word == "" or word in _BOOLEANS)

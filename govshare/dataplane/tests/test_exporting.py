"""Downloads in every format: the same table comes back (Chinese text, nulls, dates, decimals), streamed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.dataplane import exporting
from govshare.dataplane.exporting import export_file, stream_csv, stream_json, stream_parquet, stream_xlsx


def naive(text: str) -> dt.datetime:
    """A date-time without a zone, as a table's `timestamp` column without a zone holds it."""
    return dt.datetime.fromisoformat(text)


SCHEMA = pa.schema(
    [
        ("_row", pa.int64()),
        ("姓名", pa.string()),
        ("出生日期", pa.date32()),
        ("登记时间", pa.timestamp("us")),
        ("月收入", pa.decimal128(18, 2)),
        ("人数", pa.int64()),
        ("是否在册", pa.bool_()),
    ]
)
ROWS: list[dict[str, Any]] = [
    {
        "_row": 2,
        "姓名": "张三",
        "出生日期": dt.date(1949, 12, 31),
        "登记时间": naive("2024-01-02 03:04:05"),
        "月收入": Decimal("12345.67"),
        "人数": 3,
        "是否在册": True,
    },
    {"_row": 3, "姓名": None, "出生日期": None, "登记时间": None, "月收入": None, "人数": None, "是否在册": None},
    {
        "_row": 4,
        "姓名": '欧阳娜娜，"引号"\n换行',
        "出生日期": dt.date(2000, 2, 29),
        "登记时间": naive("2025-12-31 23:59:59"),
        "月收入": Decimal("-0.01"),
        "人数": 0,
        "是否在册": False,
    },
]
NAMES = ["姓名", "出生日期", "登记时间", "月收入", "人数", "是否在册"]


def reader(rows: list[dict[str, Any]] = ROWS) -> pa.RecordBatchReader:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    return pa.RecordBatchReader.from_batches(SCHEMA, table.to_batches(max_chunksize=1))


def without_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "_row"}


def test_csv_round_trip_with_bom_header_and_nulls() -> None:
    data = b"".join(stream_csv(reader()))
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert lines[0] == NAMES
    assert lines[1] == ["张三", "1949-12-31", "2024-01-02 03:04:05", "12345.67", "3", "true"]
    assert lines[2] == ["", "", "", "", "", ""]
    assert lines[3] == ['欧阳娜娜，"引号"\n换行', "2000-02-29", "2025-12-31 23:59:59", "-0.01", "0", "false"]


def test_csv_keeps_a_null_apart_from_empty_text() -> None:
    rows = [{**ROWS[1], "姓名": ""}, ROWS[1]]
    body = b"".join(stream_csv(reader(rows))).decode("utf-8-sig").splitlines()[1:]
    assert body == ['"",,,,,', ",,,,,"]


def test_csv_text_that_would_run_as_a_formula_gets_an_apostrophe_but_numbers_do_not() -> None:
    rows = [{**ROWS[1], "姓名": value} for value in ("=HYPERLINK(1)", "@SUM(A1)", "-5", "+8613800138000", "-")]
    body = list(csv.reader(io.StringIO(b"".join(stream_csv(reader(rows))).decode("utf-8-sig"))))
    assert [line[0] for line in body[1:]] == ["'=HYPERLINK(1)", "'@SUM(A1)", "-5", "+8613800138000", "'-"]


def test_csv_full_width_formula_starts_get_an_apostrophe_too() -> None:
    rows = [{**ROWS[1], "姓名": value} for value in ("＝1+1", "＠SUM(A1)", "－1")]
    body = list(csv.reader(io.StringIO(b"".join(stream_csv(reader(rows))).decode("utf-8-sig"))))
    assert [line[0] for line in body[1:]] == ["'＝1+1", "'＠SUM(A1)", "'－1"]


def test_csv_header_that_would_run_as_a_formula_gets_an_apostrophe() -> None:
    schema = pa.schema([("=HYPERLINK(1)", pa.string()), ("姓名", pa.string())])
    data = b"".join(stream_csv(pa.RecordBatchReader.from_batches(schema, [])))
    assert data.decode("utf-8-sig") == '"\'=HYPERLINK(1)","姓名"\n'


def test_json_round_trip_exact_decimals_and_iso_dates() -> None:
    data = b"".join(stream_json(reader()))
    assert "张三".encode() in data  # ensure_ascii=False
    parsed = json.loads(data, parse_float=Decimal)
    assert parsed[0] == {
        "姓名": "张三",
        "出生日期": "1949-12-31",
        "登记时间": "2024-01-02T03:04:05",
        "月收入": Decimal("12345.67"),
        "人数": 3,
        "是否在册": True,
    }
    assert parsed[1] == dict.fromkeys(NAMES)
    assert parsed[2]["姓名"] == '欧阳娜娜，"引号"\n换行'
    assert parsed[2]["月收入"] == Decimal("-0.01")


def test_json_of_an_empty_version_is_an_empty_array() -> None:
    assert json.loads(b"".join(stream_json(reader([])))) == []


def test_json_writes_nan_as_null() -> None:
    schema = pa.schema([("值", pa.float64())])
    batches = pa.Table.from_pylist([{"值": float("nan")}, {"值": 1.5}], schema=schema).to_batches()
    parsed = json.loads(b"".join(stream_json(pa.RecordBatchReader.from_batches(schema, batches))))
    assert parsed == [{"值": None}, {"值": 1.5}]


def test_parquet_round_trip_keeps_types() -> None:
    table = pq.read_table(io.BytesIO(b"".join(stream_parquet(reader()))))
    assert table.schema.names == NAMES
    assert table.schema.field("月收入").type == pa.decimal128(18, 2)
    assert table.to_pylist() == [without_row(row) for row in ROWS]


def test_xlsx_round_trip_with_real_dates_and_text() -> None:
    book = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader()))))
    assert book.sheetnames == ["数据"]
    values = list(book["数据"].values)
    assert values[0] == tuple(NAMES)
    assert values[1] == ("张三", naive("1949-12-31 00:00:00"), naive("2024-01-02 03:04:05"), 12345.67, 3, True)
    assert values[2] == (None,) * 6
    assert values[3][0] == '欧阳娜娜，"引号"\n换行'
    assert book["数据"]["B2"].is_date


def test_xlsx_text_starting_with_equals_stays_text() -> None:
    rows = [{**ROWS[1], "姓名": "=1+1"}]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader(rows)))))["数据"]
    assert sheet["A2"].value == "=1+1"
    assert sheet["A2"].data_type == "s"


def test_xlsx_drops_characters_xml_cannot_hold() -> None:
    rows = [{**ROWS[1], "姓名": "王\x00五\x1f"}]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader(rows)))))["数据"]
    assert sheet["A2"].value == "王五"


def test_xlsx_continues_on_a_new_sheet_after_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporting, "XLSX_MAX_ROWS", 3)  # header + 2 rows per sheet
    rows = [{**ROWS[0], "人数": n} for n in range(5)]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader(rows)))))
    assert book.sheetnames == ["数据", "数据(2)", "数据(3)"]
    counts = [[row[4] for row in list(book[name].values)[1:]] for name in book.sheetnames]
    assert counts == [[0, 1], [2, 3], [4]]
    assert all(next(iter(book[name].values)) == tuple(NAMES) for name in book.sheetnames)


def test_only_the_asked_columns_in_their_order() -> None:
    data = b"".join(stream_csv(reader(), ["月收入", "姓名"])).decode("utf-8-sig").splitlines()
    assert data[:2] == ['"月收入","姓名"', '12345.67,"张三"']


def test_an_unknown_column_is_refused() -> None:
    with pytest.raises(ValueError, match="没有字段：籍贯"):
        list(stream_csv(reader(), ["籍贯"]))


def test_export_file_names_and_content_types() -> None:
    export = export_file(reader(), "xlsx", resource_code="101000000001", version=7)
    assert export.filename == "101000000001_v7.xlsx"
    assert export.content_type.startswith("application/vnd.openxmlformats")
    assert export.content_disposition == 'attachment; filename="101000000001_v7.xlsx"'


def test_a_chinese_file_name_is_sent_as_rfc_5987() -> None:
    export = export_file(reader(), "csv", resource_code="人口", version=1)
    assert export.content_disposition == "attachment; filename*=utf-8''%E4%BA%BA%E5%8F%A3_v1.csv"


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="不支持的下载格式"):
        export_file(reader(), "pdf", resource_code="1", version=1)


# --- streaming ------------------------------------------------------------------------------------------------------

BATCHES, BATCH_ROWS = 40, 2_000


class CountingSource:
    """A version of BATCHES batches that counts how many the writer has taken."""

    def __init__(self) -> None:
        self.taken = 0

    def batches(self) -> Iterator[pa.RecordBatch]:
        for n in range(BATCHES):
            self.taken += 1
            yield pa.RecordBatch.from_pylist(
                [
                    {**ROWS[0], "_row": n * BATCH_ROWS + i, "姓名": f"第{n}批第{i}行的居民", "人数": n * BATCH_ROWS + i}
                    for i in range(BATCH_ROWS)
                ],
                schema=SCHEMA,
            )

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(SCHEMA, self.batches())


@pytest.mark.parametrize("file_format", ["csv", "json", "xlsx", "parquet"])
def test_output_streams_while_the_input_is_read(file_format: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exporting, "PARQUET_ROW_GROUP_ROWS", BATCH_ROWS)
    source = CountingSource()
    sent_early = sent_total = 0
    for chunk in export_file(source.reader(), file_format, resource_code="1", version=1).chunks:
        sent_total += len(chunk)
        if source.taken < BATCHES:
            sent_early += len(chunk)
    assert source.taken == BATCHES
    assert sent_early > sent_total * 0.85  # all but the last batch's bytes (and the file's tail)


def test_xlsx_dates_before_excel_begins_are_written_as_text() -> None:
    rows = [{**ROWS[0], "出生日期": dt.date(1880, 1, 1), "登记时间": naive("1899-05-06 07:08:09")}]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader(rows)))))["数据"]
    assert (sheet["B2"].value, sheet["C2"].value) == ("1880-01-01", "1899-05-06 07:08:09")


def test_xlsx_zoned_times_are_shown_in_their_zone() -> None:
    schema = pa.schema([("时间", pa.timestamp("us", tz="Asia/Shanghai"))])
    utc = dt.datetime(2024, 1, 1, 16, 0, tzinfo=dt.UTC)
    batches = pa.Table.from_pylist([{"时间": utc}], schema=schema).to_batches()
    data = b"".join(stream_xlsx(pa.RecordBatchReader.from_batches(schema, batches)))
    assert openpyxl.load_workbook(io.BytesIO(data))["数据"]["A2"].value == naive("2024-01-02 00:00:00")


def test_xlsx_a_null_in_the_middle_keeps_the_next_values_in_their_columns() -> None:
    rows = [{**ROWS[0], "姓名": None, "出生日期": None, "是否在册": False}]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(stream_xlsx(reader(rows)))))["数据"]
    values = next(sheet.iter_rows(min_row=2, values_only=True))
    assert values == (None, None, naive("2024-01-02 03:04:05"), 12345.67, 3, False)


def test_json_zoned_times_carry_their_offset() -> None:
    schema = pa.schema([("时间", pa.timestamp("us", tz="Asia/Shanghai"))])
    utc = dt.datetime(2024, 1, 1, 16, 0, tzinfo=dt.UTC)
    batches = pa.Table.from_pylist([{"时间": utc}], schema=schema).to_batches()
    parsed = json.loads(b"".join(stream_json(pa.RecordBatchReader.from_batches(schema, batches))))
    assert dt.datetime.strptime(parsed[0]["时间"], "%Y-%m-%dT%H:%M:%S%z") == utc


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)


@given(st.lists(st.one_of(st.none(), TEXT), min_size=1, max_size=20))
def test_json_round_trips_any_text(values: list[str | None]) -> None:
    schema = pa.schema([("值", pa.string())])
    batches = pa.Table.from_pylist([{"值": v} for v in values], schema=schema).to_batches(max_chunksize=7)
    parsed = json.loads(b"".join(stream_json(pa.RecordBatchReader.from_batches(schema, batches))))
    assert [row["值"] for row in parsed] == values


@given(st.lists(st.one_of(st.none(), TEXT, st.sampled_from(["a\rb", "\r\n", " 前后空格 "])), min_size=1, max_size=10))
def test_xlsx_keeps_any_text_as_text_without_the_characters_xml_cannot_hold(values: list[str | None]) -> None:
    schema = pa.schema([("值", pa.string()), ("序号", pa.int64())])
    rows = [{"值": v, "序号": n} for n, v in enumerate(values)]
    batches = pa.Table.from_pylist(rows, schema=schema).to_batches()
    data = b"".join(stream_xlsx(pa.RecordBatchReader.from_batches(schema, batches)))
    read = list(openpyxl.load_workbook(io.BytesIO(data))["数据"].iter_rows(min_row=2, values_only=True))
    illegal = {chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)}
    expected = [None if v is None else "".join(c for c in v if c not in illegal) for v in values]
    assert [row[0] for row in read] == expected
    assert [row[1] for row in read] == list(range(len(values)))

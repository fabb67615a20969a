"""Submitted files read as raw streams: CSV/TSV faults, encodings, XLSX, JSON and JSON Lines."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govshare.dataplane.raw import BATCH_ROWS, ROW_COLUMN, Reject, SourceInvalid, raw_schema
from govshare.sources.choices import SourceKind
from govshare.sources.readers import open_source_stream, preview_source
from govshare.sources.readers.files import CsvStream
from govshare.sources.readers.rows import text_value

HEADER = "公民身份号码,姓名,住址\n"


def read(path: Path, **config: Any) -> tuple[list[dict[str, Any]], list[Reject], Any]:
    """Every row of a file (with its `_row`), the rejects, and the stream (for columns and stats)."""
    rejects: list[Reject] = []
    stream = open_source_stream(SourceKind.FILE, config, "", path=path, on_reject=rejects.append)
    rows: list[dict[str, Any]] = []
    try:
        for batch in stream.batches():
            assert batch.schema == raw_schema(stream.columns)
            assert batch.num_rows <= BATCH_ROWS
            rows.extend(batch.to_pylist())
    finally:
        stream.close()
    return rows, rejects, stream


def write(tmp_path: Path, data: bytes | str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def test_csv_rows_are_numbered_as_in_the_file_and_empty_fields_are_null(tmp_path):
    rows, rejects, stream = read(write(tmp_path, HEADER + "110101199001011234,张三,\n,李四,上海\n"))
    assert stream.columns == ["公民身份号码", "姓名", "住址"]
    assert rows == [
        {ROW_COLUMN: 2, "公民身份号码": "110101199001011234", "姓名": "张三", "住址": None},
        {ROW_COLUMN: 3, "公民身份号码": None, "姓名": "李四", "住址": "上海"},
    ]
    assert rejects == []


def test_ragged_rows_are_rejected_with_their_row_and_reading_goes_on(tmp_path):
    rows, rejects, stream = read(write(tmp_path, HEADER + "1,张三,北京\n2,李四\n3,王五,上海,多余,多余\n4,赵六,广州\n"))
    assert [r[ROW_COLUMN] for r in rows] == [2, 5]
    assert rejects == [
        Reject(3, "", "列数不符：应为 3 列，实际 2 列", "2,李四"),
        Reject(4, "", "列数不符：应为 3 列，实际 5 列", "3,王五,上海,多余,多余"),
    ]
    assert stream.stats.rows_read == 4


def test_row_numbers_stay_right_across_batches_after_a_ragged_row(tmp_path):
    lines = [f"{i},名{i},址" for i in range(BATCH_ROWS + 5000)]
    lines[BATCH_ROWS - 10] = "ragged"
    rows, rejects, _ = read(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    assert [r.row for r in rejects] == [BATCH_ROWS - 10 + 2]
    assert len(rows) == BATCH_ROWS + 4999
    assert all(row[ROW_COLUMN] == int(row["公民身份号码"]) + 2 for row in rows)


def test_a_bom_is_stripped(tmp_path):
    rows, _, stream = read(write(tmp_path, "\ufeff" + HEADER + "1,张三,北京\n"))
    assert stream.columns[0] == "公民身份号码"
    assert stream.stats.encoding == "UTF-8-SIG"
    assert rows[0]["公民身份号码"] == "1"


def test_mixed_line_endings_and_blank_lines_keep_row_numbers(tmp_path):
    rows, rejects, _ = read(write(tmp_path, HEADER + "1,张三,北京\r\n2,李四,上海\r3,王五,广州\n\n5,赵六,深圳\r\n"))
    assert [(r[ROW_COLUMN], r["姓名"]) for r in rows] == [(2, "张三"), (3, "李四"), (4, "王五"), (6, "赵六")]
    assert rejects == []


def test_quoted_newlines_stay_in_the_field_and_count_as_one_record(tmp_path):
    rows, _, _ = read(write(tmp_path, HEADER + '1,张三,"北京市\n东城区"\n2,"李""四",上海\n'))
    assert [(r[ROW_COLUMN], r["姓名"], r["住址"]) for r in rows] == [
        (2, "张三", "北京市\n东城区"),
        (3, '李"四', "上海"),
    ]


def test_only_empty_fields_are_null(tmp_path):
    rows, _, _ = read(write(tmp_path, HEADER + 'NA,NULL,""\nnan,N/A,null\n'))
    assert [list(r.values())[1:] for r in rows] == [["NA", "NULL", None], ["nan", "N/A", "null"]]


def test_a_nul_byte_inside_a_field_is_kept_as_data(tmp_path):
    rows, rejects, _ = read(write(tmp_path, HEADER + "1,张\x00三,北京\n"))
    assert rows[0]["姓名"] == "张\x00三"
    assert rejects == []


def test_a_very_long_field_is_read_whole(tmp_path):
    long = "长" * 2_000_000  # 6 MB: under the 8 MB block
    rows, _, _ = read(write(tmp_path, HEADER + f"1,张三,{long}\n"))
    assert rows[0]["住址"] == long


def test_an_unclosed_quote_is_reported(tmp_path):
    path = write(tmp_path, HEADER + '1,"张三,北京\n' + "2,李四,上海\n" * 20_000)
    stream = CsvStream(path, {}, lambda reject: None, None, tsv=False, block_size=1 << 16)
    with pytest.raises(SourceInvalid, match="引号没有闭合"):
        list(stream.batches())
    stream.close()


def test_duplicate_header_names_are_refused_naming_both_columns(tmp_path):
    with pytest.raises(SourceInvalid, match="重复的列名“姓名”：第 2 列和第 4 列"):
        read(write(tmp_path, "公民身份号码,姓名,住址,姓名\n1,张三,北京,张三\n"))


def test_an_empty_header_name_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match="第 2 列的列名为空"):
        read(write(tmp_path, "公民身份号码,,住址\n1,张三,北京\n"))


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match=r"上传的文件“gone\.csv”不存在"):
        read(tmp_path / "gone.csv")


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match="文件为空"):
        read(write(tmp_path, b""))


def test_a_header_only_file_has_columns_and_no_rows(tmp_path):
    rows, rejects, stream = read(write(tmp_path, HEADER))
    assert stream.columns == ["公民身份号码", "姓名", "住址"]
    assert rows == [] and rejects == []


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8-SIG"), ("gbk", "GBK"), ("gb18030", "GB18030"), ("utf-16", "UTF-16")],
)
def test_files_in_each_encoding_read_the_same(tmp_path, encoding, detected):
    name = "张𠀀" if encoding == "gb18030" else "张三"
    text = HEADER + f"1,{name},北京市东城区\n2,李四,上海市徐汇区\n"
    path = write(tmp_path, text, encoding=encoding)
    rows, _, stream = read(path)
    assert stream.stats.encoding == detected
    assert [r["姓名"] for r in rows] == [name, "李四"]
    assert stream.stats.bytes_read == path.stat().st_size
    assert stream.stats.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bytes_that_do_not_decode_reject_their_row_only(tmp_path):
    data = HEADER.encode("gbk") + "1,张三,北京\n".encode("gbk") + b"2,\x81\x20,x\n" + "3,王五,广州\n".encode("gbk")
    rows, rejects, _ = read(write(tmp_path, data))
    assert [r[ROW_COLUMN] for r in rows] == [2, 4]
    assert [(r.row, r.column) for r in rejects] == [(3, "姓名")]
    assert "无法按 GBK 编码识别" in rejects[0].reason


def test_an_undecodable_byte_after_megabytes_of_gbk_rejects_its_row_only(tmp_path):
    # Some 9 MB of good rows come first: the transcoder has sent whole chunks, and the CSV reader parsed batches,
    # before the bad byte; the rows after it are read as well.
    good = "1,张三,四川省德阳市旌阳区长江西路一段十八号\n".encode("gbk")
    count = 9_000_000 // len(good)
    data = HEADER.encode("gbk") + good * count + b"2,\x81\x20,x\n" + good * 3
    rows, rejects, _ = read(write(tmp_path, data))
    assert len(rows) == count + 3
    assert [(r.row, r.column) for r in rejects] == [(count + 2, "姓名")]


def test_invalid_utf8_later_in_a_utf8_file_rejects_its_row(tmp_path):
    data = (HEADER + "1,张三,北京\n" * 1000).encode() + b"2,\xff\xfe,x\n" + "3,王五,广州\n".encode()
    rows, rejects, stream = read(write(tmp_path, data))
    assert stream.stats.encoding == "UTF-8"
    assert len(rows) == 1001 and rows[-1][ROW_COLUMN] == 1003
    assert [(r.row, r.column, r.value) for r in rejects] == [(1002, "姓名", "\ufffd\ufffd")]


def test_the_encoding_can_be_set_by_the_source(tmp_path):
    path = write(tmp_path, "name\nMüller\n", encoding="latin-1")
    rows, _, stream = read(path, encoding="latin-1")
    assert stream.stats.encoding == "latin-1"
    assert rows[0]["name"] == "Müller"


def test_tsv(tmp_path):
    rows, _, stream = read(write(tmp_path, "编号\t名称\n1\t甲,乙\n", name="data.tsv"))
    assert stream.columns == ["编号", "名称"]
    assert rows[0]["名称"] == "甲,乙"


def test_other_delimiters(tmp_path):
    rows, _, _ = read(write(tmp_path, "编号|名称\n1|甲\n"), delimiter="|")
    assert rows[0]["名称"] == "甲"
    rows, _, _ = read(write(tmp_path, "编号\t名称\n1\t甲\n"), delimiter="tab")
    assert rows[0]["名称"] == "甲"
    with pytest.raises(SourceInvalid, match="分隔符“,,”无效"):
        read(write(tmp_path, "编号,名称\n"), delimiter=",,")


def test_a_column_named_like_the_row_number_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match="系统保留"):
        read(write(tmp_path, "_row,名称\n1,甲\n"))


def test_preview_reads_the_first_rows_and_reports_rejects(tmp_path):
    path = write(tmp_path, HEADER + "1,张三,北京\n2,李四\n" + "3,王五,广州\n" * 100, encoding="gbk")
    preview = preview_source(SourceKind.FILE, {"format": "csv"}, "", path=path, rows=3)
    assert preview.columns == ["公民身份号码", "姓名", "住址"]
    assert preview.rows == [["1", "张三", "北京"], ["3", "王五", "广州"], ["3", "王五", "广州"]]
    assert preview.encoding == "GBK"
    assert "第 3 行" in preview.warnings[0]


# Excel has no time zones.
EXCEL_MIDNIGHT = dt.datetime(1985, 12, 1)  # noqa: DTZ001
EXCEL_MORNING = dt.datetime(2024, 5, 6, 8, 30)  # noqa: DTZ001


def _workbook(path: Path, rows: list[list[Any]], sheet: str = "Sheet") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_xlsx_dates_numbers_and_sheet_rows(tmp_path):
    path = _workbook(
        tmp_path / "people.xlsx",
        [
            ["姓名", "出生日期", "登记时间", "人数", "比例"],
            ["张三", dt.date(1990, 1, 31), EXCEL_MORNING, 3.0, 0.25],
            [None, None, None, None, None],
            ["李四", EXCEL_MIDNIGHT, None, 12, None],
        ],
    )
    rows, _, stream = read(path)
    assert stream.columns == ["姓名", "出生日期", "登记时间", "人数", "比例"]
    assert rows == [
        {
            ROW_COLUMN: 2,
            "姓名": "张三",
            "出生日期": "1990-01-31",
            "登记时间": "2024-05-06T08:30:00",
            "人数": "3",
            "比例": "0.25",
        },
        {ROW_COLUMN: 4, "姓名": "李四", "出生日期": "1985-12-01", "登记时间": None, "人数": "12", "比例": None},
    ]
    assert stream.stats.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_xlsx_named_sheet_and_ragged_row(tmp_path):
    path = tmp_path / "two.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["其他"])
    ws = book.create_sheet("人口")
    for row in (["姓名", "住址"], ["张三", "北京"], ["李四", "上海", "多余"]):
        ws.append(row)
    book.save(path)
    rows, rejects, _ = read(path, sheet="人口")
    assert [r["姓名"] for r in rows] == ["张三"]
    assert [(r.row, r.reason) for r in rejects] == [(3, "列数不符：应为 2 列，实际 3 列")]
    with pytest.raises(SourceInvalid, match="没有名为“户籍”的工作表"):
        read(path, sheet="户籍")


def test_xlsx_duplicate_header_is_refused(tmp_path):
    path = _workbook(tmp_path / "dup.xlsx", [["姓名", "姓名"], ["a", "b"]])
    with pytest.raises(SourceInvalid, match="第 1 列和第 2 列"):
        read(path)


def test_a_file_that_is_not_xlsx_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match="不是有效的 Excel"):
        read(write(tmp_path, "a,b\n", name="x.xlsx"))


def test_json_array_with_nested_values(tmp_path):
    records = [
        {"姓名": "张三", "年龄": 30, "收入": 1234.50, "标签": ["a", "b"], "地址": {"市": "北京"}, "在职": True},
        {"姓名": "李四", "年龄": None},
    ]
    text = json.dumps(records, ensure_ascii=False).replace("1234.5", "1234.50")
    rows, _, stream = read(write(tmp_path, text, name="people.json"))
    assert stream.columns == ["姓名", "年龄", "收入", "标签", "地址", "在职"]
    assert rows[0] == {
        ROW_COLUMN: 1, "姓名": "张三", "年龄": "30", "收入": "1234.50",
        "标签": '["a","b"]', "地址": '{"市":"北京"}', "在职": "true",
    }  # fmt: skip
    assert rows[1][ROW_COLUMN] == 2 and rows[1]["收入"] is None


def test_json_records_path_and_new_keys_warning(tmp_path):
    records = [{"id": i} for i in range(1100)] + [{"id": 1100, "新字段": "x"}]
    text = json.dumps({"code": 0, "data": {"list": records}})
    rows, _, stream = read(write(tmp_path, text, name="api.json"), records_path="$.data.list[*]")
    assert stream.columns == ["id"] and len(rows) == 1101
    assert stream.stats.warnings == ["第 1101 条记录起出现了新的字段（如“新字段”），前 1000 条记录中没有，已忽略"]


def test_json_without_the_records_array_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match=r"路径“data\.rows”下没有记录数组"):
        read(write(tmp_path, '{"data": {"list": []}}', name="x.json"), records_path="data.rows")


def test_broken_json_is_refused(tmp_path):
    with pytest.raises(SourceInvalid, match="JSON 文件格式错误"):
        read(write(tmp_path, '[{"a": 1}, {"a": ', name="x.json"))


def test_jsonl_bad_line_is_rejected_and_reading_goes_on(tmp_path):
    text = '{"姓名": "张三", "年龄": 30}\n{"姓名": "李四",\n\n[1, 2]\n{"姓名": "王五"}\n'
    rows, rejects, stream = read(write(tmp_path, text, name="people.jsonl"))
    assert [(r[ROW_COLUMN], r["姓名"]) for r in rows] == [(1, "张三"), (5, "王五")]
    assert [r.row for r in rejects] == [2, 4]
    assert rejects[0].reason.startswith("不是合法的 JSON：")
    assert rejects[1].reason.startswith("不是 JSON 对象")
    assert stream.stats.rows_read == 4


def test_gbk_jsonl_is_transcoded(tmp_path):
    rows, _, stream = read(write(tmp_path, '{"姓名": "张三"}\n', name="p.jsonl", encoding="gbk"))
    assert stream.stats.encoding == "GBK"
    assert rows[0]["姓名"] == "张三"


GBK_TEXT = st.text(alphabet=st.sampled_from([*"甲乙丙丁张三李四北京上海，。“”", *"abcXYZ019 ,;\"'\t\n\r"]), max_size=12)
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)


def _roundtrip(tmp_path: Path, records: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([["姓名", "住址", "备注"], *records])
    rows, rejects, _ = read(write(tmp_path, buffer.getvalue(), encoding=encoding))
    expected = [
        {ROW_COLUMN: number, "姓名": a or None, "住址": b or None, "备注": c or None}
        for number, (a, b, c) in enumerate(records, start=2)
        if a or b or c
    ]
    assert rejects == []
    assert rows == expected


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(GBK_TEXT, min_size=3, max_size=3), max_size=8), st.sampled_from(["gbk", "utf-8", "utf-16"]))
def test_any_csv_written_by_python_reads_back_the_same(tmp_path, records, encoding):
    _roundtrip(tmp_path, records, encoding)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(ANY_TEXT, min_size=3, max_size=3), max_size=8))
def test_any_utf8_csv_reads_back_the_same(tmp_path, records):
    _roundtrip(tmp_path, records, "utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sets(st.integers(min_value=0, max_value=299), max_size=60))
def test_row_numbers_are_right_whatever_rows_are_ragged(tmp_path, ragged):
    lines = ["坏" if i in ragged else f"{i},名{i},址" for i in range(300)]
    path = write(tmp_path, HEADER + "\n".join(lines) + "\n")
    rejects = []
    stream = CsvStream(path, {}, rejects.append, None, tsv=False, block_size=512)  # many small blocks
    rows = [row for batch in stream.batches() for row in batch.to_pylist()]
    stream.close()
    assert [row[ROW_COLUMN] for row in rows] == [int(row["公民身份号码"]) + 2 for row in rows]
    assert [reject.row for reject in rejects] == sorted(i + 2 for i in ragged)
    assert len(rows) == 300 - len(ragged)


def test_stopping_early_leaves_no_reader_thread_behind(tmp_path):
    # A preview stops after the first rows; pyarrow's read-ahead thread must be stopped before the
    # interpreter exits (it used to call into Python during finalization and abort the process).
    path = write(tmp_path, HEADER + ("1,张三,北京\n" * 99 + "2,李四\n") * 30_000, encoding="gbk")
    script = (
        "from pathlib import Path; from govshare.sources.readers import preview_source; "
        f"print(preview_source('file', {{'format': 'csv'}}, '', path=Path({str(path)!r})).rows[0])"
    )
    for _ in range(3):  # the abort was a race: about one run in three
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "['1', '张三', '北京']"


JSON_VALUES = st.none() | st.booleans() | st.integers() | ANY_TEXT


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({"编号": st.integers(), "名称": JSON_VALUES, "备注": JSON_VALUES}), min_size=1))
def test_any_json_lines_read_back_as_text(tmp_path, records):
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    rows, rejects, stream = read(write(tmp_path, text, name="any.jsonl"))
    assert stream.columns == list(records[0]) and rejects == []  # first-seen order
    assert rows == [
        {ROW_COLUMN: number, **{key: text_value(value) for key, value in record.items()}}
        for number, record in enumerate(records, start=1)
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        ("", None),
        ("北京", "北京"),
        (True, "true"),
        (12, "12"),
        (3.0, "3"),
        (0.1, "0.1"),
        (Decimal("1234.500"), "1234.500"),
        (Decimal("1E+3"), "1000"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (EXCEL_MIDNIGHT, "1985-12-01"),
        (dt.datetime(2024, 5, 6, 8, 30, tzinfo=dt.UTC), "2024-05-06T08:30:00+00:00"),
        (dt.time(8, 30), "08:30:00"),
        (b"\x00\xff", "00ff"),
        ({"a": [1, Decimal("2.50")]}, '{"a":[1,2.50]}'),
    ],
)
def test_source_values_as_text(value, text):
    assert text_value(value) == text

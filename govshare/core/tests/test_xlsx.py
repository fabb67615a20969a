"""The one .xlsx reader: values as openpyxl reads them, the guard in front of the parser, the parts bounded by what
they are, merged ranges and formulas without a result."""

from __future__ import annotations

import datetime as dt
import io
import os
import zipfile
from collections.abc import Sequence
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from govshare.core.tabular import xlsx
from govshare.core.tabular.xlsx import NoCachedValue, XlsxLimits, XlsxRefused, fill_merged, open_workbook
from govshare.testing import bombs
from govshare.testing.xlsx_files import with_shared_strings

LIMITS = XlsxLimits(member_bytes=64 * bombs.MIB, total_bytes=128 * bombs.MIB, ratio=100, part_bytes=8 * bombs.MIB)


def _save(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rows(data: bytes, *, dates: bool = True, limits: XlsxLimits = LIMITS) -> list[list[Any]]:
    with (
        open_workbook(io.BytesIO(data), limits=limits) as book,
        book.open_sheet(next(iter(book.sheets)), dates=dates) as sheet,
    ):
        return [values for _, values in sheet.rows()]


def _sheet(xml: bytes, strings: bytes | None = None) -> bytes:
    member = bombs.Member("xl/worksheets/sheet1.xml", head=bombs.SHEET_HEAD + xml + bombs.SHEET_TAIL)
    table = (
        bombs.Member("xl/sharedStrings.xml", head=bombs.STRINGS_HEAD + strings + bombs.STRINGS_TAIL)
        if strings
        else None
    )
    return bombs.one_sheet_workbook(member, strings=table)


# ---------------------------------------------------------------------------------------------- values


def _key(value: Any) -> tuple[str, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "number", float(value)
    return type(value).__name__, value


def _trimmed(row: Sequence[Any]) -> list[tuple[str, Any]]:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return [_key(v) for v in values]


_TEXT = (
    st.text(min_size=1, max_size=30)
    .map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t))
    .filter(lambda t: t and not t.startswith("="))
)
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),  # noqa: DTZ001
    st.times(),
)


@given(st.lists(st.lists(_VALUE, min_size=1, max_size=6), min_size=1, max_size=8), st.booleans())
def test_values_are_those_openpyxl_reads(rows: list[list[Any]], shared: bool) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    data = _save(book)
    if shared:
        data = with_shared_strings(data)
    expected = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
    wanted = [_trimmed(r) for r in expected.iter_rows(values_only=True)]  # type: ignore[union-attr]
    ours = [_trimmed(r) for r in _rows(data)]
    assert [r for r in ours if r] == [r for r in wanted if r]


def test_rich_text_is_joined_and_phonetic_runs_are_left_out() -> None:
    strings = (
        b"<si><r><t>\xe5\xb8\x82\xe5\x85\xac</t></r><r><rPr><b/></rPr><t>\xe5\xae\x89\xe5\xb1\x80</t></r>"
        b"<rPh sb='0' eb='1'><t>\xe3\x81\x97</t></rPh></si>"
    )
    rows = _rows(_sheet(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>', strings))
    assert rows == [["市公安局"]]


def test_the_first_rows_read_only_the_start_of_the_shared_strings() -> None:
    # What a preview of the first rows costs does not grow with the table (strings are numbered in order of use).
    strings = b"".join(b"<si><t>%d</t></si>" % n for n in range(100_000))
    cells = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (n + 1, n + 1, n) for n in range(100_000))
    data = _sheet(cells, strings)
    with open_workbook(io.BytesIO(data), limits=LIMITS) as book, book.open_sheet("数据") as sheet:
        rows = sheet.rows()
        assert [next(rows)[1] for _ in range(10)] == [[str(n)] for n in range(10)]
        assert len(book.shared_strings().items) == 10
        assert sum(1 for _ in rows) == 99_990
        assert len(book.shared_strings().items) == 100_000


def test_a_string_index_past_the_table_is_an_error_not_another_string() -> None:
    data = _sheet(b'<row r="1"><c r="A1" t="s"><v>-1</v></c></row>', b"<si><t>a</t></si>")
    with pytest.raises(IndexError):
        _rows(data)


def test_booleans_errors_and_text_results() -> None:
    xml = (
        b'<row r="1"><c r="A1" t="b"><v>1</v></c><c r="B1" t="e"><v>#N/A</v></c>'
        b'<c r="C1" t="str"><f>A1&amp;""</f><v>TRUE</v></c><c r="D1" t="str"><f>""</f><v></v></c></row>'
    )
    [row] = _rows(_sheet(xml))
    assert row[:3] == [True, "#N/A", "TRUE"] and isinstance(row[1], xlsx.ErrorValue)
    assert len(row) == 3  # a text result may be empty: D1 is empty, not a missing result


def test_a_formula_without_a_cached_result_is_marked_with_its_formula() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["数量", "两倍"])
    sheet.append([3, "=A2*2"])  # openpyxl writes the formula and no result, as any program that does not calculate
    with open_workbook(io.BytesIO(_save(book)), limits=LIMITS) as opened, opened.open_sheet("Sheet") as stream:
        rows = list(stream.rows())
    assert rows[1] == (2, [3, "=A2*2"]) and isinstance(rows[1][1][1], NoCachedValue)
    assert (stream.formulas, stream.formula_count) == (["B2"], 1)


def test_a_formula_with_a_cached_result_gives_the_result() -> None:
    [row] = _rows(_sheet(b'<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>'))
    assert row == [2]


def test_dates_only_when_asked() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([dt.date(2024, 5, 6)])
    data = _save(book)
    assert _rows(data) == [[dt.datetime(2024, 5, 6)]]  # noqa: DTZ001
    assert _rows(data, dates=False) == [[45418]]


# ---------------------------------------------------------------------------------------------- the guard


@pytest.mark.parametrize(
    "inserted",
    [
        b"<!DOCTYPE worksheet>",
        b"<!-- a comment -->",
        b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x]]></t></is></c></row>',
        b"<?pi data?>",
    ],
)
def test_dtd_comments_cdata_and_processing_instructions_are_refused(inserted: bytes) -> None:
    data = _sheet(inserted + b'<row r="2"><c r="A2"><v>1</v></c></row>')
    with pytest.raises(XlsxRefused, match="含有 DTD、注释、CDATA 或处理指令"):
        _rows(data)


def test_the_xml_declaration_and_a_byte_order_mark_are_fine() -> None:
    member = bombs.Member("xl/worksheets/sheet1.xml", head=b"\xef\xbb\xbf" + bombs.SHEET_HEAD + bombs.SHEET_TAIL)
    assert _rows(bombs.one_sheet_workbook(member)) == []


def test_a_row_of_more_tags_than_the_guard_allows_is_refused_whatever_its_prefix() -> None:
    cells = b"".join(b'<x:c r="A1"><x:v>%d</x:v></x:c>' % n for n in range(xlsx.MAX_ELEMENT_TAGS // 4 + 10))
    member = bombs.Member(
        "xl/worksheets/sheet1.xml",
        head=f'<x:worksheet xmlns:x="{bombs.MAIN_NS}"><x:sheetData><x:row r="1">'.encode() + cells,
        tail=b"</x:row></x:sheetData></x:worksheet>",
    )
    with pytest.raises(XlsxRefused, match="XML 标签超过 200,000 个"):
        _rows(bombs.one_sheet_workbook(member))


def test_many_ordinary_rows_pass_the_guard() -> None:
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 100_001))
    assert len(_rows(_sheet(rows))) == 100_000


def test_a_long_row_after_many_short_ones_passes_the_guard() -> None:
    # The tags of the rows before do not count towards a row that spans several reads (a long text, many columns).
    short = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (n, n, n) for n in range(1, 60_001))
    text = os.urandom(150_000).hex().encode()
    long = b'<row r="60001"><c r="A60001" t="inlineStr"><is><t>' + text + b"</t></is></c></row>"
    rows = _rows(_sheet(short + long))
    assert len(rows) == 60_001 and rows[-1] == [text.decode()]


def test_nothing_after_the_cells_is_parsed() -> None:
    # 300,000 hyperlinks after <sheetData> would be one record of 300,000 tags for the guard, and a tree the
    # parser keeps; reading stops at </sheetData>.
    links = b"".join(b'<hyperlink ref="A%d" display="%s"/>' % (n, os.urandom(4).hex().encode()) for n in range(300_000))
    after = b"<hyperlinks>" + links + b"</hyperlinks>"
    member = bombs.Member(
        "xl/worksheets/sheet1.xml",
        head=bombs.SHEET_HEAD + b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData>' + after + b"</worksheet>",
    )
    assert _rows(bombs.one_sheet_workbook(member)) == [[1]]


# ---------------------------------------------------------------------------------------------- parts


def test_a_workbook_part_larger_than_spreadsheet_applications_write_is_refused() -> None:
    data = bombs.zip_bytes(
        [
            *bombs.members_of(_save(openpyxl.Workbook()), without=["xl/workbook.xml"]),
            bombs.Member(
                "xl/workbook.xml",
                head=f'<workbook xmlns="{bombs.MAIN_NS}"><!-- '.encode() + os.urandom(4_500_000).hex().encode(),
                tail=b" --></workbook>",
            ),
        ]
    )
    with pytest.raises(XlsxRefused, match=r"“xl/workbook.xml”（工作簿部件）解压后为 8\.58 MB，超过上限 8 MB"):
        open_workbook(io.BytesIO(data), limits=LIMITS)


def test_shared_strings_over_the_part_limit_are_refused_before_they_are_read() -> None:
    strings = b"".join(b"<si><t>%s</t></si>" % os.urandom(16).hex().encode() for _ in range(40_000))
    limits = XlsxLimits(64 * bombs.MIB, 128 * bombs.MIB, 100, part_bytes=1 * bombs.MIB)
    with pytest.raises(XlsxRefused, match=r"“xl/sharedStrings.xml”（共享字符串表）.*GOVSHARE_XLSX_MAX_PART_BYTES"):
        open_workbook(io.BytesIO(_sheet(b"", strings)), limits=limits)


def test_a_file_that_is_not_a_workbook_is_invalid() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(xlsx.WorkbookInvalid):
        open_workbook(io.BytesIO(buffer.getvalue()), limits=LIMITS)
    with pytest.raises(xlsx.WorkbookInvalid):
        open_workbook(io.BytesIO(b"a,b\n"), limits=LIMITS)


# ---------------------------------------------------------------------------------------------- merged ranges


def test_merged_ranges_are_found_even_when_a_tag_straddles_two_reads(monkeypatch) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for n in range(1, 30):
        sheet.append([f"类别{n}", n])
    for top in range(2, 29, 3):
        sheet.merge_cells(f"A{top}:A{top + 2}")
    data = _save(book)
    monkeypatch.setattr(xlsx, "_SCAN", 7)  # every tag is cut by a read somewhere
    with open_workbook(io.BytesIO(data), limits=LIMITS) as opened:
        found = opened.merged_ranges("Sheet")
    assert sorted(found) == sorted(f"A{top}:A{top + 2}" for top in range(2, 29, 3))  # each once


def test_merged_ranges_covering_too_many_cells_are_refused() -> None:
    with pytest.raises(XlsxRefused, match="合并单元格共覆盖超过 20,000,000 个单元格（如 A2:Z1000000）"):
        xlsx.merged_areas(["A2:Z1000000"], sheet="数据")


def test_fill_merged_gives_each_cell_the_top_left_value_as_excel_shows_it() -> None:
    rows: list[tuple[int, list[object]]] = [
        (2, ["户籍", "张三"]),
        (3, [None, "李四"]),
        (5, [None, "王五"]),
        (6, ["暂住", None, "x"]),
        (7, []),
        (8, [None, "赵六"]),
    ]
    areas = xlsx.merged_areas(["A2:A5", "B6:C6", "A6:A7", "D9:D10"], sheet="数据")
    assert list(fill_merged(iter(rows), areas)) == [
        (2, ["户籍", "张三"]),
        (3, ["户籍", "李四"]),
        (5, ["户籍", "王五"]),  # row 4, which the sheet leaves out, is no record
        (6, ["暂住", None, None]),  # B6:C6 shows B6, which is empty: the hidden "x" is not read
        (7, []),  # A6:A7 reaches into row 7, which holds nothing of its own
        (8, [None, "赵六"]),
    ]

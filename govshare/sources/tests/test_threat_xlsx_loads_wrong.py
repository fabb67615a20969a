"""Threat: an .xlsx that loads wrong without a word.

Found before the fix: a dataset .xlsx with merged cells loaded NULL into the merged-over cells, and formula cells
without a cached value loaded as NULL, both "succeeded, 0 rejected" (openpyxl's read-only mode knows neither merged
ranges nor formulas when it reads cached values). Now a load reads the file as Excel shows it: the cells of a merged
range hold the value of its top-left cell (what users mean by merging a category column down over its rows), a
merged header refuses the file, and a formula cell without a result rejects its row with row, column and the reason
公式单元格没有计算结果，请在Excel中重新计算并保存后再上传. The files are real workbooks written by openpyxl.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog.rules import ItemDraft
from govshare.datasets import reading, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source
from govshare.sources.readers.files import NO_RESULT_REASON

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="户籍地区", data_type="C", length=20),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="人数", data_type="N", length=10),
]
HEADER = ["户籍地区", "姓名", "人数"]


@pytest.fixture
def admin(department):  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def source(department, admin) -> Source:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, name="各区户籍人口")
    data = source_services.SourceInput(name="表格报送", kind=SourceKind.FILE, config={"format": "xlsx"})
    registered = source_services.register_source(resource, data, actor=admin)
    mapping = [source_services.MappingEntry(name, name) for name in HEADER]
    return source_services.set_mapping(registered, mapping, actor=admin)


def _workbook(tmp_path: Path, rows: list[list[Any]], merges: list[str] = ()) -> Path:  # type: ignore[assignment]
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    path = tmp_path / "户籍人口.xlsx"
    book.save(path)
    return path


def _load(source: Source, admin, path: Path) -> Load:  # type: ignore[no-untyped-def]
    load = services.request_load(source, actor=admin, file_path=path, enqueue=False)
    run_load(load.pk)
    load.refresh_from_db()
    return load


def _loaded(source: Source, admin) -> list[list[Any]]:  # type: ignore[no-untyped-def]
    return reading.preview_version(admin, source.resource, limit=200).rows


def _rejects(load: Load) -> list[list[str]]:
    lines = Path(load.rejects_path).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(lines)))[1:]


def test_a_category_merged_down_over_its_rows_loads_on_every_row(source, admin, tmp_path) -> None:
    path = _workbook(
        tmp_path,
        [HEADER, ["锦江区", "张三", 3], [None, "李四", 2], [None, "王五", 4], ["青羊区", "赵六", 1], [None, "孙七", 5]],
        merges=["A2:A4", "A5:A6"],
    )
    load = _load(source, admin, path)
    assert load.status == LoadStatus.SUCCEEDED, load.error
    assert (load.rows_loaded, load.rows_rejected) == (5, 0)
    assert [row[:2] for row in _loaded(source, admin)] == [
        ["锦江区", "张三"],
        ["锦江区", "李四"],
        ["锦江区", "王五"],
        ["青羊区", "赵六"],
        ["青羊区", "孙七"],
    ]


def test_a_merged_range_across_columns_shows_its_value_in_each(source, admin, tmp_path) -> None:
    path = _workbook(tmp_path, [HEADER, ["高新区", "（待核实）", None], ["锦江区", "张三", 3]], merges=["A2:B2"])
    load = _load(source, admin, path)
    assert load.status == LoadStatus.SUCCEEDED, load.error
    assert [row[:2] for row in _loaded(source, admin)] == [["高新区", "高新区"], ["锦江区", "张三"]]


def test_rows_that_a_merged_range_merely_reaches_into_are_no_records(source, admin, tmp_path) -> None:
    # The category was merged down past the last record: Excel shows it beside empty cells; that is no row of data.
    path = _workbook(tmp_path, [HEADER, ["锦江区", "张三", 3], [None, "李四", 2]], merges=["A2:A6"])
    load = _load(source, admin, path)
    assert (load.rows_loaded, load.rows_rejected) == (2, 0)
    assert [row[:2] for row in _loaded(source, admin)] == [["锦江区", "张三"], ["锦江区", "李四"]]


def test_a_merged_header_refuses_the_file_naming_the_range(source, admin, tmp_path) -> None:
    path = _workbook(tmp_path, [["户籍地区", None, "人数"], ["锦江区", "张三", 3]], merges=["A1:B1"])
    load = _load(source, admin, path)
    assert load.status == LoadStatus.FAILED
    assert "表头中的单元格 A1:B1 是合并单元格" in load.error


def test_a_formula_without_a_result_rejects_its_row_naming_row_column_and_cell(source, admin, tmp_path) -> None:
    # openpyxl, like any program that does not calculate, writes the formula without a result.
    path = _workbook(tmp_path, [HEADER, ["锦江区", "张三", 3], ["锦江区", "李四", "=C2*2"], ["青羊区", "王五", 4]])
    load = _load(source, admin, path)
    assert load.status == LoadStatus.SUCCEEDED, load.error
    assert (load.rows_read, load.rows_loaded, load.rows_rejected) == (3, 2, 1)
    assert [row[1] for row in _loaded(source, admin)] == ["张三", "王五"]
    [reject] = _rejects(load)
    assert reject[:3] == ["3", "人数", NO_RESULT_REASON]
    assert NO_RESULT_REASON == "公式单元格没有计算结果，请在Excel中重新计算并保存后再上传"
    assert reject[3] == "C3 =C2*2"


def test_a_formula_with_its_calculated_result_loads_the_result(source, admin, tmp_path) -> None:
    path = _workbook(tmp_path, [HEADER, ["锦江区", "张三", 3], ["锦江区", "李四", "=C2*2"]])
    # As Excel saves it: the formula and its last result.
    _rewrite_sheet(path, lambda xml: xml.replace(b"<f>C2*2</f><v></v>", b"<f>C2*2</f><v>6</v>"))
    load = _load(source, admin, path)
    assert (load.rows_loaded, load.rows_rejected) == (2, 0)
    assert [row[2] for row in _loaded(source, admin)] == [3.0, 6.0]


def test_a_merged_range_whose_value_is_a_formula_without_result_rejects_every_row_it_covers(
    source, admin, tmp_path
) -> None:
    path = _workbook(
        tmp_path, [HEADER, ['="锦"&"江区"', "张三", 3], [None, "李四", 2], ["青羊区", "王五", 4]], merges=["A2:A3"]
    )
    load = _load(source, admin, path)
    assert (load.rows_loaded, load.rows_rejected) == (1, 2)
    assert [(r[0], r[1]) for r in _rejects(load)] == [("2", "户籍地区"), ("3", "户籍地区")]


def test_the_source_preview_shows_the_file_as_the_load_reads_it(source, admin, tmp_path) -> None:
    path = _workbook(
        tmp_path, [HEADER, ["锦江区", "张三", 3], [None, "李四", "=C2*2"], [None, "王五", 4]], merges=["A2:A4"]
    )
    services.request_load(source, actor=admin, file_path=path, enqueue=False)
    sample = reading.preview_source_for(admin, source)
    assert sample.rows == [["锦江区", "张三", "3"], ["锦江区", "王五", "4"]]
    assert any("第 3 行" in warning and NO_RESULT_REASON in warning for warning in sample.warnings)


def _rewrite_sheet(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            out.writestr(info.filename, content)
    path.write_bytes(target.getvalue())

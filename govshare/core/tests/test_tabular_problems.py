"""The import report's problems (`govshare.core.tabular.problems`): a FieldProblem placed on a sheet, row and column."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from govshare.core.errors import FieldProblem
from govshare.core.tabular.problems import ImportRefused, SheetProblem, report_order, without_repeats


def test_a_sheet_problem_is_a_field_problem_with_the_header_as_field_and_the_letter_as_column() -> None:
    problem = SheetProblem.at("信息资源", 3, "共享属性", "H", "“部分共享”无效")
    assert isinstance(problem, FieldProblem)
    assert (problem.field, problem.column, problem.row, problem.sheet) == ("共享属性", "H", 3, "信息资源")
    assert (problem.header, problem.letter) == ("共享属性", "H")


def test_the_report_shape_names_sheet_row_letter_and_header() -> None:
    problem = SheetProblem.at("信息项", 4, "数据长度", "D", "数据长度“二十”不是整数")
    assert problem.as_dict() == {
        "sheet": "信息项",
        "row": 4,
        "column": "D",
        "header": "数据长度",
        "field": "数据长度",
        "message": "数据长度“二十”不是整数",
    }


def test_a_problem_of_the_file_has_no_sheet_row_or_column() -> None:
    assert SheetProblem.of_file("文件为空").as_dict() == {
        "sheet": "",
        "row": None,
        "column": "",
        "header": "",
        "field": "",
        "message": "文件为空",
    }


@given(
    st.text(max_size=5),
    st.none() | st.integers(1, 1_048_576),
    st.text(max_size=5),
    st.from_regex(r"[A-Z]{0,3}", fullmatch=True),
    st.text(max_size=20),
)
def test_a_stored_problem_reads_back_as_itself(sheet: str, row: int | None, header: str, letter: str, message: str):
    problem = SheetProblem.at(sheet, row, header, letter, message)
    assert SheetProblem.from_dict(problem.as_dict()) == problem


def test_the_column_label_shows_header_and_letter_or_whichever_is_known() -> None:
    labels = [
        SheetProblem.at("信息资源", 2, header, letter, "…").column_label
        for header, letter in (("共享属性", "H"), ("共享属性", ""), ("", "H"), ("", ""))
    ]
    assert labels == ["共享属性（H列）", "共享属性", "H列", ""]


def test_the_report_order_is_file_then_sheets_in_order_then_row_then_column() -> None:
    problems = [
        SheetProblem.at("其他", 1, "", "A", "5"),
        SheetProblem.at("信息项", 2, "", "A", "4"),
        SheetProblem.at("信息资源", 3, "", "AA", "3"),
        SheetProblem.at("信息资源", 3, "", "B", "2"),
        SheetProblem.at("信息资源", None, "", "", "1"),
        SheetProblem.of_file("0"),
    ]
    ordered = sorted(problems, key=report_order(("信息资源", "信息项")))
    assert [p.message for p in ordered] == ["0", "1", "2", "3", "4", "5"]


def test_a_rule_problem_on_a_cell_already_reported_is_left_out() -> None:
    cell = SheetProblem.at("信息项", 4, "数据长度", "D", "数据长度“二十”不是整数")
    same_cell = SheetProblem.at("信息项", 4, "数据长度", "D", "必须填写数据长度")
    other_cell = SheetProblem.at("信息项", 5, "数据长度", "D", "必须填写数据长度")
    assert without_repeats([cell], [same_cell, other_cell]) == [cell, other_cell]


def test_a_refused_file_carries_its_problems() -> None:
    refused = ImportRefused(SheetProblem.of_file("不是 .xlsx"), SheetProblem.of_file("太大"))
    assert [p.message for p in refused.problems] == ["不是 .xlsx", "太大"]
    assert str(refused) == "不是 .xlsx; 太大"

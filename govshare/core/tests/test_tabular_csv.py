"""The one CSV writer and its one rule against formula injection (`govshare.core.tabular.csv`)."""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.core.tabular.csv import (
    FORMULA_START,
    CsvWriter,
    csv_lines,
    neutralise_formula,
    neutralise_formulas,
)

PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
# Text that often starts with a formula character, so that the strategies reach the rule's both sides.
formula_like = st.builds(lambda start, rest: start + rest, st.sampled_from(FORMULA_START), st.text(max_size=20))
any_text = st.one_of(st.text(), formula_like, st.from_regex(PLAIN_NUMBER, fullmatch=True))


@given(any_text)
def test_the_output_never_starts_like_a_formula_unless_it_is_a_plain_number(text: str) -> None:
    result = neutralise_formula(text)
    assert not result.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(result)


@given(st.text().filter(lambda text: not text.startswith(FORMULA_START)))
def test_text_that_does_not_start_like_a_formula_is_unchanged(text: str) -> None:
    assert neutralise_formula(text) == text


@given(any_text)
def test_neutralised_text_is_the_text_behind_an_apostrophe(text: str) -> None:
    result = neutralise_formula(text)
    assert result in (text, "'" + text)


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(1)", "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-", "+1e5", "＝1+1", "＋1", "－1", "＠SUM(A1)"],
)
def test_a_formula_start_gets_an_apostrophe(value: str) -> None:
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["-5", "+8613800138000", "-0.25", "12", "0"])
def test_a_plain_number_stays_as_it_is(value: str) -> None:
    assert neutralise_formula(value) == value


def test_values_become_text_and_none_is_empty() -> None:
    assert [neutralise_formula(v) for v in (None, 3, -5, 1.5, "")] == ["", "3", "-5", "1.5", ""]


@given(st.lists(st.one_of(st.none(), any_text), max_size=20))
def test_the_arrow_column_rule_is_the_same_rule(values: list[str | None]) -> None:
    column = neutralise_formulas(pa.array(values, pa.string()))
    assert column.to_pylist() == [None if v is None else neutralise_formula(v) for v in values]


def test_lines_start_with_a_bom_and_read_back_as_the_neutralised_cells() -> None:
    lines = list(csv_lines(["名称", "=头"], [["=cmd|' /C calc'!A0", None], ['引号"与,逗号', -5]]))
    assert lines[0].startswith("\ufeff")
    assert list(csv.reader(io.StringIO("".join(lines).removeprefix("\ufeff")))) == [
        ["名称", "'=头"],
        ["'=cmd|' /C calc'!A0", ""],
        ['引号"与,逗号', "-5"],
    ]


def test_lines_without_a_bom_when_asked() -> None:
    assert next(csv_lines(["a"], [], bom=False)) == "a\r\n"


def test_the_file_writer_neutralises_every_cell() -> None:
    target = io.StringIO(newline="")
    writer = CsvWriter(target)
    writer.writerow(["行号", "原始值"])
    writer.writerows([[2, "@SUM(1)"], [3, "+5"]])
    assert list(csv.reader(io.StringIO(target.getvalue()))) == [["行号", "原始值"], ["2", "'@SUM(1)"], ["3", "+5"]]

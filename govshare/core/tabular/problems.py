"""The report of an import: one problem per line, 工作表 / 行号 / 列 / 问题, the same for every import.

`SheetProblem` is a `govshare.core.errors.FieldProblem` placed in a workbook: `field` is the column's header as the
file names it, `column` the column's letter, `row` the sheet's row number, plus `sheet`. A problem of the whole
file (wrong type, too large) has no sheet, row or column; one of a whole sheet or row has no row or column.

Rendering:

- pages: the template `core/import_report.html` (context `problems`, `max_reported`) shows 工作表, 行, 列 (the header
  with its letter, `column_label`) and 问题;
- the API and the stored report: `as_dict` (`sheet`, `row`, `column` = letter, `header`, `field` = header,
  `message`), read back with `from_dict`;
- order: `report_order(sheets)` sorts the file's problems first, then by sheet, row and column.

`ImportRefused` carries the problems of a file that cannot be read at all; `without_repeats` joins the cell
problems and the rule problems of one file without a rule's second word on a cell already reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from govshare.core.errors import FieldProblem

__all__ = ["ImportRefused", "SheetProblem", "report_order", "without_repeats"]


@dataclass(frozen=True)
class SheetProblem(FieldProblem):
    """One line of an import report. `field` is the header ("" when no column is meant), `column` the column
    letter ("" when unknown), `row` None for a problem of the file or of a whole sheet, `sheet` "" for the file."""

    column: str | None = ""
    sheet: str = ""

    @classmethod
    def at(cls, sheet: str, row: int | None, header: str, letter: str, message: str) -> SheetProblem:
        """The problem at a sheet, row and column (header and letter)."""
        return cls(field=header, message=message, row=row, column=letter, sheet=sheet)

    @classmethod
    def of_file(cls, message: str) -> SheetProblem:
        """A problem of the whole file: no sheet, row or column."""
        return cls.at("", None, "", "", message)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SheetProblem:
        """A problem of a stored report (`as_dict`)."""
        return cls.at(
            data.get("sheet", ""),
            data.get("row"),
            data.get("header", ""),
            data.get("column", ""),
            data.get("message", ""),
        )

    @property
    def header(self) -> str:
        return self.field

    @property
    def letter(self) -> str:
        return self.column or ""

    @property
    def column_label(self) -> str:
        """列 as a report shows it: 共享属性（H列）, the header or the letter alone when only one is known."""
        if self.header and self.letter:
            return gettext("%(header)s（%(letter)s列）") % {"header": self.header, "letter": self.letter}
        return self.header or (gettext("%(letter)s列") % {"letter": self.letter} if self.letter else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.letter,
            "header": self.header,
            "field": self.header,
            "message": self.message,
        }


class ImportRefused(Exception):
    """The file cannot be read at all (wrong type, too large, no sheet…): the report is these problems."""

    def __init__(self, *problems: SheetProblem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def report_order(sheets: Sequence[str]) -> Callable[[SheetProblem], tuple[int, int, str]]:
    """The sort key of a report: the file's problems first, then the sheets in this order (any other after them),
    then by row and column (B before AA)."""
    rank = {"": 0, **{name: index for index, name in enumerate(sheets, start=1)}}
    other = len(sheets) + 1

    def key(problem: SheetProblem) -> tuple[int, int, str]:
        return rank.get(problem.sheet, other), problem.row or 0, problem.letter.rjust(3)

    return key


def without_repeats(cell_problems: Iterable[SheetProblem], rule_problems: Iterable[SheetProblem]) -> list[SheetProblem]:
    """Both lists, without a rule's problem on a cell (sheet, row, column) that a cell problem already names: a value
    that could not be read needs no second word from the rules that check it."""
    first = list(cell_problems)
    seen = {(p.sheet, p.row, p.letter) for p in first if p.row is not None and p.letter}
    return first + [p for p in rule_problems if (p.sheet, p.row, p.letter) not in seen]

"""The catalogue import's report: `govshare.core.tabular.problems` (工作表 / 行号 / 列 / 问题) with this import's
sheets, its ordering, its length limit, and the report kept with each batch."""

from __future__ import annotations

from django.utils.translation import gettext

from govshare.catalog.importing.layout import ITEM_SHEET, RESOURCE_SHEET, Column
from govshare.catalog.models import ImportBatch
from govshare.core.tabular.problems import ImportRefused, SheetProblem, report_order

__all__ = [
    "MAX_REPORTED_PROBLEMS",
    "ImportProblem",
    "ImportRefused",
    "Problems",
    "file_problem",
    "problem_order",
    "report_of",
    "stored_report",
]

# The problems of this import: what every import reports.
ImportProblem = SheetProblem

# A report lists at most this many problems (the count is always complete).
MAX_REPORTED_PROBLEMS = 1000

# The file's problems first, then 信息资源, then 信息项, each by row and column.
problem_order = report_order((RESOURCE_SHEET, ITEM_SHEET))


def file_problem(message: str) -> ImportProblem:
    return ImportProblem.of_file(message)


class Problems:
    """The problems found while reading, in the order found."""

    def __init__(self) -> None:
        self.items: list[ImportProblem] = []

    def add(self, sheet: str, row: int | None, column: Column | None, letter: str, message: str) -> None:
        self.items.append(ImportProblem.at(sheet, row, column.header if column else "", letter, message))


def stored_report(problems: list[ImportProblem]) -> list[dict[str, object]]:
    """The report kept with a batch: at most MAX_REPORTED_PROBLEMS problems (`ImportProblem.as_dict`)."""
    return [p.as_dict() for p in problems[:MAX_REPORTED_PROBLEMS]]


def report_of(batch: ImportBatch) -> list[ImportProblem]:
    """The stored report of a batch as problems (for pages and the API). The report keeps the messages as they were
    said to the importer; a fixed one (no value in it) reads in the reader's language."""
    return [ImportProblem.from_dict({**p, "message": gettext(str(p.get("message", "")))}) for p in batch.report]

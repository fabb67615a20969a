"""A year's schedule as a file: the export (CSV) and the import (CSV or .xlsx with the same columns).

Columns: 日期 (2027-10-01), 类型 (放假 / 调休上班), 名称 (国庆节), one row per day. The import is whole-file-or-
nothing: every problem is reported with its row and column, and nothing is saved while there is one."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.utils.translation import gettext

from govshare.accounts.calendar_services import DayEntry, day_problems
from govshare.core.models import DayKind
from govshare.core.tabular.csv import csv_lines
from govshare.core.tabular.problems import SheetProblem
from govshare.core.tabular.xlsx import XlsxRefused, open_workbook, sheet_errors
from govshare.core.uploads import data_file_problem

HEADERS = ("日期", "类型", "名称")
_FIELDS = {"date": 0, "kind": 1, "name": 2}
_LETTERS = "ABC"
MAX_BYTES = 256 * 1024  # a year is some 40 rows; anything this large is not a schedule
MAX_ROWS = 400
_KINDS = {
    "放假": DayKind.HOLIDAY,
    "休假": DayKind.HOLIDAY,
    "holiday": DayKind.HOLIDAY,
    "调休上班": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
    "workday": DayKind.WORKDAY,
}
_KIND_NAMES = {DayKind.HOLIDAY: "放假", DayKind.WORKDAY: "调休上班"}


def export_lines(days: Sequence[DayEntry]) -> Iterator[str]:
    """The year as CSV (UTF-8 with BOM, so that Excel reads the Chinese), in the import's columns."""
    rows = ((day.date.isoformat(), _KIND_NAMES.get(DayKind(day.kind), day.kind), day.name) for day in days)
    return csv_lines(HEADERS, rows)


@dataclass
class ParsedSchedule:
    days: list[DayEntry] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)


def _problem(row: int, column: int, message: str) -> SheetProblem:
    return SheetProblem.at("", row, HEADERS[column], _LETTERS[column], message)


def parse_schedule(upload: IO[bytes], year: int) -> ParsedSchedule:
    """Read an uploaded schedule of `year`; `problems` is empty when every row is right."""
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return ParsedSchedule(problems=[SheetProblem.of_file(gettext("文件超过 256 KB，不是一年的节假日安排"))])
    is_workbook = data.startswith(b"PK\x03\x04")
    wrong = data_file_problem(data[:65536], "xlsx" if is_workbook else "csv", io.BytesIO(data))
    if wrong is not None:
        return ParsedSchedule(problems=[SheetProblem.of_file(wrong)])
    try:
        rows = _workbook_rows(data) if is_workbook else _csv_rows(data)
    except XlsxRefused as exc:
        return ParsedSchedule(problems=[SheetProblem.of_file(str(exc))])
    return _read(rows, year)


def _csv_rows(data: bytes) -> list[tuple[int, list[object]]]:
    import csv

    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        text = data.decode("utf-8", "replace")
    return [(number, list(values)) for number, values in enumerate(csv.reader(io.StringIO(text)), start=1)]


def _workbook_rows(data: bytes) -> list[tuple[int, list[object]]]:
    with open_workbook(io.BytesIO(data)) as book:
        first = next(iter(book.sheets))
        with sheet_errors(book.sheets[first], sheet=first), book.open_sheet(first, dates=True) as sheet:
            rows = []
            for number, values in sheet.rows():
                rows.append((number, values))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows


def _cell(values: list[object], index: int) -> object:
    value = values[index] if index < len(values) else None
    return value.strip() if isinstance(value, str) else value


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.replace("/", "-").replace(".", "-")
        try:
            return dt.date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
        except ValueError:
            return None
    return None


def _read(rows: list[tuple[int, list[object]]], year: int) -> ParsedSchedule:
    parsed = ParsedSchedule()
    if not rows:
        parsed.problems.append(SheetProblem.of_file(gettext("文件是空的：第一行应为表头“日期、类型、名称”")))
        return parsed
    header_row, header = rows[0]
    names = [str(value).strip() if value is not None else "" for value in header]
    if names[:3] != list(HEADERS):
        parsed.problems.append(
            SheetProblem.at("", header_row, "", "", gettext("第一行应为表头“日期、类型、名称”（可从导出文件复制）"))
        )
        return parsed
    body = [
        (number, values) for number, values in rows[1:] if any(_cell(values, i) not in (None, "") for i in range(3))
    ]
    if not body:
        parsed.problems.append(SheetProblem.of_file(gettext("文件只有表头，没有节假日或调休日")))
        return parsed
    if len(body) > MAX_ROWS:
        parsed.problems.append(SheetProblem.of_file(gettext("行数超过 %(n)s，不是一年的节假日安排") % {"n": MAX_ROWS}))
        return parsed
    row_of: list[int] = []
    for number, values in body:
        day = _date(_cell(values, 0))
        kind_text = str(_cell(values, 1) or "")
        kind = _KINDS.get(kind_text)
        name = str(_cell(values, 2) or "")
        ok = True
        if day is None:
            parsed.problems.append(_problem(number, 0, gettext("日期应写成 2027-10-01 的形式")))
            ok = False
        if kind is None:
            parsed.problems.append(_problem(number, 1, gettext("类型应为“放假”或“调休上班”")))
            ok = False
        if ok and day is not None and kind is not None:
            parsed.days.append(DayEntry(day, kind, name))
            row_of.append(number)
        elif not name.strip():
            parsed.problems.append(_problem(number, 2, gettext("请填写名称，如“国庆节”")))
    for problem in day_problems(year, parsed.days):
        parsed.problems.append(_problem(row_of[problem.index], _FIELDS[problem.field], problem.message))
    parsed.problems.sort(key=lambda p: (p.row or 0, p.letter))
    if parsed.problems:
        parsed.days = []
    return parsed

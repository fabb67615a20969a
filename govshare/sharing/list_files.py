"""The three lists as .xlsx files: written as they are browsed, read back whole-file-or-nothing.

Export streams like the catalogue's (`govshare.catalog.exporting`): an openpyxl write-only workbook in an anonymous
temporary file, rows read from the database in chunks, text that looks like a formula kept as text, then a
FileResponse. One sheet holds the list (its name is the list's), a second sheet 填写说明 explains the columns.

Import reads the same layout with the platform's one workbook reader (`govshare.core.tabular.xlsx`) after the
catalogue import's size and type checks (`govshare.catalog.importing`): headers in any order, read-only columns
(状态, 是否满足 …) ignored, merged cells and formulas refused. Every row is then checked by the list's own rules; any
problem refuses the whole file with the report every import gives (工作表 / 行 / 列 / 问题,
`govshare.core.tabular.problems`), and nothing is written. A clean file is applied in one transaction, and a write
that fails on one row (a rule checked again under lock) rolls back every row. Each attempt leaves an audit row
(sharing.list.import or sharing.list.import_refuse)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import importing
from govshare.catalog.importing.limits import measure
from govshare.core.tabular.problems import ImportRefused, SheetProblem, report_order, without_repeats
from govshare.core.tabular.xlsx import (
    ErrorValue,
    NoCachedValue,
    WorkbookInvalid,
    XlsxRefused,
    open_workbook,
    sheet_errors,
)

GUIDE_SHEET = "填写说明"
CHUNK_SIZE = 1000
MAX_REPORTED_PROBLEMS = importing.MAX_REPORTED_PROBLEMS
XLSX_CONTENT_TYPE = importing.XLSX_CONTENT_TYPE


@dataclass(frozen=True)
class ListColumn:
    field: str
    header: str
    width: int = 20
    required: bool = False  # a value is needed in every row
    imported: bool = True  # False: written for the reader, ignored when the file comes back
    note: str = ""


@dataclass(frozen=True)
class ListLayout:
    key: str  # demands, duties, negative
    name: str  # the list's name: its sheet, its file, its audit rows
    columns: tuple[ListColumn, ...]
    guide: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> ListColumn:
        return next(c for c in self.columns if c.field == name)


# ---------------------------------------------------------------------------------------------- export


def _cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return value


def _header(sheet: WriteOnlyWorksheet, headers: Sequence[str]) -> list[WriteOnlyCell]:
    fill, font = PatternFill("solid", fgColor="1F5FA8"), Font(bold=True, color="FFFFFF")
    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.fill, cell.font = fill, font
        cells.append(cell)
    return cells


def write_xlsx(layout: ListLayout, rows: Iterable[Sequence[object]], target: IO[bytes]) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(layout.name)
    guide = book.create_sheet(GUIDE_SHEET)
    for index, column in enumerate(layout.columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = column.width
    sheet.freeze_panes = "B2"
    sheet.append(_header(sheet, [c.header + ("*" if c.required else "") for c in layout.columns]))
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
        count += 1
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 100
    guide.append(_header(guide, ["项目", "说明"]))
    guide.append(["导出", f"{timezone.localtime():%Y-%m-%d %H:%M} 导出 {count} 行。"])
    guide.append(["再次导入", "本文件可修改后导入：整份文件校验通过才导入，否则不做任何修改并列出每个问题的行和列。"])
    for label, text in layout.guide:
        guide.append([label, text])
    for column in layout.columns:
        mark = "（必填）" if column.required else ("（只读，导入时忽略）" if not column.imported else "")
        guide.append([column.header, f"{mark}{column.note}"])
    book.save(target)
    return count


def xlsx_response(layout: ListLayout, rows: Iterable[Sequence[object]]) -> FileResponse:
    spool = tempfile.TemporaryFile(prefix="govshare-list-")  # noqa: SIM115 (FileResponse closes it)
    write_xlsx(layout, rows, spool)
    spool.seek(0)
    filename = f"{layout.name}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)


# ---------------------------------------------------------------------------------------------- reading


def text_of(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class ListRow:
    number: int
    values: dict[str, str]


@dataclass
class Report:
    """The problems of one file, each placed at a row and a column of the list's sheet."""

    layout: ListLayout
    letters: dict[str, str] = field(default_factory=dict)
    items: list[SheetProblem] = field(default_factory=list)
    # Cells could not be read: the rules still check every row (so that one report names everything), but nothing
    # is written.
    blocked: bool = False

    @property
    def refused(self) -> bool:
        return self.blocked or bool(self.items)

    def at(self, row: int | None, field_name: str, message: str) -> None:
        header = self.layout.column(field_name).header if field_name else ""
        self.items.append(SheetProblem.at(self.layout.name, row, header, self.letters.get(field_name, ""), message))

    def of_file(self, message: str) -> None:
        self.items.append(SheetProblem.of_file(message))


def _headers(layout: ListLayout, header_row: list[object], report: Report) -> dict[str, int] | None:
    by_header = {c.header: c for c in layout.columns}
    positions: dict[str, int] = {}
    ok = True
    for index, raw in enumerate(header_row):
        header = text_of(raw).rstrip("*＊").strip()
        if not header:
            continue
        letter = get_column_letter(index + 1)
        column = by_header.get(header)
        if column is None:
            known = "、".join(c.header for c in layout.columns)
            report.items.append(
                SheetProblem.at(
                    layout.name,
                    1,
                    header,
                    letter,
                    gettext("未知的列“%(header)s”：可用的列为 %(known)s") % {"header": header, "known": known},
                )
            )
            ok = False
        elif column.field in positions:
            report.items.append(
                SheetProblem.at(layout.name, 1, header, letter, gettext("列“%(header)s”重复出现") % {"header": header})
            )
            ok = False
        else:
            positions[column.field] = index
    missing = [c.header for c in layout.columns if c.imported and c.field not in positions]
    if missing:
        report.items.append(
            SheetProblem.at(
                layout.name,
                1,
                "",
                "",
                gettext("缺少列：%(value)s。请使用平台导出的文件，不要删除或改名表头") % {"value": "、".join(missing)},
            )
        )
        ok = False
    report.letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
    return positions if ok else None


def read_list(upload: IO[bytes], layout: ListLayout, report: Report) -> list[ListRow]:
    """The rows of the list's sheet (blank rows left out), with every cell-level problem in the report.
    ImportRefused when the file is not a workbook of this list at all."""
    try:
        book = open_workbook(upload)
    except WorkbookInvalid as exc:
        raise ImportRefused(
            SheetProblem.of_file(
                gettext("文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或是改了扩展名的其他文件。")
            )
        ) from exc
    except XlsxRefused as refused:
        raise ImportRefused(SheetProblem.of_file(refused.message)) from refused
    rows: list[ListRow] = []
    try:
        titles = {title.strip(): title for title in book.sheets}
        if layout.name not in titles:
            found = "、".join(f"“{t}”" for t in titles) or gettext("（无）")
            raise ImportRefused(
                SheetProblem.at(
                    layout.name,
                    None,
                    "",
                    "",
                    gettext("缺少工作表“%(name)s”（文件中的工作表：%(found)s）。请导入平台导出的%(name)s文件")
                    % {"name": layout.name, "found": found},
                )
            )
        merged = book.merged_ranges(titles[layout.name])
        limit = settings.GOVSHARE.import_max_rows
        damaged = gettext("文件已损坏，无法读取，未导入")
        with book.open_sheet(titles[layout.name]) as sheet, sheet_errors(damaged, sheet=layout.name):
            positions: dict[str, int] | None = None
            for number, values in sheet.rows():
                if positions is None:
                    positions = _headers(layout, values, report)
                    if positions is None:
                        raise ImportRefused(*report.items)
                    continue
                odd = any(isinstance(v, ErrorValue | NoCachedValue) for v in values)
                if not odd and all(text_of(v) == "" for v in values):
                    continue
                if len(rows) >= limit:
                    raise ImportRefused(
                        SheetProblem.at(
                            layout.name,
                            number,
                            "",
                            "",
                            gettext("行数超过单个文件上限 %(limit)s 行，未导入。请拆分为多个文件分批导入")
                            % {"limit": f"{limit:,}"},
                        )
                    )
                row: dict[str, str] = {}
                for name, index in positions.items():
                    value = values[index] if index < len(values) else None
                    if isinstance(value, ErrorValue | NoCachedValue):
                        report.at(number, name, gettext("单元格是公式或错误值，导入只接受数值"))
                        value = None
                    row[name] = text_of(value)
                rows.append(ListRow(number, row))
            if positions is None:
                raise ImportRefused(SheetProblem.at(layout.name, 1, "", "", gettext("工作表是空的：第1行应为表头")))
            for ref in merged[:50]:
                report.items.append(
                    SheetProblem.at(
                        layout.name,
                        None,
                        "",
                        ref.split(":")[0].rstrip("0123456789"),
                        gettext("单元格 %(ref)s 是合并单元格：请取消合并，并在每一行填写完整的值") % {"ref": ref},
                    )
                )
            for ref in sheet.formulas[:50]:
                letter = ref.rstrip("0123456789")
                number_text = ref[len(letter) :]
                report.items.append(
                    SheetProblem.at(
                        layout.name,
                        int(number_text) if number_text.isdigit() else None,
                        "",
                        letter,
                        gettext("单元格 %(ref)s 含公式：导入只接受数值") % {"ref": ref},
                    )
                )
    finally:
        book.close()
    for listed in rows:
        for column in layout.columns:
            if column.required and column.imported and not listed.values.get(column.field):
                report.at(listed.number, column.field, gettext("%(header)s不能为空") % {"header": column.header})
    return rows


# ---------------------------------------------------------------------------------------------- import


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Links to what the import made that someone must act on (a change request to submit): (text, path).
    follow_up: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ListImportResult:
    layout: ListLayout
    file_name: str
    problems: list[SheetProblem]
    rows: int = 0
    outcome: Outcome = field(default_factory=Outcome)

    @property
    def imported(self) -> bool:
        return not self.problems


class _Refused(Exception):
    """Rolls back a file's writes once a row fails while they are made."""


# Checks every row (adding problems to the report) and, when the report stays empty, writes them.
Apply = Callable[[list[ListRow], Report, User], Outcome]


def _record_refusal(layout: ListLayout, file_name: str, problems: list[SheetProblem], actor: User) -> None:
    with transaction.atomic():
        record_action(
            actor,
            "sharing.list.import_refuse",
            object_type=f"sharing.{layout.key}",
            object_repr=layout.name,
            list=layout.name,
            file_name=file_name,
            problems=len(problems),
        )


def refuse_too_large(layout: ListLayout, *, file_name: str, size: int | None, actor: User) -> ListImportResult:
    """The refusal of an upload the web layer stopped at the size limit (never read in full)."""
    problems = [SheetProblem.of_file(importing.size_limit_message(size))]
    _record_refusal(layout, file_name, problems, actor)
    return ListImportResult(layout, file_name, problems)


def run_import(
    layout: ListLayout,
    upload: IO[bytes],
    *,
    file_name: str,
    actor: User,
    apply: Apply,
    may_import: Callable[[User], str],
) -> ListImportResult:
    """Check the whole file, then apply it in one transaction, or nothing with a report. `may_import` answers ""
    when the actor may import this list at all, or why not (the whole file is refused)."""
    report = Report(layout)
    rows: list[ListRow] = []
    outcome = Outcome()
    try:
        refusal = may_import(actor)
        if refusal:
            raise ImportRefused(SheetProblem.of_file(refusal))
        size, _, head = measure(upload)
        if size > settings.GOVSHARE.import_max_bytes:
            raise ImportRefused(SheetProblem.of_file(importing.size_limit_message(size)))
        sniffed = importing.sniff_file(head)
        if sniffed is not None:
            raise ImportRefused(sniffed)
        rows = read_list(upload, layout, report)
        cell_problems, report.items = report.items, []
        report.blocked = bool(cell_problems)
        try:
            with transaction.atomic():
                outcome = apply(rows, report, actor)
                if report.refused:
                    raise _Refused()
                record_action(
                    actor,
                    "sharing.list.import",
                    object_type=f"sharing.{layout.key}",
                    object_repr=layout.name,
                    list=layout.name,
                    file_name=file_name,
                    rows=len(rows),
                    created=outcome.created,
                    updated=outcome.updated,
                    unchanged=outcome.unchanged,
                )
        except _Refused:
            outcome = Outcome()
        report.items = without_repeats(cell_problems, report.items)
    except ImportRefused as refused:
        report.items = list(refused.problems)
    problems = sorted(report.items, key=report_order((layout.name,)))
    result = ListImportResult(layout, file_name, problems, len(rows), outcome)
    if problems:
        _record_refusal(layout, file_name, problems, actor)
    return result

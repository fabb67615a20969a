"""Reading an import file: the workbook and its two sheets, the headers (in any order), then every row into
drafts, reporting each cell-level problem by sheet, row and column (the rules are checked afterwards, in
`validation`).

The workbook is read by `govshare.core.tabular.xlsx`, the reader data loads use too: the archive and the parts read
whole are bounded before anything is parsed (zip bombs), then the rows are streamed from the sheet XML with lxml's
iterparse, which reports only the <row> elements (ElementTree's reported every cell and value: 30 % slower).
openpyxl's own read-only cell loop costs about 5 µs a cell in Python (7.7 s for a 20,000-resource file, measured),
four times this reader, and would alone miss the 2,000 rows/s bar; the stream also gives us formulas and the sheet
dimension in the same pass, and merged ranges come from a scan of the sheet's bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from django.conf import settings
from django.utils.translation import gettext
from openpyxl.utils import get_column_letter

from govshare.catalog.importing.layout import (
    CHOICE_LOOKUPS,
    EXAMPLE_SEQ,
    ITEM_SHEET,
    RESOURCE_SHEET,
    SHEET_COLUMNS,
    Column,
)
from govshare.catalog.importing.limits import (
    ITEM_ROWS_PER_RESOURCE_ROW,
    UNCOMPRESSED_FACTOR,
    megabytes,
    row_limit_message,
)
from govshare.catalog.importing.report import ImportProblem, ImportRefused, Problems, file_problem
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.tabular.xlsx import (
    ErrorValue,
    SheetStream,
    WorkbookInvalid,
    XlsxRefused,
    open_workbook,
    sheet_errors,
)
from govshare.core.tabular.xlsx import Workbook as UploadedWorkbook

_RELATED_SPLIT = re.compile(r"[\s,，、;；]+")
MAX_DESCRIPTION = 500


@dataclass
class ParsedResource:
    row: int
    seq: str
    draft: ResourceDraft
    item_rows: list[int] = field(default_factory=list)
    seq_ok: bool = True  # False when its 资源序号 is missing or repeated (already reported)


@dataclass
class ParsedFile:
    resources: list[ParsedResource]
    problems: list[ImportProblem]
    resource_rows: int = 0
    item_rows: int = 0
    # field → column letter in this file (headers may come in any order)
    letters: dict[str, dict[str, str]] = field(default_factory=dict)
    # Both sheets were read under their headers without merged cells or formulas: the rules can be checked.
    complete: bool = False
    # (sheet, row) of the template's example rows (资源序号 示例), skipped.
    examples: list[tuple[str, int]] = field(default_factory=list)

    def examples_note(self) -> str:
        """What was skipped, for the report of an imported file ("" when nothing was)."""
        if not self.examples:
            return ""
        rows = gettext("；").join(
            gettext("“%(sheet)s”第%(rows)s行")
            % {"sheet": sheet, "rows": gettext("、").join(str(r) for s, r in self.examples if s == sheet)}
            for sheet in dict.fromkeys(s for s, _ in self.examples)
        )
        return gettext("已跳过模板的示例行（资源序号为“%(seq)s”）：%(rows)s") % {"seq": EXAMPLE_SEQ, "rows": rows}


def _normalise_header(value: object) -> str:
    text = "" if value is None else str(value).strip()
    return text.rstrip("*＊").strip()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _read_headers(
    sheet: str, header_row: list[object] | None, columns: tuple[Column, ...], problems: Problems
) -> dict[str, int] | None:
    """Map field → 0-based index from the header row, or None after reporting what is missing or unknown."""
    if header_row is None:
        problems.add(
            sheet,
            1,
            None,
            "",
            gettext("工作表“%(sheet)s”是空的：第1行应为表头（%(value)s）")
            % {"sheet": sheet, "value": gettext("、").join(c.header for c in columns)},
        )
        return None
    by_header = {c.header: c for c in columns}
    positions: dict[str, int] = {}
    ok = True
    for index, raw in enumerate(header_row):
        header = _normalise_header(raw)
        if not header:
            continue
        letter = get_column_letter(index + 1)
        column = by_header.get(header)
        if column is None:
            known = gettext("、").join(c.header for c in columns)
            problems.add(
                sheet,
                1,
                None,
                letter,
                gettext("未知的列“%(header)s”（%(letter)s列）：模板中没有这一列。可用的列：%(known)s")
                % {"header": header, "letter": letter, "known": known},
            )
            ok = False
        elif column.field in positions:
            first = get_column_letter(positions[column.field] + 1)
            problems.add(
                sheet,
                1,
                column,
                letter,
                gettext("列“%(header)s”重复出现（%(first)s列和%(letter)s列）")
                % {"header": header, "first": first, "letter": letter},
            )
            ok = False
        else:
            positions[column.field] = index
    missing = [c.header for c in columns if c.required_header and c.field not in positions]
    if missing:
        problems.add(
            sheet,
            1,
            None,
            "",
            gettext("缺少列：%(value)s。请使用平台提供的导入模板，不要删除或改名表头")
            % {"value": gettext("、").join(missing)},
        )
        ok = False
    return positions if ok else None


def _seq(value: object) -> str:
    text = _text(value)
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


class _RowReader:
    """Cell access by field for one sheet: text, choice values, integers; problems named by cell.

    `prepare` pads each row to the header's width plus one empty slot, where fields without a column point,
    so that every access is a plain index (the reader runs for every cell of 120,000 rows).
    """

    def __init__(self, sheet: str, columns: tuple[Column, ...], positions: dict[str, int], problems: Problems):
        self.sheet = sheet
        self.problems = problems
        self.columns = {c.field: c for c in columns}
        self.positions = positions
        self.letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
        self.width = max(positions.values()) + 1 if positions else 0
        self.index = {c.field: positions.get(c.field, self.width) for c in columns}
        self.lookups = {c.field: CHOICE_LOOKUPS[c.header + ":" + c.field] for c in columns if c.choices}
        self.headerless = [i for i in range(self.width) if i not in set(positions.values())]

    def prepare(self, row: int, values: list[object]) -> list[object]:
        """The row padded for indexed access, after reporting error values and data in headerless columns."""
        if ErrorValue in set(map(type, values)):
            for index, value in enumerate(values):
                if isinstance(value, ErrorValue):
                    letter = get_column_letter(index + 1)
                    column = next((self.columns[f] for f, i in self.positions.items() if i == index), None)
                    self.problems.add(
                        self.sheet,
                        row,
                        column,
                        letter,
                        gettext("单元格 %(letter)s%(row)s 是错误值 %(value)s")
                        % {"letter": letter, "row": row, "value": value},
                    )
                    values[index] = None
        stray = [i for i in self.headerless if i < len(values) and _text(values[i])]
        stray.extend(i for i in range(self.width, len(values)) if _text(values[i]))
        for index in stray:
            letter = get_column_letter(index + 1)
            message = gettext("单元格 %(letter)s%(row)s 有内容“%(value)s”，但该列没有表头") % {
                "letter": letter,
                "row": row,
                "value": _text(values[index])[:20],
            }
            self.problems.add(self.sheet, row, None, letter, message)
        if len(values) <= self.width:
            values.extend([None] * (self.width + 1 - len(values)))
        else:
            values[self.width] = None
        return values

    def text(self, values: list[object], name: str) -> str:
        value = values[self.index[name]]
        if value is None:
            return ""
        if type(value) is str:
            return value.strip()
        return _text(value)

    def choice(self, values: list[object], name: str) -> str:
        text = self.text(values, name)
        if not text:
            return ""
        # Unknown labels pass through unchanged: the rules report them with the allowed labels.
        lookup = self.lookups[name]
        return lookup.get(text) or lookup.get(text.lower(), text)

    def integer(self, row: int, values: list[object], name: str) -> int | None:
        value = values[self.index[name]]
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = _text(value)
        if text.isdigit():
            return int(text)
        self.report(
            row, name, gettext("%(header)s“%(text)s”不是整数") % {"header": self.columns[name].header, "text": text}
        )
        return None

    def report(self, row: int | None, name: str, message: str) -> None:
        self.problems.add(self.sheet, row, self.columns.get(name), self.letters.get(name, ""), message)


def _blank(values: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _structure_problems(sheet: str, stream: SheetStream, merged: list[str]) -> list[ImportProblem]:
    """Merged ranges and formulas, each named (at most 50 of each are listed)."""
    found: list[ImportProblem] = []
    for ref in merged[:50]:
        letter = ref.split(":")[0].rstrip("0123456789")
        message = gettext("单元格 %(ref)s 是合并单元格：请取消合并，并在每一行填写完整的值") % {"ref": ref}
        found.append(ImportProblem.at(sheet, None, "", letter, message))
    for ref in stream.formulas[:50]:
        letter = ref.rstrip("0123456789")
        row = ref[len(letter) :]
        message = gettext("单元格 %(ref)s 含公式：导入只接受数值。请复制后“选择性粘贴 → 数值”再导入") % {"ref": ref}
        found.append(ImportProblem.at(sheet, int(row) if row.isdigit() else None, "", letter, message))
    if stream.formula_count > 50:
        message = gettext("共有 %(formula_count)s 个单元格含公式，以上仅列出前 50 个") % {
            "formula_count": stream.formula_count
        }
        found.append(ImportProblem.at(sheet, None, "", "", message))
    return found


# ---------------------------------------------------------------------------------------------- parse


def _open_workbook(source: IO[bytes]) -> tuple[UploadedWorkbook, dict[str, str]]:
    """The workbook and its two sheets' titles (stripped title → title); ImportRefused when it is not a usable
    workbook, or when a member, a part or one of the two sheets is too large (nothing of the cells, nor the shared
    strings, has been read then)."""
    try:
        book = open_workbook(source)
    except WorkbookInvalid as exc:
        raise ImportRefused(
            file_problem(
                gettext(
                    "文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或是改了扩展名的其他文件。"
                    "请用模板重新保存后导入。"
                )
            )
        ) from exc
    except XlsxRefused as refused:
        raise ImportRefused(file_problem(refused.message)) from refused
    try:
        # Sheet names are matched without surrounding spaces ("信息资源 " is a common slip).
        titles = {title.strip(): title for title in book.sheets}
        missing = [name for name in (RESOURCE_SHEET, ITEM_SHEET) if name not in titles]
        if missing:
            found = gettext("、").join(f"“{t}”" for t in titles) or gettext("（无）")
            raise ImportRefused(
                *[
                    ImportProblem.at(
                        name,
                        None,
                        "",
                        "",
                        gettext("缺少工作表“%(name)s”（文件中的工作表：%(found)s）。请使用平台提供的导入模板")
                        % {"name": name, "found": found},
                    )
                    for name in missing
                ]
            )
        # Tighter than xlsx_max_member_bytes: an import file is at most import_max_bytes.
        limit = settings.GOVSHARE.import_max_bytes * UNCOMPRESSED_FACTOR
        for name in (RESOURCE_SHEET, ITEM_SHEET):
            if book.archive.getinfo(book.sheets[titles[name]]).file_size > limit:
                message = gettext("工作表“%(name)s”解压后超过 %(value)s，不予读取。") % {
                    "name": name,
                    "value": megabytes(limit),
                }
                raise ImportRefused(
                    ImportProblem.at(name, None, "", "", message + row_limit_message(None, at_least=False))
                )
    except BaseException:
        book.close()
        raise
    return book, titles


def parse_workbook(source: IO[bytes]) -> ParsedFile:
    """Read both sheets into drafts, reporting every cell-level problem (rules are checked afterwards)."""
    book, titles = _open_workbook(source)
    with book:
        return _parse_sheets(book, titles)


def _parse_sheets(book: UploadedWorkbook, titles: Mapping[str, str]) -> ParsedFile:
    problems = Problems()
    max_rows = settings.GOVSHARE.import_max_rows
    result = ParsedFile([], [])
    by_seq: dict[str, ParsedResource] = {}
    structure: list[ImportProblem] = []
    for sheet in (RESOURCE_SHEET, ITEM_SHEET):
        columns = SHEET_COLUMNS[sheet]
        # A damaged zip member, a truncated stream, a shared-string index out of range, a bad row number.
        damaged = gettext(
            "工作表“%(sheet)s”无法读取，文件可能已损坏或不完整。请在 Excel 中打开并重新保存为 .xlsx 后导入"
        ) % {"sheet": sheet}
        try:
            with sheet_errors(damaged, sheet=sheet):
                with book.open_sheet(titles[sheet]) as stream:
                    rows = stream.rows()
                    header = _first_row(sheet, rows, stream, max_rows)
                    positions = _read_headers(sheet, header, columns, problems)
                    if positions is None or (sheet == ITEM_SHEET and not result.letters):
                        continue  # the rows cannot be read without their headers
                    reader = _RowReader(sheet, columns, positions, problems)
                    result.letters[sheet] = reader.letters
                    if sheet == RESOURCE_SHEET:
                        _read_resources(reader, rows, result, by_seq, max_rows)
                    else:
                        _read_items(reader, rows, result, by_seq, max_rows * ITEM_ROWS_PER_RESOURCE_ROW)
                structure.extend(_structure_problems(sheet, stream, book.merged_ranges(titles[sheet])))
        except XlsxRefused as refused:  # broken XML and damaged members too (sheet_errors)
            raise ImportRefused(ImportProblem.at(sheet, None, "", "", refused.message)) from refused
    if structure:
        # Values under merged ranges and formulas are not what the user sees: report the structure only.
        problems.items = structure
    result.complete = not structure and len(result.letters) == 2
    if not result.resources and not problems.items:
        if any(sheet == RESOURCE_SHEET for sheet, _ in result.examples):
            # The template sent back unchanged: say that its example is never imported, rather than "no rows".
            last = max(row for sheet, row in result.examples if sheet == RESOURCE_SHEET)
            message = gettext(
                "工作表“%(resource_sheet)s”只有模板的示例行（资源序号为“%(example_seq)s”），示例行不会导入，"
                "因此没有可导入的资源："
                "请从第%(value)s行起每行填写一个信息资源，资源序号填 1、2、3…"
            ) % {"resource_sheet": RESOURCE_SHEET, "example_seq": EXAMPLE_SEQ, "value": last + 1}
        else:
            message = gettext("工作表“%(resource_sheet)s”没有数据行：请从第2行起每行填写一个信息资源") % {
                "resource_sheet": RESOURCE_SHEET
            }
        problems.add(RESOURCE_SHEET, 2, None, "", message)
    result.problems = problems.items
    return result


def _read_resources(
    reader: _RowReader,
    rows: Iterator[tuple[int, list[object]]],
    result: ParsedFile,
    by_seq: dict[str, ParsedResource],
    max_rows: int,
) -> None:
    for row, values in rows:
        if _blank(values):
            continue
        if _is_example(reader, values):
            result.examples.append((RESOURCE_SHEET, row))
            continue
        if len(result.resources) >= max_rows:
            # Stop reading at once: the dimension was missing or wrong, the streamed count decides.
            raise ImportRefused(
                ImportProblem.at(RESOURCE_SHEET, row, "", "", row_limit_message(max_rows + 1, at_least=True))
            )
        result.resources.append(_resource_row(reader, row, values, by_seq))
    result.resource_rows = len(result.resources)


def _read_items(
    reader: _RowReader,
    rows: Iterator[tuple[int, list[object]]],
    result: ParsedFile,
    by_seq: Mapping[str, ParsedResource],
    max_items: int,
) -> None:
    for row, values in rows:
        if _blank(values):
            continue
        if _is_example(reader, values):
            result.examples.append((ITEM_SHEET, row))
            continue
        result.item_rows += 1
        if result.item_rows > max_items:
            message = gettext(
                "工作表“%(item_sheet)s”超过 %(max_items)s 行（资源行数上限的 %(times)s 倍），请拆分为多个文件分批导入"
            ) % {"item_sheet": ITEM_SHEET, "max_items": f"{max_items:,}", "times": ITEM_ROWS_PER_RESOURCE_ROW}
            raise ImportRefused(ImportProblem.at(ITEM_SHEET, row, "", "", message))
        _item_row(reader, row, values, by_seq)


def _is_example(reader: _RowReader, values: list[object]) -> bool:
    """A row of the template's example (资源序号 示例): never imported, whatever else it holds."""
    index = reader.positions.get("seq")
    return index is not None and index < len(values) and _text(values[index]) == EXAMPLE_SEQ


def _first_row(
    sheet: str, rows: Iterator[tuple[int, list[object]]], stream: SheetStream, max_rows: int
) -> list[object] | None:
    """The header row; the dimension (read before the rows) refuses an oversized sheet without reading it."""
    for _, values in rows:
        if sheet == RESOURCE_SHEET and stream.dimension_rows is not None and stream.dimension_rows - 1 > max_rows:
            raise ImportRefused(
                ImportProblem.at(
                    RESOURCE_SHEET, None, "", "", row_limit_message(stream.dimension_rows - 1, at_least=False)
                )
            )
        return values
    return None


def _resource_row(
    reader: _RowReader, row: int, values: list[object], by_seq: dict[str, ParsedResource]
) -> ParsedResource:
    values = reader.prepare(row, values)
    seq = _seq(values[reader.index["seq"]])
    related = reader.text(values, "related_codes")
    draft = ResourceDraft(
        name=reader.text(values, "name"),
        category_code=reader.text(values, "category_code"),
        department_code=reader.text(values, "department_code"),
        summary=reader.text(values, "summary"),
        format=reader.choice(values, "format"),
        sub_format=reader.text(values, "sub_format"),
        share_type=reader.choice(values, "share_type"),
        share_condition=reader.text(values, "share_condition"),
        share_basis=reader.text(values, "share_basis"),
        share_method=reader.choice(values, "share_method"),
        platform_share_type=reader.choice(values, "platform_share_type"),
        open_type=reader.choice(values, "open_type"),
        open_condition=reader.text(values, "open_condition"),
        grade=reader.choice(values, "grade"),
        data_level=reader.choice(values, "data_level"),
        update_cycle=reader.choice(values, "update_cycle"),
        related_codes=[c for c in _RELATED_SPLIT.split(related) if c] if related else [],
        code=reader.text(values, "code"),
        items=[],
    )
    parsed = ParsedResource(row, seq, draft)
    if not seq:
        reader.report(row, "seq", gettext("资源序号为必填项"))
        parsed.seq_ok = False
    elif seq in by_seq:
        reader.report(row, "seq", gettext("资源序号“%(seq)s”与第%(row)s行重复") % {"seq": seq, "row": by_seq[seq].row})
        parsed.seq_ok = False
    else:
        by_seq[seq] = parsed
    return parsed


def _item_row(reader: _RowReader, row: int, values: list[object], by_seq: Mapping[str, ParsedResource]) -> None:
    values = reader.prepare(row, values)
    seq = _seq(values[reader.index["seq"]])
    length = reader.integer(row, values, "length")
    description = reader.text(values, "description")
    if len(description) > MAX_DESCRIPTION:
        reader.report(
            row,
            "description",
            gettext("说明不能超过%(max_description)s个字符（现有%(count)s个）")
            % {"max_description": MAX_DESCRIPTION, "count": len(description)},
        )
    item = ItemDraft(
        name=reader.text(values, "name"),
        data_type=reader.choice(values, "data_type"),
        length=length,
        share_type=reader.choice(values, "share_type"),
        open_type=reader.choice(values, "open_type"),
        description=description,
        grade=reader.choice(values, "grade"),
        data_level=reader.choice(values, "data_level"),
        at_rest=reader.choice(values, "at_rest"),
    )
    if not seq:
        reader.report(row, "seq", gettext("资源序号为必填项：请填写该信息项所属资源的序号"))
        return
    parent = by_seq.get(seq)
    if parent is None:
        reader.report(
            row,
            "seq",
            gettext("资源序号“%(seq)s”在“%(resource_sheet)s”工作表中不存在")
            % {"seq": seq, "resource_sheet": RESOURCE_SHEET},
        )
        return
    parent.draft.items.append(item)
    parent.item_rows.append(row)

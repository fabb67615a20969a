"""Excel (.xlsx) batch import of catalogue entries: the template, the reader, the validation report, the import.

A file is checked completely before anything is written: its size, its real type (by content, not by name),
its sheets and headers, merged cells, formulas, the row limit, then every row and cell, and finally every
resource against the catalogue's rules (`services.resolve_drafts`, the same rules as the API and the pages).
Any problem refuses the whole file with a report of 工作表 / 行号 / 列 / 问题; a clean file is created in one
transaction through `services.create_resources`. Every attempt is kept as an `ImportBatch` with an audit row.

Reading: `govshare.core.xlsx`, the reader data loads use too: the archive and the parts read whole are bounded
before anything is parsed (zip bombs), then the rows are streamed from the sheet XML with lxml's iterparse, which
reports only the <row> elements (ElementTree's reported every cell and value: 30 % slower). openpyxl's own
read-only cell loop costs about 5 µs a cell in Python (7.7 s for a 20,000-resource file, measured), four times this
reader, and would alone miss the 2,000 rows/s bar; the stream also gives us formulas and the sheet dimension in the
same pass, and merged ranges come from a scan of the sheet's bytes.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import models, transaction
from django.db.models import QuerySet
from lxml import etree  # type: ignore[import-untyped]
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.catalog import access, services
from govshare.catalog.choices import (
    AtRest,
    DataGrade,
    DataLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.catalog.models import ImportBatch, Resource, RetiredResourceCode
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.errors import DomainError, FieldProblem, NotFound, PermissionDenied
from govshare.core.xlsx import ErrorValue, SheetStream, WorkbookInvalid, XlsxRefused, open_workbook
from govshare.core.xlsx import Workbook as UploadedWorkbook

RESOURCE_SHEET = "信息资源"
ITEM_SHEET = "信息项"
GUIDE_SHEET = "填写说明"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILE_NAME = "政务信息资源目录导入模板.xlsx"

# A report lists at most this many problems (the count is always complete).
MAX_REPORTED_PROBLEMS = 1000
# Item rows allowed per resource row limit, and the largest uncompressed sheet XML (a zip bomb guard).
ITEM_ROWS_PER_RESOURCE_ROW = 10
UNCOMPRESSED_FACTOR = 25


# ---------------------------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    note: str
    required_header: bool = True
    choices: type[models.TextChoices] | None = None
    width: int = 14
    text: bool = False  # the cell is formatted as text (codes must not turn into numbers)


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "seq", "本文件内资源的序号（1、2、3…），信息项工作表用它指明所属资源；必填且不得重复", width=10),
    Column("信息资源名称", "name", "必填，不超过200个字符", width=28),
    Column("分类码", "category_code", "必填，至少到“项”一级，如 101（基础-人口）、302（部门-经济管理）", text=True),
    Column(
        "提供方代码",
        "department_code",
        "必填，提供部门的代码（统一社会信用代码），须为您可编目的部门",
        width=22,
        text=True,
    ),
    Column("信息资源摘要", "summary", "必填，说明资源的内容", width=40),
    Column("信息资源格式", "format", "必填，下拉选择", choices=ResourceFormat),
    Column("格式细类", "sub_format", "选填，如 xlsx、csv、json、pdf、PostgreSQL"),
    Column("共享属性", "share_type", "必填，下拉选择", choices=ShareType),
    Column("共享条件", "share_condition", "有条件共享时必填", width=24),
    Column("不予共享依据", "share_basis", "不予共享时必填：法律、行政法规或国家政策依据", width=24),
    Column("共享方式", "share_method", "可共享的资源必填，下拉选择", choices=ShareMethod),
    Column(
        "共享方式类型",
        "platform_share_type",
        "共享平台方式时必填：接口、库表或文件（文件类资源用文件，数据库用库表或接口）",
        choices=PlatformShareType,
    ),
    Column("开放属性", "open_type", "必填，下拉选择；不予共享的资源只能不予开放", choices=OpenType),
    Column("开放条件", "open_condition", "有条件开放时必填", width=24),
    Column(
        "数据级别",
        "grade",
        "选填，留空为一般；核心数据只能不予开放，重要数据共享须经安全管理员会签（GB/T 43697）",
        required_header=False,
        choices=DataGrade,
    ),
    Column(
        "敏感级别",
        "data_level",
        "选填，留空为 L2（无条件开放的资源为 L1）；L4 只能不予开放，L3、L2 只能有条件开放（依申请、脱敏）",
        required_header=False,
        choices=DataLevel,
    ),
    Column("更新周期", "update_cycle", "必填，下拉选择", choices=UpdateCycle),
    Column("关联资源代码", "related_codes", "选填，多个代码用逗号或顿号分隔，如 101000000/000001", width=22, text=True),
    Column(
        "信息资源代码",
        "code",
        "选填：留空由平台按分类生成；填写时须为未使用过的代码，如 101000000/000123",
        required_header=False,
        width=20,
        text=True,
    ),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "seq", "必填，对应“信息资源”工作表中的资源序号", width=10),
    Column("信息项名称", "name", "必填，同一资源内不得重复，不超过100个字符", width=24),
    Column("数据类型", "data_type", "必填，下拉选择，也可填代码（C、N、Y、D、T、L、M、B）", choices=ItemDataType),
    Column("数据长度", "length", "字符型、数值型、货币型必填，正整数"),
    Column("共享属性", "share_type", "选填，留空同资源；不得比资源更宽松", choices=ShareType),
    Column("开放属性", "open_type", "选填，留空同资源；不得比资源更宽松", choices=OpenType),
    Column("数据级别", "grade", "选填，留空同资源；不得比资源更宽松", required_header=False, choices=DataGrade),
    Column("敏感级别", "data_level", "选填，留空同资源；不得比资源更宽松", required_header=False, choices=DataLevel),
    Column("说明", "description", "选填，不超过500个字符", width=30),
    Column(
        "静态加密",
        "at_rest",
        "选填，留空为明文（更新已有资源时留空则不变）；加密：归集数据以 SM4 加密存储；"
        "加密可检索：另存 HMAC-SM3，可按等值查询。数据来源的主键信息项须为明文",
        required_header=False,
        choices=AtRest,
    ),
)
SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {RESOURCE_SHEET: RESOURCE_COLUMNS, ITEM_SHEET: ITEM_COLUMNS}
_RESOURCE_BY_FIELD = {c.field: c for c in RESOURCE_COLUMNS}
_ITEM_BY_FIELD = {c.field: c for c in ITEM_COLUMNS}
_ITEM_FIELD_RE = re.compile(r"^items\[(\d+)\]\.(\w+)$")
_RELATED_SPLIT = re.compile(r"[\s,，、;；]+")
MAX_DESCRIPTION = 500


def _choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Label → value, and value → value (a cell may hold 有条件共享 or conditional; 字符型 or C)."""
    lookup = {str(label): str(value) for value, label in choices.choices}
    lookup.update({str(value): str(value) for value in choices.values})
    lookup.update({str(value).lower(): str(value) for value in choices.values})
    return lookup


_LOOKUPS: dict[str, dict[str, str]] = {
    c.header + ":" + c.field: _choice_lookup(c.choices) for c in (*RESOURCE_COLUMNS, *ITEM_COLUMNS) if c.choices
}


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


# ---------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ImportProblem:
    """One line of the report: 工作表, 行号, 列 (header and letter), 问题."""

    sheet: str
    row: int | None
    header: str
    letter: str
    message: str

    @property
    def column(self) -> str:
        if self.header and self.letter:
            return f"{self.header}（{self.letter}列）"
        return self.header or (f"{self.letter}列" if self.letter else "")

    def as_dict(self) -> dict[str, Any]:
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

    def __init__(self, *problems: ImportProblem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def _file_problem(message: str) -> ImportProblem:
    return ImportProblem("", None, "", "", message)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def size_limit_message(size: int | None = None) -> str:
    limit = settings.GOVSHARE.import_max_bytes
    got = f"（本文件 {_mb(size)}）" if size else ""
    return (
        f"文件超过导入大小上限 {_mb(limit)}{got}，未读取也未导入。"
        f"请拆分为多个文件后分批导入；上限由设置 import_max_bytes（环境变量 GOVSHARE_IMPORT_MAX_BYTES）规定。"
    )


def row_limit_message(rows: int | None, *, at_least: bool) -> str:
    limit = settings.GOVSHARE.import_max_rows
    counted = "" if rows is None else (f"至少 {rows:,} 行" if at_least else f"{rows:,} 行")
    return (
        f"工作表“{RESOURCE_SHEET}”的资源行数{counted}超过单个文件上限 {limit:,} 行，未导入。"
        f"请拆分为多个文件分批导入（若表尾有空白但带格式的行，请删除这些行）；"
        f"上限由设置 import_max_rows（环境变量 GOVSHARE_IMPORT_MAX_ROWS）规定。"
    )


# ---------------------------------------------------------------------------------------------- file type

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_file(head: bytes) -> ImportProblem | None:
    """Refuse anything that is not a zip container by its first bytes: .xls, CSV (UTF-8 or GBK), empty files."""
    if not head:
        return _file_problem("文件为空（0 字节），没有可导入的内容。请下载模板填写后再导入。")
    if head.startswith(_ZIP):
        return None
    if head.startswith(_OLE2):
        return _file_problem(
            "这是旧版 Excel 97-2003（.xls）文件或加密的工作簿，只接受 .xlsx 格式。"
            "请在 Excel 或 WPS 中“另存为”Excel 工作簿（.xlsx）并取消密码后再导入。"
        )
    sample = head[:4096]
    for encoding, name in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            # A multi-byte character may be cut at the end of the sample.
            try:
                text = sample[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text.lstrip("\ufeff")):
            kind = "CSV 或文本文件" if ("," in text or "\t" in text or "\n" in text) else "文本文件"
            return _file_problem(
                f"这是 {name} 编码的{kind}（可能是改了扩展名的 .csv），只接受 .xlsx 格式。"
                "请下载导入模板，把数据粘贴进模板后保存为 .xlsx 再导入。"
            )
    return _file_problem("无法识别的文件格式：只接受 Excel 工作簿（.xlsx）。请下载模板填写后再导入。")


# ---------------------------------------------------------------------------------------------- parsed rows


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


class _Problems:
    def __init__(self) -> None:
        self.items: list[ImportProblem] = []

    def add(self, sheet: str, row: int | None, column: Column | None, letter: str, message: str) -> None:
        self.items.append(ImportProblem(sheet, row, column.header if column else "", letter, message))


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
    sheet: str, header_row: list[object] | None, columns: tuple[Column, ...], problems: _Problems
) -> dict[str, int] | None:
    """Map field → 0-based index from the header row, or None after reporting what is missing or unknown."""
    if header_row is None:
        problems.add(
            sheet, 1, None, "", f"工作表“{sheet}”是空的：第1行应为表头（{'、'.join(c.header for c in columns)}）"
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
            known = "、".join(c.header for c in columns)
            problems.add(
                sheet, 1, None, letter, f"未知的列“{header}”（{letter}列）：模板中没有这一列。可用的列：{known}"
            )
            ok = False
        elif column.field in positions:
            first = get_column_letter(positions[column.field] + 1)
            problems.add(sheet, 1, column, letter, f"列“{header}”重复出现（{first}列和{letter}列）")
            ok = False
        else:
            positions[column.field] = index
    missing = [c.header for c in columns if c.required_header and c.field not in positions]
    if missing:
        problems.add(sheet, 1, None, "", f"缺少列：{'、'.join(missing)}。请使用平台提供的导入模板，不要删除或改名表头")
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

    def __init__(self, sheet: str, columns: tuple[Column, ...], positions: dict[str, int], problems: _Problems):
        self.sheet = sheet
        self.problems = problems
        self.columns = {c.field: c for c in columns}
        self.positions = positions
        self.letters = {name: get_column_letter(index + 1) for name, index in positions.items()}
        self.width = max(positions.values()) + 1 if positions else 0
        self.index = {c.field: positions.get(c.field, self.width) for c in columns}
        self.lookups = {c.field: _LOOKUPS[c.header + ":" + c.field] for c in columns if c.choices}
        self.headerless = [i for i in range(self.width) if i not in set(positions.values())]

    def prepare(self, row: int, values: list[object]) -> list[object]:
        """The row padded for indexed access, after reporting error values and data in headerless columns."""
        if ErrorValue in set(map(type, values)):
            for index, value in enumerate(values):
                if isinstance(value, ErrorValue):
                    letter = get_column_letter(index + 1)
                    column = next((self.columns[f] for f, i in self.positions.items() if i == index), None)
                    self.problems.add(self.sheet, row, column, letter, f"单元格 {letter}{row} 是错误值 {value}")
                    values[index] = None
        stray = [i for i in self.headerless if i < len(values) and _text(values[i])]
        stray.extend(i for i in range(self.width, len(values)) if _text(values[i]))
        for index in stray:
            letter = get_column_letter(index + 1)
            message = f"单元格 {letter}{row} 有内容“{_text(values[index])[:20]}”，但该列没有表头"
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
        self.report(row, name, f"{self.columns[name].header}“{text}”不是整数")
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
        message = f"单元格 {ref} 是合并单元格：请取消合并，并在每一行填写完整的值"
        found.append(ImportProblem(sheet, None, "", letter, message))
    for ref in stream.formulas[:50]:
        letter = ref.rstrip("0123456789")
        row = ref[len(letter) :]
        message = f"单元格 {ref} 含公式：导入只接受数值。请复制后“选择性粘贴 → 数值”再导入"
        found.append(ImportProblem(sheet, int(row) if row.isdigit() else None, "", letter, message))
    if stream.formula_count > 50:
        message = f"共有 {stream.formula_count} 个单元格含公式，以上仅列出前 50 个"
        found.append(ImportProblem(sheet, None, "", "", message))
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
            _file_problem(
                "文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或是改了扩展名的其他文件。请用模板重新保存后导入。"
            )
        ) from exc
    except XlsxRefused as refused:
        raise ImportRefused(_file_problem(refused.message)) from refused
    try:
        # Sheet names are matched without surrounding spaces ("信息资源 " is a common slip).
        titles = {title.strip(): title for title in book.sheets}
        missing = [name for name in (RESOURCE_SHEET, ITEM_SHEET) if name not in titles]
        if missing:
            found = "、".join(f"“{t}”" for t in titles) or "（无）"
            raise ImportRefused(
                *[
                    ImportProblem(
                        name, None, "", "", f"缺少工作表“{name}”（文件中的工作表：{found}）。请使用平台提供的导入模板"
                    )
                    for name in missing
                ]
            )
        # Tighter than xlsx_max_member_bytes: an import file is at most import_max_bytes.
        limit = settings.GOVSHARE.import_max_bytes * UNCOMPRESSED_FACTOR
        for name in (RESOURCE_SHEET, ITEM_SHEET):
            if book.archive.getinfo(book.sheets[titles[name]]).file_size > limit:
                raise ImportRefused(
                    ImportProblem(
                        name,
                        None,
                        "",
                        "",
                        f"工作表“{name}”解压后超过 {_mb(limit)}，不予读取。{row_limit_message(None, at_least=False)}",
                    )
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
    problems = _Problems()
    max_rows = settings.GOVSHARE.import_max_rows
    result = ParsedFile([], [])
    by_seq: dict[str, ParsedResource] = {}
    structure: list[ImportProblem] = []
    for sheet in (RESOURCE_SHEET, ITEM_SHEET):
        columns = SHEET_COLUMNS[sheet]
        try:
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
        except XlsxRefused as refused:
            raise ImportRefused(ImportProblem(sheet, None, "", "", refused.message)) from refused
        except etree.XMLSyntaxError as exc:
            message = f"工作表内容不是有效的 XML，文件可能已损坏：{exc}"
            raise ImportRefused(ImportProblem(sheet, None, "", "", message)) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, IndexError, ValueError, KeyError) as exc:
            # A damaged zip member, a truncated stream, a shared-string index out of range, a bad row number.
            message = f"工作表“{sheet}”无法读取，文件可能已损坏或不完整。请在 Excel 中打开并重新保存为 .xlsx 后导入"
            raise ImportRefused(ImportProblem(sheet, None, "", "", message)) from exc
    if structure:
        # Values under merged ranges and formulas are not what the user sees: report the structure only.
        problems.items = structure
    result.complete = not structure and len(result.letters) == 2
    if not result.resources and not problems.items:
        problems.add(
            RESOURCE_SHEET, 2, None, "", f"工作表“{RESOURCE_SHEET}”没有数据行：请从第2行起每行填写一个信息资源"
        )
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
        if len(result.resources) >= max_rows:
            # Stop reading at once: the dimension was missing or wrong, the streamed count decides.
            raise ImportRefused(
                ImportProblem(RESOURCE_SHEET, row, "", "", row_limit_message(max_rows + 1, at_least=True))
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
        result.item_rows += 1
        if result.item_rows > max_items:
            message = (
                f"工作表“{ITEM_SHEET}”超过 {max_items:,} 行（资源行数上限的 {ITEM_ROWS_PER_RESOURCE_ROW} 倍），"
                "请拆分为多个文件分批导入"
            )
            raise ImportRefused(ImportProblem(ITEM_SHEET, row, "", "", message))
        _item_row(reader, row, values, by_seq)


def _first_row(
    sheet: str, rows: Iterator[tuple[int, list[object]]], stream: SheetStream, max_rows: int
) -> list[object] | None:
    """The header row; the dimension (read before the rows) refuses an oversized sheet without reading it."""
    for _, values in rows:
        if sheet == RESOURCE_SHEET and stream.dimension_rows is not None and stream.dimension_rows - 1 > max_rows:
            raise ImportRefused(
                ImportProblem(
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
        reader.report(row, "seq", "资源序号为必填项")
        parsed.seq_ok = False
    elif seq in by_seq:
        reader.report(row, "seq", f"资源序号“{seq}”与第{by_seq[seq].row}行重复")
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
        reader.report(row, "description", f"说明不能超过{MAX_DESCRIPTION}个字符（现有{len(description)}个）")
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
        reader.report(row, "seq", "资源序号为必填项：请填写该信息项所属资源的序号")
        return
    parent = by_seq.get(seq)
    if parent is None:
        reader.report(row, "seq", f"资源序号“{seq}”在“{RESOURCE_SHEET}”工作表中不存在")
        return
    parent.draft.items.append(item)
    parent.item_rows.append(row)


# ---------------------------------------------------------------------------------------------- validate


@dataclass
class Validation:
    resolved: list[services.ResolvedDraft]
    problems: list[ImportProblem]


def _merged_report(cell_problems: list[ImportProblem], rule_problems: list[ImportProblem]) -> list[ImportProblem]:
    """Both lists, without a rule's second word on a cell the reader already reported (数据长度“二十”不是整数
    needs no "必须填写数据长度" after it)."""
    seen = {(p.sheet, p.row, p.letter) for p in cell_problems if p.row is not None and p.letter}
    return cell_problems + [p for p in rule_problems if (p.sheet, p.row, p.letter) not in seen]


def _rule_problem(
    parsed: ParsedResource, problem: FieldProblem, letters: Mapping[str, Mapping[str, str]]
) -> ImportProblem:
    """Place a rule's FieldProblem on the sheet, row and column it came from."""
    match = _ITEM_FIELD_RE.match(problem.field)
    if match:
        position, name = int(match.group(1)), match.group(2)
        row = parsed.item_rows[position - 1] if position <= len(parsed.item_rows) else None
        column = _ITEM_BY_FIELD.get(name)
        letter = letters.get(ITEM_SHEET, {}).get(name, "")
        return ImportProblem(ITEM_SHEET, row, column.header if column else "", letter, problem.message)
    name = "seq" if problem.field == "items" else problem.field
    column = _RESOURCE_BY_FIELD.get(name)
    letter = letters.get(RESOURCE_SHEET, {}).get(name, "")
    return ImportProblem(RESOURCE_SHEET, parsed.row, column.header if column else "", letter, problem.message)


def validate(parsed: ParsedFile, *, actor: User) -> Validation:
    """Check the drafts with the catalogue's rules, the importer's departments and the codes in use."""
    resources = [p for p in parsed.resources if p.seq_ok]
    resolved_all, rule_problems = services.resolve_drafts([p.draft for p in resources])
    problems: list[ImportProblem] = []
    resolved_iter = iter(resolved_all)
    resolved: list[services.ResolvedDraft] = []
    allowed: dict[int, bool] = {}
    for item, found in zip(resources, rule_problems, strict=True):
        if found:
            problems.extend(_rule_problem(item, p, parsed.letters) for p in found)
            continue
        r = next(resolved_iter)
        department = r.department
        if department.pk not in allowed:
            allowed[department.pk] = access.can_catalog_for(actor, department.pk)
        if not allowed[department.pk]:
            message = f"您无权为“{department.name}”（{department.code}）编目：部门目录管理员只能导入本部门的资源"
            problems.append(_rule_problem(item, FieldProblem("department_code", message), parsed.letters))
            continue
        resolved.append(r)
    problems.extend(_code_problems(resources, parsed.letters.get(RESOURCE_SHEET, {}).get("code", "")))
    return Validation(resolved, problems)


def _code_problems(resources: Sequence[ParsedResource], letter: str) -> list[ImportProblem]:
    """Explicit codes must be unique in the file, unused and never retired (codes are never reused)."""
    column = _RESOURCE_BY_FIELD["code"]
    problems: list[ImportProblem] = []
    first_row: dict[str, int] = {}
    for p in resources:
        code = p.draft.code
        if not code:
            continue
        if code in first_row:
            problems.append(
                ImportProblem(
                    RESOURCE_SHEET, p.row, column.header, letter, f"信息资源代码“{code}”与第{first_row[code]}行重复"
                )
            )
        else:
            first_row[code] = p.row
    if first_row:
        codes = list(first_row)
        used: set[str] = set()
        retired: set[str] = set()
        for start in range(0, len(codes), 900):
            chunk = codes[start : start + 900]
            used |= set(Resource.objects.filter(code__in=chunk).values_list("code", flat=True))
            retired |= set(RetiredResourceCode.objects.filter(code__in=chunk).values_list("code", flat=True))
        for code in sorted(used | retired, key=first_row.__getitem__):
            why = "已被平台中的资源使用" if code in used else "属于已删除的资源，已注销（代码不可重复使用）"
            problems.append(
                ImportProblem(RESOURCE_SHEET, first_row[code], column.header, letter, f"信息资源代码“{code}”{why}")
            )
    return problems


# ---------------------------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    batch: ImportBatch
    problems: list[ImportProblem]
    created: list[Resource] = field(default_factory=list)
    # Seconds spent per phase (read, validate, write), for the page and the benchmark.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def imported(self) -> bool:
        return self.batch.outcome == ImportBatch.Outcome.IMPORTED


def may_import(user: User) -> bool:
    """Department catalogue administrators and the platform administrator may import."""
    return user.is_platform_admin or user.has_role(Role.CATALOG_ADMIN)


def _measure(upload: IO[bytes]) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes, reading at most the size limit plus one chunk."""
    limit = settings.GOVSHARE.import_max_bytes
    digest = hashlib.sha256()
    size = 0
    head = b""
    upload.seek(0)
    while chunk := upload.read(1024 * 1024):
        if not head:
            head = chunk[:8192]
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    upload.seek(0)
    return size, digest.hexdigest(), head


def _check_may_import(actor: User) -> None:
    if not may_import(actor):
        raise PermissionDenied("只有部门目录管理员和平台管理员可以批量导入目录")


def refuse_too_large(*, file_name: str, size: int | None, actor: User) -> ImportResult:
    """Record the refusal of an upload that the web layer stopped at the size limit (never read in full)."""
    _check_may_import(actor)
    return _refuse(file_name, size or 0, "", [_file_problem(size_limit_message(size))], actor, time.perf_counter())


def import_catalog(upload: IO[bytes], *, file_name: str, actor: User, declared_size: int | None = None) -> ImportResult:
    """Check the whole file, then import every resource in one transaction, or nothing with a report."""
    _check_may_import(actor)
    started = time.perf_counter()
    limit = settings.GOVSHARE.import_max_bytes
    if declared_size is not None and declared_size > limit:
        return _refuse(file_name, declared_size, "", [_file_problem(size_limit_message(declared_size))], actor, started)
    size, sha256, head = _measure(upload)
    if size > limit:
        return _refuse(file_name, size, "", [_file_problem(size_limit_message(None))], actor, started)
    if problem := sniff_file(head):
        return _refuse(file_name, size, sha256, [problem], actor, started)
    try:
        parsed = parse_workbook(upload)
    except ImportRefused as refused:
        return _refuse(file_name, size, sha256, refused.problems, actor, started)
    read_at = time.perf_counter()
    # Cell problems and rule problems are reported together, so that one round of corrections fixes the file.
    validation = validate(parsed, actor=actor) if parsed.complete else Validation([], [])
    validated_at = time.perf_counter()
    if parsed.problems or validation.problems:
        problems = _merged_report(parsed.problems, validation.problems)
        return _refuse(file_name, size, sha256, problems, actor, started, rows=parsed.resource_rows)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                file_name=file_name[:255],
                file_size=size,
                sha256=sha256,
                uploaded_by=actor,
                outcome=ImportBatch.Outcome.IMPORTED,
                row_count=parsed.resource_rows,
                created_count=len(validation.resolved),
            )
            created = services.create_resources(
                validation.resolved, actor=actor, batch_note=f"批量导入 #{batch.pk}：{file_name}"[:500]
            )
            batch.duration_ms = int((time.perf_counter() - started) * 1000)
            batch.save(update_fields=["duration_ms"])
            record_action(
                actor,
                "catalog.import.imported",
                batch,
                file_name=file_name,
                rows=parsed.resource_rows,
                created=len(created),
            )
    except DomainError as exc:  # a code taken meanwhile, a department deactivated meanwhile…
        return _refuse(file_name, size, sha256, [_file_problem(str(exc))], actor, started, rows=parsed.resource_rows)
    timings = {
        "read": read_at - started,
        "validate": validated_at - read_at,
        "write": time.perf_counter() - validated_at,
    }
    return ImportResult(batch, [], created, timings)


def _refuse(
    file_name: str,
    size: int,
    sha256: str,
    problems: list[ImportProblem],
    actor: User,
    started: float,
    *,
    rows: int = 0,
) -> ImportResult:
    problems = sorted(problems, key=_problem_order)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            file_name=file_name[:255],
            file_size=size,
            sha256=sha256,
            uploaded_by=actor,
            outcome=ImportBatch.Outcome.REFUSED,
            row_count=rows,
            created_count=0,
            problem_count=len(problems),
            report=[p.as_dict() for p in problems[:MAX_REPORTED_PROBLEMS]],
            duration_ms=int((time.perf_counter() - started) * 1000),
        )
        record_action(actor, "catalog.import.refused", batch, file_name=file_name, problems=len(problems))
    return ImportResult(batch, problems)


def _problem_order(problem: ImportProblem) -> tuple[int, int, str]:
    sheet = {"": 0, RESOURCE_SHEET: 1, ITEM_SHEET: 2}.get(problem.sheet, 3)
    return sheet, problem.row or 0, problem.letter.rjust(3)


def my_batches(user: User) -> QuerySet[ImportBatch]:
    """The user's own import attempts, newest first."""
    return ImportBatch.objects.filter(uploaded_by=user).order_by("-created_at", "-pk")


def get_my_batch(user: User, pk: int) -> ImportBatch:
    batch = my_batches(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound("导入记录不存在或无权访问")
    return batch


def report_of(batch: ImportBatch) -> list[ImportProblem]:
    """The stored report of a batch as problems (for pages and the API)."""
    return [
        ImportProblem(p.get("sheet", ""), p.get("row"), p.get("header", ""), p.get("column", ""), p.get("message", ""))
        for p in batch.report
    ]


# ---------------------------------------------------------------------------------------------- upload limit

# Room for the multipart envelope and the form's other fields around the file.
MULTIPART_SLACK = 256 * 1024


class UploadSizeLimit(FileUploadHandler):
    """The first upload handler of an import request: stops the upload as soon as it passes import_max_bytes.

    A request whose declared length already exceeds the limit is stopped before the file's first byte is
    read; otherwise the file streams through until the limit. Either way at most the limit (plus one chunk)
    is read, nothing is kept, and the view answers with the refusal (`exceeded`).
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = settings.GOVSHARE.import_max_bytes
        self.exceeded = False
        self.declared: int | None = None
        self.received = 0
        self.upload_name = ""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        self.declared = content_length
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.upload_name = file_name or ""
        if self.declared is not None and self.declared > self.limit + MULTIPART_SLACK:
            self._stop()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received = start + len(raw_data)
        if self.received > self.limit:
            self._stop()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _stop(self) -> None:
        self.exceeded = True
        raise StopUpload(connection_reset=True)

    @property
    def size(self) -> int | None:
        """The best known size of the refused file (the declared request length when it was never read)."""
        if self.declared is not None and self.declared > self.limit:
            return self.declared
        return self.received or None


def limit_upload(request: Any) -> UploadSizeLimit:
    """Install the size limit as the request's first upload handler (before anything reads the body)."""
    handler = UploadSizeLimit(request)
    request.upload_handlers.insert(0, handler)
    return handler


# ---------------------------------------------------------------------------------------------- template


def guide_rows() -> list[tuple[str, str]]:
    limit_rows = settings.GOVSHARE.import_max_rows
    limit_size = _mb(settings.GOVSHARE.import_max_bytes)
    rows = [
        (
            "用法",
            f"在“{RESOURCE_SHEET}”工作表每行填写一个信息资源，在“{ITEM_SHEET}”工作表每行填写一个信息项，用“资源序号”对应。",
        ),
        (
            "导入规则",
            "文件中只要有一处错误就整份不导入，平台返回逐行的错误报告（工作表、行号、列、问题）；全部正确时一次全部导入为草稿。",
        ),
        (
            "限制",
            f"只接受 .xlsx；文件不超过 {limit_size}，资源不超过 {limit_rows:,} 行；不得有合并单元格和公式。",
        ),
        ("表头", "第1行为表头，请勿删除或改名；列的顺序可以调整。带下拉的列请从下拉中选择。"),
        ("代码", "分类码、提供方代码、信息资源代码请按文本填写，避免 Excel 把它们变成数字。"),
    ]
    for sheet, columns in SHEET_COLUMNS.items():
        for column in columns:
            allowed = ""
            if column.choices:
                allowed = "；可选：" + "、".join(str(label) for label in column.choices.labels)
            rows.append((f"{sheet} · {column.header}", column.note + allowed))
    return rows


_SAMPLE_RESOURCE: dict[str, object] = {
    "seq": 1,
    "name": "常住人口户籍登记信息",
    "category_code": "101",
    "department_code": "",
    "summary": "全市常住人口的户籍登记信息，包括公民身份号码、姓名、性别、出生日期和户籍地址。",
    "format": "数据库",
    "sub_format": "PostgreSQL",
    "share_type": "有条件共享",
    "share_condition": "用于政务服务身份核验，须经提供部门审核",
    "share_basis": "",
    "share_method": "共享平台方式",
    "platform_share_type": "接口",
    "open_type": "不予开放",
    "open_condition": "",
    "grade": "重要",
    "data_level": "L3 较敏感",
    "update_cycle": "每日",
    "related_codes": "",
    "code": "",
}
_SAMPLE_ITEMS: list[dict[str, object]] = [
    {"seq": 1, "name": "公民身份号码", "data_type": "字符型", "length": 18, "description": "18位"},
    {"seq": 1, "name": "姓名", "data_type": "字符型", "length": 50},
    {"seq": 1, "name": "出生日期", "data_type": "日期型"},
]
_HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
VALIDATION_ROWS = 50_000


def write_template(target: IO[bytes], *, department_code: str = "") -> None:
    """The import template: two data sheets with drop-downs of the Chinese labels, a sample, and a guide."""
    workbook = Workbook()
    sheets = [workbook.active, workbook.create_sheet(ITEM_SHEET)]
    sheets[0].title = RESOURCE_SHEET  # type: ignore[union-attr]
    samples = [[{**_SAMPLE_RESOURCE, "department_code": department_code}], _SAMPLE_ITEMS]
    for sheet, columns, rows in zip(sheets, (RESOURCE_COLUMNS, ITEM_COLUMNS), samples, strict=True):
        assert sheet is not None
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.fill, cell.font = _HEADER_FILL, _HEADER_FONT
            cell.alignment = Alignment(horizontal="center")
            cell.comment = Comment(column.note, "govshare")
            sheet.column_dimensions[letter].width = column.width
            if column.text:
                for row in range(2, 202):
                    sheet.cell(row=row, column=index).number_format = "@"
            if column.choices:
                options = ",".join(str(label) for label in column.choices.labels)
                validation = DataValidation(
                    type="list",
                    formula1=f'"{options}"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="请从下拉中选择",
                    error=f"{column.header}可选：{options.replace(',', '、')}",
                )
                validation.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
                sheet.add_data_validation(validation)
        for row_index, sample in enumerate(rows, start=2):
            for index, column in enumerate(columns, start=1):
                value = sample.get(column.field)
                if value not in (None, ""):
                    sheet.cell(row=row_index, column=index, value=value)
        sheet.freeze_panes = "B2"
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 26
    guide.column_dimensions["B"].width = 100
    guide.append(["项目", "说明"])
    for label, text in guide_rows():
        guide.append([label, text])
    for cell in guide[1]:
        cell.fill, cell.font = _HEADER_FILL, _HEADER_FONT
    workbook.save(target)


def template_bytes(*, department_code: str = "") -> bytes:
    buffer = io.BytesIO()
    write_template(buffer, department_code=department_code)
    return buffer.getvalue()


def resource_row_values(resource: Resource, seq: int) -> list[object]:
    """One resource as a row of the template's 信息资源 sheet (labels, codes): what an export writes."""
    values: dict[str, object] = {
        "seq": seq,
        "name": resource.name,
        "category_code": resource.category.code,
        "department_code": resource.department.code,
        "summary": resource.summary,
        "format": _label(ResourceFormat, resource.format),
        "sub_format": resource.sub_format,
        "share_type": _label(ShareType, resource.share_type),
        "share_condition": resource.share_condition,
        "share_basis": resource.share_basis,
        "share_method": _label(ShareMethod, resource.share_method) if resource.share_method else "",
        "platform_share_type": _label(PlatformShareType, resource.platform_share_type)
        if resource.platform_share_type
        else "",
        "open_type": _label(OpenType, resource.open_type),
        "open_condition": resource.open_condition,
        "grade": _label(DataGrade, resource.grade),
        "data_level": _label(DataLevel, resource.data_level),
        "update_cycle": _label(UpdateCycle, resource.update_cycle),
        "related_codes": "、".join(resource.related_codes or []),
        "code": resource.code,
    }
    return [values[c.field] or None for c in RESOURCE_COLUMNS]


def item_row_values(item: Any, seq: int, resource: Resource) -> list[object]:
    """One item as a row of the 信息项 sheet; attributes equal to the resource's are left blank (同资源)."""
    values: dict[str, object] = {
        "seq": seq,
        "name": item.name,
        "data_type": _label(ItemDataType, item.data_type),
        "length": item.length,
        "share_type": "" if item.share_type == resource.share_type else _label(ShareType, item.share_type),
        "open_type": "" if item.open_type == resource.open_type else _label(OpenType, item.open_type),
        "grade": "" if item.grade == resource.grade else _label(DataGrade, item.grade),
        "data_level": "" if item.data_level == resource.data_level else _label(DataLevel, item.data_level),
        "description": item.description,
        "at_rest": "" if item.at_rest == AtRest.PLAIN else _label(AtRest, item.at_rest),
    }
    return [values[c.field] if values[c.field] not in ("", None) else None for c in ITEM_COLUMNS]


def header_row(columns: Iterable[Column]) -> list[str]:
    return [c.header for c in columns]

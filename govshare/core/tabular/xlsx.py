"""Reading .xlsx workbooks from uploads: the one reader of the catalogue import and of data loads (文件报送, the
source preview), so that every way a workbook is opened is guarded the same way.

- `open_workbook` checks the archive first (`govshare.core.archives.check_zip_members`, limits from the settings
  xlsx_max_member_bytes, xlsx_max_total_bytes, xlsx_max_ratio), then bounds each part read whole by what it is:
  the package manifest, the workbook part and its relationships by `STRUCTURE_PART_BYTES` (openpyxl parses them
  into objects; spreadsheet applications write a few hundred KB), the shared strings and the styles by
  xlsx_max_part_bytes. Only then is anything parsed.
- The manifest, the workbook part and its relationships (sheet names and paths, the 1904 date system) are read with
  openpyxl; the cells are not. openpyxl's read-only cell loop costs about 5 µs a cell in Python and uses
  ElementTree, which holds a text node or a row of any size; here the sheets, the shared strings and the styles are
  streamed with lxml's iterparse (entities not expanded, no DTD, nothing fetched, libxml2's 10 MB limit on one text
  node kept, elements dropped once read).
- Behind the parser, `_ElementGuard` reads the bytes first: it refuses a DTD, comments, CDATA sections and processing
  instructions (spreadsheet applications write none of them in these parts, and they could hide what the guard
  counts) and any row (any shared string, any style record) of more than `MAX_ELEMENT_TAGS` tags. The parser builds
  one row at a time; without the guard a single "row" of a hundred million cells, a few MB compressed, would be built
  in memory whole.
- A sheet is read up to the end of its <sheetData>: nothing after the cells is parsed. Merged ranges, which follow
  the cells, are found by a scan of the bytes (`Workbook.merged_ranges`) before or after the rows are read. The
  shared strings are read as far as the cells need them (`SharedStrings`): a preview of the first rows reads the
  start of the table only.

Cell values: shared and inline strings (rich text joined, phonetic runs left out), numbers as int (whole) or float,
booleans, Excel errors as `ErrorValue`, and, when the sheet is read with `dates=True`, numbers in a date or time
format as datetime/time/timedelta exactly as openpyxl converts them. A formula cell gives its cached result; one
without a result (never calculated: written by a program, or calculation set to manual) gives `NoCachedValue`, so
that the caller can refuse it instead of loading NULL. `SheetStream.formulas` lists where formulas are.

A sheet that breaks off while its rows are read (broken XML, a damaged member, a truncated stream) is turned into
`XlsxRefused` with a Chinese message by `sheet_errors`, so that each caller catches that one exception.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from lxml import etree  # type: ignore[import-untyped]
from openpyxl.packaging.manifest import Manifest
from openpyxl.packaging.relationship import get_rels_path
from openpyxl.reader.excel import _find_workbook_part
from openpyxl.reader.workbook import WorkbookParser
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.xml.constants import ARC_CONTENT_TYPES, ARC_STYLE, SHARED_STRINGS
from openpyxl.xml.functions import fromstring

from govshare.core.archives import ArchiveRefused, check_zip_members, size_text

# Why a workbook is refused: said in the reader's language when raised. The ones with values are listed in
# SENTENCES so that a stored load log or error says them again in its reader's language (govshare.jobs.logs).
NOT_A_WORKBOOK = gettext_noop("文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或是改了扩展名的其他文件")
NOT_A_WORKBOOK_DETAIL = gettext_noop(
    "文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏，或是改了扩展名的其他文件（%(detail)s）"
)
XML_DECLARATIONS = gettext_noop(
    "“%(part)s”含有 DTD、注释、CDATA 或处理指令（Excel 和 WPS 不会写出这些内容），不予读取；"
    "请在 Excel 或 WPS 中打开并重新保存为 .xlsx"
)
TOO_MANY_TAGS = gettext_noop(
    "“%(part)s”中有一%(what)s的 XML 标签超过 %(limit)s 个（Excel 一行最多 16,384 列），不是正常的工作簿，不予读取"
)
SHARED_STRING = gettext_noop("个共享字符串")
ROW = gettext_noop("行")
STYLE = gettext_noop("条样式")
SHEET = gettext_noop("工作表")
PART_DAMAGED = gettext_noop("%(part)s 已损坏")
TOO_MANY_MERGED = gettext_noop("工作表“%(sheet)s”的合并单元格超过 %(limit)s 处，不予读取；请取消合并后重新上传")
PART_MISSING = gettext_noop("缺少部件 %(part)s")
PART_TOO_LARGE = gettext_noop("压缩包中的“%(part)s”（%(what)s）解压后为 %(size)s，超过上限 %(limit)s，未读取。%(note)s")
LIMIT_SETTING = gettext_noop("上限由设置 %(setting)s（环境变量 GOVSHARE_%(variable)s）规定")
SMALL_PART = gettext_noop("电子表格软件写出的这一部件只有几百 KB")
CONTENT_TYPES = gettext_noop("内容类型清单")
WORKBOOK_PART = gettext_noop("工作簿部件")
WORKBOOK_RELATIONS = gettext_noop("工作簿的关系部件")
SHARED_STRINGS_PART = gettext_noop("共享字符串表")
STYLES_PART = gettext_noop("样式表")
SHEET_PART_MISSING = gettext_noop("缺少工作表“%(sheet)s”的部件 %(part)s")
TOO_MANY_MERGED_CELLS = gettext_noop(
    "工作表“%(sheet)s”的合并单元格共覆盖超过 %(limit)s 个单元格（如 %(ref)s），不予读取；请取消合并后重新上传"
)
LONG_TEXT_IN_SHEET = gettext_noop(
    "工作表“%(sheet)s”中有单元格的文本过长：超过 %(bytes)s 字节（读取上限），不予读取。"
    "Excel 的单元格最多 %(chars)s 个字符，请检查该工作表中内容异常的单元格"
)
LONG_TEXT = gettext_noop(
    "工作表中有单元格的文本过长：超过 %(bytes)s 字节（读取上限），不予读取。"
    "Excel 的单元格最多 %(chars)s 个字符，请检查该工作表中内容异常的单元格"
)
BROKEN_XML = gettext_noop("工作表内容不是有效的 XML，文件可能已损坏：%(reason)s")
SENTENCES = (
    NOT_A_WORKBOOK_DETAIL,
    XML_DECLARATIONS,
    TOO_MANY_TAGS,
    PART_DAMAGED,
    TOO_MANY_MERGED,
    PART_MISSING,
    PART_TOO_LARGE,
    SHEET_PART_MISSING,
    TOO_MANY_MERGED_CELLS,
    LONG_TEXT_IN_SHEET,
    LONG_TEXT,
    BROKEN_XML,
)
# Values said again in the reader's language when a stored sentence is read (the part's or an element's name).
SENTENCE_VALUES = {"what": gettext, "part": gettext}

__all__ = [
    "MAX_ELEMENT_TAGS",
    "MAX_MERGED_CELLS",
    "MAX_MERGED_RANGES",
    "STRUCTURE_PART_BYTES",
    "ErrorValue",
    "NoCachedValue",
    "SharedStrings",
    "SheetStream",
    "SheetUnreadable",
    "Workbook",
    "WorkbookInvalid",
    "XlsxLimits",
    "XlsxRefused",
    "fill_merged",
    "merged_areas",
    "open_workbook",
    "parse_range",
    "sheet_errors",
]

STRUCTURE_PART_BYTES = 8 * 1024 * 1024
# Tags ("<") allowed in one row, one shared string or one style record. A row of Excel's 16,384 columns with a
# value in each has 65,536; what the parser then holds is a few tens of MB at most.
MAX_ELEMENT_TAGS = 200_000
# Merged ranges listed for one sheet (each is kept while the sheet is read).
MAX_MERGED_RANGES = 1_000_000
# Cells that the merged ranges of one sheet may cover together: filling them is work (and rows) the file asks for.
MAX_MERGED_CELLS = 20_000_000
# Formula cells listed by position (all are counted).
MAX_LISTED_FORMULAS = 1000
_CHUNK = 64 * 1024
_SCAN = 1024 * 1024
_PARSE = {"resolve_entities": False, "load_dtd": False, "no_network": True, "huge_tree": False}

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _V, _F, _IS, _T, _R, _SI = (_NS + t for t in ("row", "v", "f", "is", "t", "r", "si"))
_DIMENSION, _SHEET_DATA = _NS + "dimension", _NS + "sheetData"
_NUM_FMT, _XF, _CELL_XFS = _NS + "numFmt", _NS + "xf", _NS + "cellXfs"
_WORKSHEET_REL = "/worksheet"
_REF_RE = re.compile(r"^([A-Z]{1,3})(\d+)$")
_RANGE_RE = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?$")
_MERGE_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"'][^>]*>")
_ROW_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_SI_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_STYLE_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:xf|numFmt|font|fill|border|dxf|cellStyle)[\s/>]")
_LETTERS: dict[str, int] = {}


class XlsxRefused(Exception):
    """The workbook is not read: `message` (Chinese) says why and, for a limit, which limit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WorkbookInvalid(XlsxRefused):
    """Not a readable workbook: not a zip archive, a part missing or broken."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(gettext(NOT_A_WORKBOOK_DETAIL) % {"detail": detail} if detail else gettext(NOT_A_WORKBOOK))


class ErrorValue(str):
    """A cell holding an Excel error such as #N/A or #REF!."""


class NoCachedValue(str):
    """A formula cell without a calculated result; the text is the formula ("=SUM(B2:B9)", or "=" when shared)."""


@dataclass(frozen=True)
class XlsxLimits:
    member_bytes: int
    total_bytes: int
    ratio: float
    part_bytes: int

    @classmethod
    def from_settings(cls) -> XlsxLimits:
        config = settings.GOVSHARE
        return cls(
            member_bytes=config.xlsx_max_member_bytes,
            total_bytes=config.xlsx_max_total_bytes,
            ratio=config.xlsx_max_ratio,
            part_bytes=config.xlsx_max_part_bytes,
        )


def _column_index(letters: str) -> int:
    index = _LETTERS.get(letters)
    if index is None:
        index = 0
        for ch in letters:
            index = index * 26 + ord(ch) - 64
        _LETTERS[letters] = index
    return index


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """ "B2:C5" → (first row, first column, last row, last column), 1-based; a single cell "B2" → (2, 2, 2, 2)."""
    match = _RANGE_RE.match(ref.strip().upper())
    if not match:
        return None
    first_col, first_row, last_col, last_row = match.groups()
    top, left = int(first_row), _column_index(first_col)
    bottom, right = (int(last_row), _column_index(last_col)) if last_col else (top, left)
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _inline_text(element: Any) -> str:
    if len(element) == 1 and element[0].tag == _T:
        return element[0].text or ""
    parts: list[str] = []
    for child in element:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:  # rich-text run; phonetic runs (rPh) are skipped
            parts.extend(t.text or "" for t in child.iter(_T))
    return "".join(parts)


class _ElementGuard:
    """A member read for lxml, checked on the way: no DTD, comment, CDATA section or processing instruction after the
    XML declaration, and at most MAX_ELEMENT_TAGS tags from one start of `record` (a row, a shared string…) to the
    next. A record start split between two reads is not seen: the two records are counted together (a stricter count,
    never a laxer one)."""

    def __init__(self, raw: IO[bytes], record: re.Pattern[bytes], *, part: str, what: str) -> None:
        self._raw = raw
        self._record = record
        self._part = part
        self._what = what
        self._offset = 0
        self._since_record = 0
        self._ended_with_lt = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(_CHUNK if size is None or size < 0 or size > _CHUNK else size)
        if not chunk:
            return chunk
        bang = chunk.find(b"<!")
        question = chunk.find(b"<?", 1 if self._offset == 0 else 0)
        if self._offset == 0 and chunk.startswith(b"\xef\xbb\xbf<?"):
            question = chunk.find(b"<?", 4)
        if bang >= 0 or question >= 0 or (self._ended_with_lt and chunk[:1] in (b"!", b"?")):
            raise XlsxRefused(gettext(XML_DECLARATIONS) % {"part": gettext(self._part)})
        self._offset += len(chunk)
        self._ended_with_lt = chunk.endswith(b"<")
        tags = chunk.count(b"<")
        last = self._last_record(chunk)
        if last < 0:
            self._since_record += tags
            if self._since_record > MAX_ELEMENT_TAGS:
                self._refuse()
        else:
            # Records that start and end in this read hold fewer tags than one read can (_CHUNK bytes).
            if self._since_record + tags > MAX_ELEMENT_TAGS:
                first = self._record.search(chunk)
                if first is None or self._since_record + chunk.count(b"<", 0, first.start()) > MAX_ELEMENT_TAGS:
                    self._refuse()
            self._since_record = chunk.count(b"<", last)
        return chunk

    def _last_record(self, chunk: bytes) -> int:
        """Where the last record starts in `chunk`, -1 if none does (looked for in its end first)."""
        start = max(0, len(chunk) - 4096)
        while True:
            last = -1
            for match in self._record.finditer(chunk, start):
                last = match.start()
            if last >= 0 or start == 0:
                return last
            start = 0

    def _refuse(self) -> None:
        raise XlsxRefused(
            gettext(TOO_MANY_TAGS)
            % {"part": gettext(self._part), "what": gettext(self._what), "limit": f"{MAX_ELEMENT_TAGS:,}"}
        )


@contextmanager
def _damaged(part: str) -> Iterator[None]:
    """A part that cannot be read to its end (a damaged member, broken XML) makes the workbook invalid."""
    try:
        yield
    except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise WorkbookInvalid(gettext(PART_DAMAGED) % {"part": part}) from exc


def _iterparse(source: Any, tags: tuple[str, ...] | None) -> Any:
    # The untrusted XML cannot reach the file system or the network, nor blow up memory: entities are not expanded,
    # no DTD is loaded, nothing is fetched and libxml2's size limits stay on (huge_tree off).
    return etree.iterparse(source, events=("end",), tag=tags, **_PARSE)


def _drop(element: Any) -> None:
    """Forget an element once read, and the siblings before it (memory stays constant)."""
    element.clear()
    while element.getprevious() is not None:
        del element.getparent()[0]


class SharedStrings:
    """The shared-string table, read as far as the cells need it: a preview of the first rows reads the start of the
    table (spreadsheet applications number strings in the order they first appear), a load reads it all. Strings
    read are kept in `items`, so that a cell usually costs one list lookup."""

    def __init__(self, archive: zipfile.ZipFile | None, part: str | None) -> None:
        self.items: list[str] = []
        self._archive = archive
        self._part = part or ""
        self._raw: IO[bytes] | None = None
        self._elements: Iterator[tuple[str, Any]] | None = None
        self._done = not part

    def fetch(self, index: int) -> str:
        """String `index`, reading the table up to it; IndexError when the table has no such string."""
        if index < 0:
            raise IndexError(index)
        items = self.items
        if len(items) <= index and not self._done:
            with _damaged(self._part):
                if self._elements is None:
                    assert self._archive is not None
                    self._raw = self._archive.open(self._part)
                    guarded = _ElementGuard(self._raw, _SI_START, part=self._part, what=SHARED_STRING)
                    self._elements = _iterparse(guarded, (_SI,))
                for _, element in self._elements:
                    # As openpyxl: the escaped underscore "_x005F_" is read as "_".
                    items.append(_inline_text(element).replace("x005F_", ""))
                    _drop(element)
                    if len(items) > index:
                        break
                else:
                    self.close()
        return items[index]

    def close(self) -> None:
        self._done = True
        self._elements = None
        if self._raw is not None:
            self._raw.close()
            self._raw = None


class SheetStream:
    """Rows of one sheet as lists of cell values (index 0 = column A), streamed with constant memory.

    While streaming it notes the declared dimension and the formula cells (`formulas`: the first
    MAX_LISTED_FORMULAS positions; `formula_count`: all of them). Reading stops at the end of <sheetData>.
    """

    def __init__(
        self,
        source: IO[bytes],
        shared_strings: SharedStrings,
        *,
        part: str = "",
        date_styles: frozenset[int] = frozenset(),
        timedelta_styles: frozenset[int] = frozenset(),
        epoch: dt.datetime = WINDOWS_EPOCH,
    ) -> None:
        self.source = _ElementGuard(source, _ROW_START, part=part or SHEET, what=ROW)
        self.shared = shared_strings
        self.date_styles = date_styles
        self.timedelta_styles = timedelta_styles
        self.epoch = epoch
        self.dimension_rows: int | None = None
        self.formulas: list[str] = []
        self.formula_count = 0

    def _formula(self, ref: str) -> None:
        self.formula_count += 1
        if len(self.formulas) < MAX_LISTED_FORMULAS:
            self.formulas.append(ref)

    def _date(self, cell: Any, value: int | float) -> object:
        style = int(cell.get("s") or 0)
        if style not in self.date_styles:
            return value
        try:
            return from_excel(value, self.epoch, timedelta=style in self.timedelta_styles)
        except (OverflowError, ValueError):
            return ErrorValue("#VALUE!")  # as openpyxl: a serial outside the dates Python can hold

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        row_number = 0
        strings = self.shared.items  # the list grows as the table is read
        fetch = self.shared.fetch
        dates = bool(self.date_styles)
        digits = "0123456789"
        columns = _LETTERS
        # Only the rows, the dimension and the end of the cells are reported (the cells are read from their row),
        # and rows already read are dropped from the tree.
        for _, element in _iterparse(self.source, (_ROW, _DIMENSION, _SHEET_DATA)):
            tag = element.tag
            if tag == _ROW:
                r = element.get("r")
                row_number = int(r) if r else row_number + 1
                values: list[object] = []
                column = 0
                for cell in element:
                    ref = cell.get("r")
                    if ref:
                        letters = ref.rstrip(digits)
                        column = columns.get(letters) or _column_index(letters)
                    else:
                        column += 1
                    if not len(cell):
                        continue
                    first = cell[0]
                    kind = cell.get("t")
                    value: object
                    if kind == "inlineStr" and first.tag == _IS:
                        value = _inline_text(first)
                    else:
                        if first.tag == _F:
                            self._formula(ref or f"{get_column_letter(column)}{row_number}")
                            cached = cell.find(_V)
                            text = None if cached is None else cached.text
                            if not text and kind != "str":  # a text result may be empty; no other may
                                value = NoCachedValue("=" + (first.text or ""))
                                if column > len(values):
                                    values.extend([None] * (column - len(values)))
                                values[column - 1] = value
                                continue
                        else:
                            text = first.text if first.tag == _V else cell.findtext(_V)
                        if not text:
                            continue
                        if kind == "s":
                            index = int(text)
                            value = strings[index] if 0 <= index < len(strings) else fetch(index)
                        elif kind is None or kind == "n":
                            value = _number(text)
                            if dates:
                                value = self._date(cell, value)
                        elif kind == "b":
                            value = text == "1"
                        elif kind == "e":
                            value = ErrorValue(text)
                        elif kind == "d" and dates:
                            value = from_ISO8601(text)
                        else:  # str, d (ISO date)
                            value = text
                    if column > len(values):
                        values.extend([None] * (column - len(values)))
                    values[column - 1] = value
                _drop(element)
                yield row_number, values
            elif tag == _DIMENSION:
                last = element.get("ref", "").split(":")[-1]
                match = _REF_RE.match(last)
                if match:
                    self.dimension_rows = int(match.group(2))
            else:  # </sheetData>: nothing after it is a cell
                return


@dataclass
class Workbook:
    """An opened workbook: its worksheets (name → part, in workbook order) and what their cells need."""

    archive: zipfile.ZipFile
    sheets: dict[str, str]
    epoch: dt.datetime
    strings_part: str | None
    styles_part: str | None
    _strings: SharedStrings | None = None
    _styles: tuple[frozenset[int], frozenset[int]] | None = None

    def __enter__(self) -> Workbook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._strings is not None:
            self._strings.close()
        self.archive.close()

    def shared_strings(self) -> SharedStrings:
        """The shared-string table (its size was bounded when the workbook was opened), read as cells need it."""
        if self._strings is None:
            self._strings = SharedStrings(self.archive, self.strings_part)
        return self._strings

    def date_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """The cell styles (indexes of <cellXfs>) whose number format is a date or time, and those of them that are
        durations: the rule openpyxl applies (`Stylesheet._normalise_numbers`)."""
        if self._styles is None:
            custom: dict[int, str] = {}
            formats: list[int] = []
            if self.styles_part:
                with _damaged(self.styles_part), self.archive.open(self.styles_part) as raw:
                    guarded = _ElementGuard(raw, _STYLE_START, part=self.styles_part, what=STYLE)
                    for _, element in _iterparse(guarded, None):  # every element, each dropped once read
                        if element.tag == _NUM_FMT:
                            code = element.get("formatCode")
                            if code is not None and (number := element.get("numFmtId", "")).isdigit():
                                custom[int(number)] = code
                        elif element.getparent() is not None and element.getparent().tag == _CELL_XFS:
                            number = element.get("numFmtId", "0")
                            formats.append(int(number) if number.isdigit() else 0)
                        _drop(element)
            dates: set[int] = set()
            durations: set[int] = set()
            for index, number in enumerate(formats):
                code = custom.get(number) or builtin_format_code(number)
                if is_date_format(code):
                    dates.add(index)
                if is_timedelta_format(code):
                    durations.add(index)
            self._styles = frozenset(dates), frozenset(durations)
        return self._styles

    @contextmanager
    def open_sheet(self, name: str, *, dates: bool = False) -> Iterator[SheetStream]:
        """`with workbook.open_sheet(name) as sheet: for number, values in sheet.rows(): …`; with `dates`, numbers
        in a date or time format become dates and times."""
        part = self.sheets[name]
        date_styles, timedelta_styles = self.date_styles() if dates else (frozenset(), frozenset())
        shared = self.shared_strings()
        with self.archive.open(part) as raw:
            yield SheetStream(
                raw,
                shared,
                part=part,
                date_styles=date_styles,
                timedelta_styles=timedelta_styles,
                epoch=self.epoch,
            )

    def merged_ranges(self, name: str) -> list[str]:
        """The merged ranges of sheet `name` ("A2:A5"), found by a scan of its bytes (they follow the cells)."""
        part = self.sheets[name]
        found: list[str] = []
        tail = b""
        with _damaged(part), self.archive.open(part) as raw:
            while chunk := raw.read(_SCAN):
                data = tail + chunk if tail else chunk
                if b"mergeCell" in data:
                    for match in _MERGE_RE.finditer(data):
                        found.append(match.group(1).decode("ascii", "replace"))
                    if len(found) > MAX_MERGED_RANGES:
                        raise XlsxRefused(gettext(TOO_MANY_MERGED) % {"sheet": name, "limit": f"{MAX_MERGED_RANGES:,}"})
                # Keep an unfinished tag for the next read (a complete one has been matched already).
                cut = data.rfind(b"<")
                tail = data[cut:] if cut >= 0 and data.find(b">", cut) < 0 and len(data) - cut < 1024 else b""
        return found


def _bounded(sizes: dict[str, int], part: str, limit: int, what: str, setting: str = "") -> None:
    size = sizes.get(part)
    if size is None:
        raise WorkbookInvalid(gettext(PART_MISSING) % {"part": part})
    if size > limit:
        note = (
            gettext(LIMIT_SETTING) % {"setting": setting, "variable": setting.upper()}
            if setting
            else gettext(SMALL_PART)
        )
        raise XlsxRefused(
            gettext(PART_TOO_LARGE)
            % {"part": part, "what": gettext(what), "size": size_text(size), "limit": size_text(limit), "note": note}
        )


def open_workbook(source: str | Path | IO[bytes], *, limits: XlsxLimits | None = None) -> Workbook:
    """Check the archive and the sizes of the parts read whole, then read the workbook's structure.

    XlsxRefused names the member and the limit it exceeds; WorkbookInvalid (a subclass) when the file is not a
    readable workbook. Nothing of the cells has been read yet; close the workbook when done.
    """
    limits = limits or XlsxLimits.from_settings()
    try:
        members = check_zip_members(
            source, max_member_bytes=limits.member_bytes, max_total_bytes=limits.total_bytes, max_ratio=limits.ratio
        )
    except ArchiveRefused as refused:
        raise XlsxRefused(refused.message) from refused
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise WorkbookInvalid() from exc
    sizes = {info.filename: info.file_size for info in members}
    if not isinstance(source, str | Path):
        source.seek(0)
    archive = zipfile.ZipFile(source)
    try:
        _bounded(sizes, ARC_CONTENT_TYPES, STRUCTURE_PART_BYTES, CONTENT_TYPES)
        manifest = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
        workbook_part = _find_workbook_part(manifest).PartName.lstrip("/")
        _bounded(sizes, workbook_part, STRUCTURE_PART_BYTES, WORKBOOK_PART)
        _bounded(sizes, get_rels_path(workbook_part), STRUCTURE_PART_BYTES, WORKBOOK_RELATIONS)
        parser = WorkbookParser(archive, workbook_part, keep_links=False)
        parser.parse()
        sheets: dict[str, str] = {}
        for sheet, relation in parser.find_sheets():
            if relation.Type.endswith(_WORKSHEET_REL):
                if relation.target not in sizes:
                    raise WorkbookInvalid(gettext(SHEET_PART_MISSING) % {"sheet": sheet.name, "part": relation.target})
                sheets.setdefault(sheet.name, relation.target)
        strings = manifest.find(SHARED_STRINGS)
        strings_part = strings.PartName.lstrip("/") if strings is not None else None
        if strings_part:
            _bounded(sizes, strings_part, limits.part_bytes, SHARED_STRINGS_PART, "xlsx_max_part_bytes")
        styles_part = ARC_STYLE if ARC_STYLE in sizes else None
        if styles_part:
            _bounded(sizes, styles_part, limits.part_bytes, STYLES_PART, "xlsx_max_part_bytes")
        epoch = parser.wb.epoch
    except XlsxRefused:
        archive.close()
        raise
    except Exception as exc:  # openpyxl and lxml raise many kinds for broken or foreign parts
        archive.close()
        raise WorkbookInvalid() from exc
    return Workbook(archive, sheets, epoch, strings_part, styles_part)


def merged_areas(refs: Sequence[str], *, sheet: str) -> list[tuple[int, int, int, int]]:
    """The ranges as (top, left, bottom, right); XlsxRefused when together they cover more than MAX_MERGED_CELLS
    cells (refs that are not ranges are left out)."""
    areas: list[tuple[int, int, int, int]] = []
    cells = 0
    for ref in refs:
        area = parse_range(ref)
        if area is None:
            continue
        top, left, bottom, right = area
        cells += (bottom - top + 1) * (right - left + 1)
        if cells > MAX_MERGED_CELLS:
            raise XlsxRefused(
                gettext(TOO_MANY_MERGED_CELLS) % {"sheet": sheet, "limit": f"{MAX_MERGED_CELLS:,}", "ref": ref}
            )
        areas.append(area)
    return areas


def fill_merged(
    rows: Iterator[tuple[int, list[object]]], areas: Sequence[tuple[int, int, int, int]]
) -> Iterator[tuple[int, list[object]]]:
    """The rows as Excel shows them: every cell of a merged range holds the value of its top-left cell (empty when
    that cell is: what a range hides is not shown). Only a row that holds a value of its own is filled: one that a
    range merely reaches into (a category merged down past the last record) stays empty, like a row the sheet
    leaves out, and is no record."""
    pending = sorted(areas)
    next_area = 0
    # (top, left, bottom, right, value) of the ranges that started at or above the current row
    active: list[tuple[int, int, int, int, object]] = []
    for number, values in rows:
        while next_area < len(pending) and pending[next_area][0] <= number:
            top, left, bottom, right = pending[next_area]
            next_area += 1
            if bottom >= number:
                value = values[left - 1] if top == number and left <= len(values) else None
                active.append((top, left, bottom, right, value))
        if active:
            active = [area for area in active if area[2] >= number]
            if any(value is not None for value in values):
                for top, left, _, right, value in active:
                    if len(values) < right:
                        values.extend([None] * (right - len(values)))
                    for column in range(left, right + 1):
                        if number != top or column != left:
                            values[column - 1] = value
        yield number, values


class SheetUnreadable(XlsxRefused):
    """A sheet that broke off while its rows were read: broken XML, a damaged member, a truncated stream."""


# libxml2's limit on one text node while huge_tree is off (XML_MAX_TEXT_LENGTH), and Excel's on one cell.
XML_MAX_TEXT_BYTES = 10_000_000
EXCEL_MAX_CELL_CHARS = 32_767


def _text_too_long(exc: Any) -> bool:
    """libxml2 refused a text node over its limit (its message is English: "Text node too long, try XML_PARSE_HUGE",
    or "huge text node" in older versions)."""
    message = str(exc).lower()
    return exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT or "text node too long" in message or "huge text" in message


@contextmanager
def sheet_errors(damaged: str, *, sheet: str = "") -> Iterator[None]:
    """Around the reading of a sheet's rows: every way a damaged file breaks off becomes an `XlsxRefused`.

    A refusal stays what it is; a cell text over the parser's limit raises `SheetUnreadable` saying so (in the
    platform's words, naming `sheet` when given); other broken XML raises `SheetUnreadable` quoting the parser; a
    damaged member, a truncated stream, a shared-string index out of range or a number that is none raises
    `SheetUnreadable(damaged)`, the caller's own words for its users (an import says 导入, a data load 上传), a
    catalogue message translated when raised."""
    try:
        yield
    except XlsxRefused:
        raise
    except etree.XMLSyntaxError as exc:
        if _text_too_long(exc):
            values = {"sheet": sheet, "bytes": f"{XML_MAX_TEXT_BYTES:,}", "chars": f"{EXCEL_MAX_CELL_CHARS:,}"}
            raise SheetUnreadable(gettext(LONG_TEXT_IN_SHEET if sheet else LONG_TEXT) % values) from exc
        raise SheetUnreadable(gettext(BROKEN_XML) % {"reason": exc}) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, IndexError, ValueError, KeyError) as exc:
        raise SheetUnreadable(gettext(damaged)) from exc

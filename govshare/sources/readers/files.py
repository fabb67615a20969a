"""Submitted files (文件报送, 线下报送) as raw streams: CSV/TSV, XLSX, JSON and JSON Lines.

CSV goes through pyarrow's streaming CSV reader (files not in UTF-8 are transcoded by a child process as it
reads); rows with the wrong number of columns, or with bytes that do not decode, go to `on_reject` with their
record number (the header is row 1). XLSX, JSON and JSON Lines are read record by record (govshare.core.tabular.xlsx,
ijson), never whole.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.utils.translation import gettext, gettext_noop
from openpyxl.utils import get_column_letter

from govshare.core.tabular.xlsx import (
    NoCachedValue,
    XlsxRefused,
    fill_merged,
    merged_areas,
    open_workbook,
    sheet_errors,
)
from govshare.core.text import join_names, say
from govshare.dataplane.raw import (
    BATCH_ROWS,
    HashingReader,
    ReadStats,
    Reject,
    RejectSink,
    SourceInvalid,
    SourceUnavailable,
    raw_schema,
)
from govshare.sources.choices import FileFormat
from govshare.sources.readers.encoding import (
    TranscodingReader,
    decode_sample,
    detect_encoding,
    needs_transcoding,
    read_sample,
)
from govshare.sources.readers.rows import RowBuffer, batched, check_header, counting, text_value

Progress = Callable[[int], None] | None
# The longest record the CSV reader accepts; a longer one is nearly always an unclosed quote.
CSV_BLOCK_BYTES = 8 << 20
# A preview reads small blocks and batches, so that its first rows come without reading much of the source.
PREVIEW_BLOCK_BYTES = 1 << 20
PREVIEW_BATCH_ROWS = 1000
_REJECT_TEXT = 1000

# Why a file cannot be read: said in the reader's language when raised, and recognised again in a stored load log
# or error (`govshare.jobs.logs.sentence`, registered by the sources app).
HEADER_UNREADABLE = gettext_noop("无法读取表头（第 1 行）：%(reason)s")
UNKNOWN_ENCODING = gettext_noop("不支持的文件编码“%(encoding)s”")
FILE_UNREADABLE = gettext_noop("无法读取上传的文件：%(reason)s")
BAD_DELIMITER = gettext_noop("分隔符“%(delimiter)s”无效：应为一个字符，如逗号、制表符（tab）、分号或竖线")
EMPTY_FILE = gettext_noop("文件为空：第 1 行应为表头（列名）")
RECORD_TOO_LONG = gettext_noop("文件中有一条记录超过 %(mb)s MB，无法读取：通常是某个字段的引号没有闭合")
CSV_UNPARSABLE = gettext_noop("CSV 文件无法解析：%(reason)s")
SHEET_DAMAGED = gettext_noop("工作表无法读取，文件可能已损坏或不完整：请在 Excel 中打开并重新保存为 .xlsx 后上传")
NO_SUCH_SHEET = gettext_noop("工作簿中没有名为“%(sheet)s”的工作表（现有：%(sheets)s）")
NO_SHEETS = gettext_noop("工作簿中没有工作表")
EMPTY_SHEET = gettext_noop("工作表为空：第 1 行应为表头（列名）")
MERGED_HEADER = gettext_noop("表头中的单元格 %(cells)s 是合并单元格：请取消合并，并为每一列分别填写列名")
NO_JSON_RECORDS = gettext_noop("来源没有任何记录（JSON 对象），无法确定字段")
RECORD_FIELDS = gettext_noop("记录的字段")
NEW_JSON_FIELDS = gettext_noop(
    "第 %(number)s 条记录起出现了新的字段（如“%(field)s”），前 %(sample)s 条记录中没有，已忽略"
)
NO_RECORDS = gettext_noop("文件为空：没有任何记录")
JSON_BROKEN = gettext_noop("JSON 文件格式错误（第 %(number)s 条记录附近）：%(reason)s")
NO_RECORD_ARRAY_AT = gettext_noop("JSON 文件路径“%(path)s”下没有记录数组：应为 [{…}, {…}] 形式的对象数组")
NO_RECORD_ARRAY = gettext_noop("JSON 文件顶层没有记录数组：应为 [{…}, {…}] 形式的对象数组")
UNKNOWN_FORMAT = gettext_noop("不支持的文件格式“%(format)s”：支持 CSV、TSV、xlsx、JSON 和 JSON Lines")
# Why a row is rejected (the rejects file and a preview's warnings).
WRONG_WIDTH = gettext_noop("列数不符：应为 %(expected)s 列，实际 %(actual)s 列")
UNDECODABLE = gettext_noop("含有无法按 %(encoding)s 编码识别的字节")
NOT_JSON = gettext_noop("不是合法的 JSON：%(reason)s")
NOT_AN_OBJECT = gettext_noop('不是 JSON 对象（应为 {"字段": 值, …}）')
SENTENCES = (
    HEADER_UNREADABLE,
    UNKNOWN_ENCODING,
    FILE_UNREADABLE,
    BAD_DELIMITER,
    EMPTY_FILE,
    RECORD_TOO_LONG,
    CSV_UNPARSABLE,
    SHEET_DAMAGED,
    NO_SUCH_SHEET,
    NO_SHEETS,
    EMPTY_SHEET,
    MERGED_HEADER,
    NO_JSON_RECORDS,
    NEW_JSON_FIELDS,
    NO_RECORDS,
    JSON_BROKEN,
    NO_RECORD_ARRAY_AT,
    NO_RECORD_ARRAY,
    UNKNOWN_FORMAT,
)


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False), [])
    except csv.Error as exc:
        raise SourceInvalid(gettext(HEADER_UNREADABLE) % {"reason": exc}) from exc


def _file_encoding(path: Path, config: dict[str, Any]) -> tuple[bytes, str]:
    sample = read_sample(path)
    forced = str(config.get("encoding") or "")
    if forced:
        try:
            "".encode(forced)
        except LookupError as exc:
            raise SourceInvalid(gettext(UNKNOWN_ENCODING) % {"encoding": forced}) from exc
        return sample, forced
    return sample, detect_encoding(sample)


def _open_bytes(path: Path, encoding: str, stats: ReadStats, progress: Progress, sample: bytes) -> Any:
    """The file's bytes as UTF-8: straight from disk (hashed on the way), or transcoded by a child process."""
    if not needs_transcoding(encoding):
        try:
            return HashingReader(path.open("rb"), stats, progress)
        except OSError as exc:
            raise SourceUnavailable(gettext(FILE_UNREADABLE) % {"reason": exc.strerror or exc}) from exc
    ratio = len(sample) / max(1, len(decode_sample(sample, encoding).encode("utf-8")))
    return TranscodingReader(path, encoding, stats, progress, source_per_utf8=ratio)


def _delimiter(config: dict[str, Any], tsv: bool) -> str:
    given = str(config.get("delimiter") or ("\t" if tsv else ","))
    delimiter = "\t" if given.lower() in ("\\t", "tab") else given
    if len(delimiter) != 1 or delimiter in '\r\n"':
        raise SourceInvalid(gettext(BAD_DELIMITER) % {"delimiter": given})
    return delimiter


class CsvStream:
    """A CSV or TSV file. `columns` comes from the header (row 1); batches hold the data records from row 2."""

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        on_reject: RejectSink,
        progress: Progress,
        *,
        tsv: bool,
        block_size: int = CSV_BLOCK_BYTES,
    ) -> None:
        self.stats = ReadStats()
        sample, encoding = _file_encoding(path, config)
        self.stats.encoding = encoding
        delimiter = _delimiter(config, tsv)
        text = decode_sample(sample, encoding).lstrip("\ufeff")
        if not text.strip():
            raise SourceInvalid(gettext(EMPTY_FILE))
        self.columns = check_header(_first_record(text, delimiter))
        self._on_reject = on_reject
        self._block_size = block_size
        self._transcoded = needs_transcoding(encoding)
        self._pending: deque[int] = deque()
        self._next = 1
        self._source = _open_bytes(path, encoding, self.stats, progress, sample)
        try:
            self._input = _ArrowInput(self._source)
            self._reader = pacsv.open_csv(
                self._input,
                read_options=pacsv.ReadOptions(
                    column_names=[f"c{i}" for i in range(len(self.columns))],
                    use_threads=False,  # keeps the invalid rows' numbers
                    block_size=block_size,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter,
                    newlines_in_values=True,
                    ignore_empty_lines=False,  # counted, so that row numbers stay those of the file
                    invalid_row_handler=self._invalid_row,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={
                        f"c{i}": pa.string() if self._transcoded else pa.binary() for i in range(len(self.columns))
                    },
                    strings_can_be_null=True,
                    null_values=[""],  # only empty fields: "NA", "NULL" or "NaN" are data
                    check_utf8=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            self._source.close()
            raise _csv_error(exc, block_size) from exc
        except BaseException:
            self._source.close()
            raise

    def _invalid_row(self, row: pacsv.InvalidRow) -> str:
        self._pending.append(row.number)
        if row.text.strip() and not self._input.closed_early:
            reason = say(WRONG_WIDTH) % {"expected": row.expected_columns, "actual": row.actual_columns}
            self._reject(row.number, "", reason, row.text)
        return "skip"

    def _reject(self, row: int, column: str, reason: str, value: str) -> None:
        self.stats.rows_read += 1
        self._on_reject(Reject(row, column, reason, value[:_REJECT_TEXT]))

    def _numbers(self, count: int) -> pa.Array:
        """Record numbers of the next `count` parsed rows: consecutive, except for the rows already rejected."""
        pieces: list[pa.Array] = []
        n, remaining = self._next, count
        while remaining:
            stop = n + remaining
            if self._pending and self._pending[0] < stop:
                skipped = self._pending.popleft()
                if skipped > n:
                    pieces.append(counting(n, skipped - n))
                    remaining -= skipped - n
                n = max(n, skipped + 1)
            else:
                pieces.append(counting(n, remaining))
                n, remaining = stop, 0
        self._next = n
        if len(pieces) == 1:
            return pieces[0]
        return pa.concat_arrays(pieces) if pieces else pa.array([], pa.int64())

    def batches(self) -> Iterator[pa.RecordBatch]:
        schema = raw_schema(self.columns)
        while True:
            try:
                parsed = self._reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise _csv_error(exc, self._block_size) from exc
            batch = self._clean(parsed, self._numbers(parsed.num_rows), schema)
            self.stats.rows_read += batch.num_rows
            for offset in range(0, batch.num_rows, BATCH_ROWS):
                yield batch.slice(offset, BATCH_ROWS)
        self._source.finish()

    def _clean(self, parsed: pa.RecordBatch, numbers: pa.Array, schema: pa.Schema) -> pa.RecordBatch:
        """Drop the header and blank records, reject rows whose bytes do not decode; text columns as strings."""
        columns = list(parsed.columns)
        keep = pc.not_equal(numbers, 1)
        blank = pc.is_null(columns[0]) if columns else None
        for column in columns[1:]:
            blank = pc.and_(blank, pc.is_null(column))
        if blank is not None:
            keep = pc.and_(keep, pc.invert(blank))
        keep, columns = self._check_text(columns, numbers, keep)
        if not pc.all(keep).as_py():
            numbers = numbers.filter(keep)
            columns = [column.filter(keep) for column in columns]
        return pa.RecordBatch.from_arrays([numbers, *columns], schema=schema)

    def _check_text(
        self, columns: list[pa.Array], numbers: pa.Array, keep: pa.Array
    ) -> tuple[pa.Array, list[pa.Array]]:
        """Rows holding bytes that are not text of the file's encoding are rejected (column by column)."""
        if self._transcoded:
            if not self._source.replaced:  # read ahead of the parser: it has seen these rows' bytes
                return keep, columns
            for name, column in zip(self.columns, columns, strict=True):
                bad = pc.and_(pc.match_substring(column, "\ufffd"), keep)
                if pc.any(bad).as_py():
                    keep = self._reject_rows(bad, numbers, column, name, keep)
            return keep, columns
        texts: list[pa.Array] = []
        for name, column in zip(self.columns, columns, strict=True):
            try:
                texts.append(column.cast(pa.string()))
            except pa.ArrowInvalid:
                bad = pa.array([v is not None and not _is_utf8(v) for v in column.to_pylist()], pa.bool_())
                keep = self._reject_rows(pc.and_(bad, keep), numbers, column, name, keep)
                texts.append(pc.if_else(bad, pa.scalar(None, pa.binary()), column).cast(pa.string()))
        return keep, texts

    def _reject_rows(self, bad: pa.Array, numbers: pa.Array, column: pa.Array, name: str, keep: pa.Array) -> pa.Array:
        for number, value in zip(numbers.filter(bad).to_pylist(), column.filter(bad).to_pylist(), strict=True):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            self._reject(number, name, say(UNDECODABLE) % {"encoding": self.stats.encoding}, text)
        return pc.and_(keep, pc.invert(bad))

    def close(self) -> None:
        """Stop pyarrow's read-ahead thread before the file (or the transcoding child) goes away: the input now
        ends at once, and the reader is read to that end, so that no thread of pyarrow calls into Python any more
        (one still running when the interpreter exits aborts it)."""
        self._input.close()
        with contextlib.suppress(pa.ArrowException, StopIteration):
            while True:
                self._reader.read_next_batch()
        self._reader.close()
        self._source.close()


class _ArrowInput:
    """What pyarrow needs of a Python file (HashingReader has no `closed`)."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.closed = False
        self.closed_early = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return b"" if self.closed_early else bytes(self._source.read(size))

    def close(self) -> None:
        # pyarrow checks `closed` before each read: only stop handing out bytes, so that it sees an end of file.
        self.closed_early = True


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_error(exc: pa.ArrowInvalid, block_size: int) -> SourceInvalid:
    message = str(exc)
    if "straddling" in message or "block size" in message:
        limit = block_size >> 20
        return SourceInvalid(gettext(RECORD_TOO_LONG) % {"mb": limit})
    return SourceInvalid(gettext(CSV_UNPARSABLE) % {"reason": message})


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# The reason a row is rejected for a formula cell without a calculated result (the rejects file names the cell).
NO_RESULT_REASON = gettext_noop("公式单元格没有计算结果，请在Excel中重新计算并保存后再上传")


@contextlib.contextmanager
def _unreadable_sheet() -> Iterator[None]:
    """A refused, damaged or broken workbook as SourceInvalid with a Chinese message."""
    try:
        with sheet_errors(SHEET_DAMAGED):
            yield
    except XlsxRefused as exc:
        raise SourceInvalid(exc.message) from exc


class XlsxStream:
    """The first sheet (or config["sheet"]) of an .xlsx workbook, read row by row; row numbers are sheet rows.

    The workbook is opened through `govshare.core.tabular.xlsx` (its archive and parts bounded before anything is
    parsed) and read as Excel shows it:

    - merged ranges are filled: every cell of a range holds the value of its top-left cell (a category column
      merged down over its rows loads the category on each row), in the rows that hold a value of their own; a range
      that touches the header refuses the file;
    - a formula cell without a calculated result (the file was written by a program, or saved with calculation set
      to manual) rejects its row, naming the cell: loading NULL there would load something Excel does not show;
    - values in date and time formats become ISO dates and times.
    """

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        on_reject: RejectSink,
        progress: Progress,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.stats = ReadStats(encoding="xlsx")
        self._batch_rows = batch_rows
        self._path = path
        self._on_reject = on_reject
        self._progress = progress
        self._open = contextlib.ExitStack()
        try:
            with _unreadable_sheet():
                self._start(config)
        except BaseException:
            self._open.close()
            raise

    def _start(self, config: dict[str, Any]) -> None:
        """Open the workbook and the sheet, read the header; merged ranges are read first (they follow the cells)."""
        book = self._open.enter_context(open_workbook(self._path))
        sheet_name = str(config.get("sheet") or "")
        if sheet_name and sheet_name not in book.sheets:
            raise SourceInvalid(gettext(NO_SUCH_SHEET) % {"sheet": sheet_name, "sheets": join_names(book.sheets)})
        if not book.sheets:
            raise SourceInvalid(gettext(NO_SHEETS))
        name = sheet_name or next(iter(book.sheets))
        areas = merged_areas(book.merged_ranges(name), sheet=name)
        sheet = self._open.enter_context(book.open_sheet(name, dates=True))
        rows = self._checked(sheet.rows())
        header_row, header = next(rows, (0, []))
        names = [text_value(v) or "" for v in header]
        while names and not names[-1]:
            names.pop()
        if not names:
            raise SourceInvalid(gettext(EMPTY_SHEET))
        for top, left, bottom, right in areas:
            if top <= header_row <= bottom:
                where = f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
                raise SourceInvalid(gettext(MERGED_HEADER) % {"cells": where})
        self.columns = check_header(names)
        self._rows = fill_merged(rows, [area for area in areas if area[0] > header_row])

    @staticmethod
    def _checked(rows: Iterator[tuple[int, list[object]]]) -> Iterator[tuple[int, list[object]]]:
        """The sheet's rows, a damaged or refused sheet raised as SourceInvalid with a Chinese message."""
        with _unreadable_sheet():
            yield from rows

    def _records(self) -> Iterator[tuple[int, list[str | None]]]:
        width = len(self.columns)
        for number, row in self._rows:
            values = [text_value(v) for v in row]
            if not any(v is not None for v in values):
                continue
            if any(v is not None for v in values[width:]):
                self._reject_ragged(number, values, width)
                continue
            if NoCachedValue in set(map(type, row)):
                self._reject_no_result(number, row)
                continue
            self.stats.rows_read += 1
            if self._progress is not None and number % 10_000 == 0:
                self._progress(number)
            yield number, (values + [None] * width)[:width]

    def _reject_ragged(self, number: int, values: list[str | None], width: int) -> None:
        actual = max(i for i, v in enumerate(values) if v is not None) + 1
        text = ",".join(v or "" for v in values)[:_REJECT_TEXT]
        self._on_reject(Reject(number, "", say(WRONG_WIDTH) % {"expected": width, "actual": actual}, text))
        self.stats.rows_read += 1

    def _reject_no_result(self, number: int, row: list[object]) -> None:
        index = next(i for i, v in enumerate(row) if isinstance(v, NoCachedValue))
        cell = f"{get_column_letter(index + 1)}{number}"
        self._on_reject(
            Reject(number, self.columns[index], say(NO_RESULT_REASON), f"{cell} {row[index]}"[:_REJECT_TEXT])
        )
        self.stats.rows_read += 1

    def batches(self) -> Iterator[pa.RecordBatch]:
        yield from batched(RowBuffer(self.columns, self._batch_rows), self._records())
        self.stats.bytes_read = self._path.stat().st_size
        self.stats.sha256 = file_sha256(self._path)

    def close(self) -> None:
        self._open.close()


def ijson_prefix(records_path: str) -> str:
    """A simple JSONPath ("$.data.list[*]", "data.list") as ijson's prefix of the array's items ("data.list.item")."""
    path = records_path.strip()
    path = path.removeprefix("$").lstrip(".").removesuffix("[*]")
    parts = [part for part in path.replace("[*]", ".item").split(".") if part]
    return ".".join([*parts, "item"])


# How many records name the columns of a JSON source.
JSON_SAMPLE_RECORDS = 1000


class JsonRecords:
    """Records (dicts) as rows of text: columns are the keys of the first records, in first-seen order."""

    def __init__(self, stats: ReadStats, on_reject: RejectSink) -> None:
        self.stats = stats
        self._on_reject = on_reject
        self._warned = False
        self.columns: list[str] = []

    def name_columns(self, first: list[tuple[int, Any]]) -> None:
        seen: dict[str, None] = {}
        for _, record in first:
            if isinstance(record, dict):
                seen.update(dict.fromkeys(str(key) for key in record))
        if not seen:
            raise SourceInvalid(gettext(NO_JSON_RECORDS))
        self.columns = check_header(list(seen), what=RECORD_FIELDS)

    def row(self, number: int, record: Any) -> list[str | None] | None:
        if not isinstance(record, dict):
            self._on_reject(Reject(number, "", say(NOT_AN_OBJECT), _short(record)))
            self.stats.rows_read += 1
            return None
        self.stats.rows_read += 1
        if not self._warned and any(str(key) not in self.columns for key in record):
            self._warned = True
            new = next(str(key) for key in record if str(key) not in self.columns)
            self.stats.warnings.append(
                gettext(NEW_JSON_FIELDS) % {"number": number, "field": new, "sample": JSON_SAMPLE_RECORDS}
            )
        return [text_value(record.get(name)) for name in self.columns]

    def rows(self, records: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, list[str | None]]]:
        for number, record in records:
            if (values := self.row(number, record)) is not None:
                yield number, values


def _short(value: Any) -> str:
    return (text_value(value) or "")[:_REJECT_TEXT]


class _JsonStreamBase:
    """Shared by JSON and JSON Lines: the first records are read ahead to name the columns, then the rest stream."""

    columns: list[str]

    def __init__(
        self,
        path: Path,
        config: dict[str, Any],
        on_reject: RejectSink,
        progress: Progress,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.stats = ReadStats()
        self._batch_rows = batch_rows
        sample, encoding = _file_encoding(path, config)
        self.stats.encoding = encoding
        if not sample.strip():
            raise SourceInvalid(gettext(NO_RECORDS))
        self._config = config
        self._source = _open_bytes(path, encoding, self.stats, progress, sample)
        self._json = JsonRecords(self.stats, on_reject)
        self._on_reject = on_reject
        try:
            self._records = self._iter_records(self._source)
            self._first = self._read_ahead()
            self._json.name_columns(self._first)
        except BaseException:
            self._source.close()
            raise
        self.columns = self._json.columns

    def _read_ahead(self) -> list[tuple[int, Any]]:
        first: list[tuple[int, Any]] = []
        for item in self._records:
            first.append(item)
            if len(first) >= JSON_SAMPLE_RECORDS:
                break
        return first

    def _iter_records(self, source: BinaryIO) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def batches(self) -> Iterator[pa.RecordBatch]:
        def records() -> Iterator[tuple[int, Any]]:
            yield from self._first
            yield from self._records

        yield from batched(RowBuffer(self.columns, self._batch_rows), self._json.rows(records()))
        self._source.finish()

    def close(self) -> None:
        self._source.close()


class JsonStream(_JsonStreamBase):
    """A JSON array of objects, or the array at config["records_path"] inside an object; numbered from 1."""

    def _iter_records(self, source: BinaryIO) -> Iterator[tuple[int, Any]]:
        import ijson

        prefix = ijson_prefix(str(self._config.get("records_path") or ""))
        number = 0
        try:
            for number, record in enumerate(ijson.items(source, prefix), start=1):
                yield number, record
        except ijson.JSONError as exc:
            raise SourceInvalid(gettext(JSON_BROKEN) % {"number": number + 1, "reason": exc}) from exc
        if number == 0:
            if self._config.get("records_path"):
                raise SourceInvalid(gettext(NO_RECORD_ARRAY_AT) % {"path": self._config.get("records_path")})
            raise SourceInvalid(gettext(NO_RECORD_ARRAY))


class JsonLinesStream(_JsonStreamBase):
    """One JSON object per line; row numbers are line numbers; a line that is not JSON is rejected."""

    def _iter_records(self, source: BinaryIO) -> Iterator[tuple[int, Any]]:
        for number, line in _lines(source):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                text = line.decode("utf-8", "replace").strip()
                self.stats.rows_read += 1
                self._on_reject(Reject(number, "", say(NOT_JSON) % {"reason": exc}, text[:_REJECT_TEXT]))


def _lines(source: BinaryIO, chunk: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    number, rest = 0, b""
    while data := source.read(chunk):
        lines = (rest + data).split(b"\n")
        rest = lines.pop()
        for line in lines:
            number += 1
            yield number, line
    if rest:
        yield number + 1, rest


def open_file_stream(
    path: Path, config: dict[str, Any], on_reject: RejectSink, progress: Progress = None, *, preview: bool = False
) -> CsvStream | XlsxStream | JsonStream | JsonLinesStream:
    """Open an uploaded file by config["format"] (or its suffix). A preview parses CSV in small blocks."""
    fmt = str(config.get("format") or _format_from_suffix(path))
    rows = PREVIEW_BATCH_ROWS if preview else BATCH_ROWS
    if fmt in (FileFormat.CSV, FileFormat.TSV):
        block = PREVIEW_BLOCK_BYTES if preview else CSV_BLOCK_BYTES
        return CsvStream(path, config, on_reject, progress, tsv=fmt == FileFormat.TSV, block_size=block)
    if fmt == FileFormat.XLSX:
        return XlsxStream(path, config, on_reject, progress, rows)
    if fmt == FileFormat.JSON:
        return JsonStream(path, config, on_reject, progress, rows)
    if fmt == FileFormat.JSONL:
        return JsonLinesStream(path, config, on_reject, progress, rows)
    raise SourceInvalid(gettext(UNKNOWN_FORMAT) % {"format": fmt})


def _format_from_suffix(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"txt": FileFormat.CSV, "xls": "xls", "ndjson": FileFormat.JSONL}.get(suffix, suffix)

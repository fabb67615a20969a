"""Downloads of a dataset version as CSV, XLSX, JSON or Parquet, streamed.

Each writer takes an Arrow `RecordBatchReader` (a table version, `tables.DatasetTable.read`) and yields the file
as `bytes` chunks while it reads the batches, so a download of any size keeps memory flat and its first bytes
leave before the last batch is read. `export_file` bundles the chunks with the content type and file name for a
`StreamingHttpResponse`.

- CSV: UTF-8 with a BOM (Excel opens Chinese correctly), header = the item names, null = empty field, dates ISO.
  Text that a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`, a tab, a carriage return or a
  full-width ＝＋－＠, except plain numbers), in the values and in the header, gets a leading apostrophe (CSV
  injection: the one rule of `govshare.core.tabular.csv`).
- XLSX: a workbook written as a stream (a zip whose sheet XML is produced row by row), dates and date-times as
  real Excel dates, text always as text. A sheet holds at most 1,048,575 rows; the next rows continue on
  `数据(2)`, `数据(3)` …  openpyxl's write-only mode keeps memory flat too, but only hands the file over once it is
  complete, so it cannot stream a download.
- JSON: one array of objects (`ensure_ascii=False`), dates ISO 8601, decimals as exact JSON numbers, NaN as null.
- Parquet: `pyarrow.parquet.ParquetWriter` into a sink drained after each row group.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.db import models
from django.utils.http import content_disposition_header

from govshare.core.tabular.csv import neutralise_formula, neutralise_formulas


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (xlsx)"
    JSON = "json", "JSON"
    PARQUET = "parquet", "Parquet"


__all__ = [
    "CONTENT_TYPES",
    "Export",
    "export_file",
    "export_filename",
    "stream_csv",
    "stream_json",
    "stream_parquet",
    "stream_xlsx",
]

CONTENT_TYPES: dict[str, str] = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.JSON: "application/json; charset=utf-8",
    ExportFormat.PARQUET: "application/vnd.apache.parquet",
}

# Parquet row groups gather at least this many rows (small input batches are combined).
PARQUET_ROW_GROUP_ROWS = 65_536
# Excel's limits: rows per sheet (one is the header) and characters per cell.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL_CHARS = 32_767
# A sheet's XML is closed before it would need ZIP64 (which some spreadsheet programs refuse).
XLSX_MAX_SHEET_BYTES = 1_500_000_000
XLSX_SHEET_NAME = "数据"

Chunks = Iterator[bytes]


@dataclass(frozen=True)
class Export:
    """A download ready for `StreamingHttpResponse(export.chunks, content_type=export.content_type)`."""

    chunks: Chunks
    content_type: str
    filename: str

    @property
    def content_disposition(self) -> str:
        """`attachment; filename*=utf-8''…` (RFC 5987) when the name is not plain ASCII."""
        return content_disposition_header(as_attachment=True, filename=self.filename) or ""


def export_filename(resource_code: str, version: int, file_format: str) -> str:
    """`<资源代码>_v<版本>.<ext>`; the code's `/` (前段码/顺序码) becomes `-`, as no file name may hold it."""
    safe_code = resource_code.replace("/", "-").replace("\\", "-")
    return f"{safe_code}_v{version}.{file_format}"


def export_file(
    reader: pa.RecordBatchReader,
    file_format: str,
    *,
    resource_code: str,
    version: int,
    columns: Sequence[str] | None = None,
) -> Export:
    """The chunks, content type and file name of one version in one format (ValueError for an unknown format)."""
    writers: dict[str, Callable[[pa.RecordBatchReader, Sequence[str] | None], Chunks]] = {
        ExportFormat.CSV: stream_csv,
        ExportFormat.XLSX: stream_xlsx,
        ExportFormat.JSON: stream_json,
        ExportFormat.PARQUET: stream_parquet,
    }
    if file_format not in writers:
        raise ValueError(f"不支持的下载格式“{file_format}”，可选 csv、xlsx、json、parquet")
    return Export(
        chunks=writers[file_format](reader, columns),
        content_type=CONTENT_TYPES[file_format],
        filename=export_filename(resource_code, version, file_format),
    )


# ---------------------------------------------------------------------------------------------- shared


def _output_names(schema: pa.Schema, columns: Sequence[str] | None) -> list[str]:
    """The columns to write, in order: the given ones, or every column except internal ones (`_row` …)."""
    if columns is not None:
        missing = [name for name in columns if schema.get_field_index(name) < 0]
        if missing:
            raise ValueError(f"数据版本中没有字段：{'、'.join(missing)}")
        return list(columns)
    return [name for name in schema.names if not name.startswith("_")]


def _batches(reader: pa.RecordBatchReader, names: list[str]) -> Iterator[pa.RecordBatch]:
    """The reader's batches narrowed to `names`; the reader is closed however the iteration ends."""
    try:
        for batch in reader:
            if batch.num_rows:
                yield batch.select(names)
    finally:
        reader.close()


class _Sink:
    """A write-only file object whose bytes are taken out after each write (`drain`)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if data:
            self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


# ---------------------------------------------------------------------------------------------- csv


def _timestamp_text(array: pa.Array) -> pa.Array:
    """`2024-01-02 03:04:05` (with fractions only when a value has them; local time of a zoned column)."""
    unit = array.type.unit
    if unit != "s":
        whole = pc.cast(array, pa.timestamp("s", tz=array.type.tz), safe=False)
        if pc.all(pc.equal(pc.cast(whole, array.type), array)).as_py() is not False:
            array = whole
    return pc.strftime(array, format="%Y-%m-%d %H:%M:%S")


def _csv_column(array: pa.Array) -> pa.Array:
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return neutralise_formulas(array)
    if pa.types.is_timestamp(array.type):
        return _timestamp_text(array)
    if pa.types.is_nested(array.type):
        return pa.array(
            [
                None if v is None else json.dumps(v, ensure_ascii=False, default=_json_default)
                for v in array.to_pylist()
            ],
            pa.string(),
        )
    return array


def stream_csv(reader: pa.RecordBatchReader, columns: Sequence[str] | None = None) -> Chunks:
    names = _output_names(reader.schema, columns)
    yield b"\xef\xbb\xbf"
    sink = _Sink()
    options = pa_csv.WriteOptions(include_header=False)
    header = ",".join('"' + neutralise_formula(name).replace('"', '""') + '"' for name in names) + "\n"
    yield header.encode("utf-8")
    for batch in _batches(reader, names):
        converted = pa.record_batch([_csv_column(column) for column in batch.columns], names=names)
        pa_csv.write_csv(converted, sink, write_options=options)
        if data := sink.drain():
            yield data


# ---------------------------------------------------------------------------------------------- json


def _json_default(value: object) -> object:
    """Values json cannot write itself (inside nested values): dates ISO, decimals as text, bytes as hex."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"无法转换为 JSON：{type(value).__name__}")


# Characters JSON text must escape beyond `"`, `\\`, newline, carriage return and tab (RE2 syntax).
_JSON_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


def _iso_text(array: pa.Array) -> pa.Array:
    """Dates `2024-01-02`, date-times `2024-01-02T03:04:05` (fractions when present, offset when zoned)."""
    if pa.types.is_timestamp(array.type):
        zone = "%z" if array.type.tz else ""
        if array.type.unit != "s":
            whole = pc.cast(array, pa.timestamp("s", tz=array.type.tz), safe=False)
            if pc.all(pc.equal(pc.cast(whole, array.type), array)).as_py() is not False:
                array = whole
        return pc.strftime(array, format="%Y-%m-%dT%H:%M:%S" + zone)
    return pc.cast(array, pa.string())


def _json_strings(text: pa.Array) -> pa.Array:
    """Text as JSON string literals, escaped by Arrow for the whole column."""
    if pc.any(pc.match_substring_regex(text, _JSON_CONTROL)).as_py():
        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in text.to_pylist()])
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = pc.replace_substring(text, old, new)
    return pc.binary_join_element_wise('"', text, '"', "")


def _json_literal(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value.hex() if isinstance(value, bytes) else value, ensure_ascii=False, default=_json_default)


def _json_values(array: pa.Array) -> pa.Array:
    """A column as JSON literals (null for null): numbers and decimals exact, temporal values as ISO text."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        values = _json_strings(pc.cast(array, pa.string()))
    elif pa.types.is_timestamp(kind) or pa.types.is_date(kind) or pa.types.is_time(kind):
        values = _json_strings(_iso_text(array))
    elif pa.types.is_boolean(kind):
        values = pc.if_else(array, "true", "false")
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        values = pc.cast(array, pa.string())
    elif pa.types.is_floating(kind):
        values = pc.cast(pc.if_else(pc.is_finite(array), array, pa.scalar(None, kind)), pa.string())
    else:  # binary (as hex), lists, structs
        values = pa.array([_json_literal(v) for v in array.to_pylist()], pa.string())
    return pc.fill_null(values, "null")


def stream_json(reader: pa.RecordBatchReader, columns: Sequence[str] | None = None) -> Chunks:
    names = _output_names(reader.schema, columns)
    keys = [json.dumps(name, ensure_ascii=False) + ":" for name in names]
    yield b"["
    separator = "\n"
    for batch in _batches(reader, names):
        parts: list[Any] = []
        for n, column in enumerate(batch.columns):
            parts += [("{" if n == 0 else ",") + keys[n], _json_values(column)]
        rows = pc.binary_join_element_wise(*parts, "}", "") if parts else pa.array(["{}"] * batch.num_rows)
        yield (separator + ",\n".join(rows.to_pylist())).encode("utf-8")
        separator = ",\n"
    yield b"\n]\n"


# ---------------------------------------------------------------------------------------------- parquet


def stream_parquet(
    reader: pa.RecordBatchReader, columns: Sequence[str] | None = None, *, row_group_rows: int | None = None
) -> Chunks:
    row_group_rows = row_group_rows or PARQUET_ROW_GROUP_ROWS
    names = _output_names(reader.schema, columns)
    schema = pa.schema([reader.schema.field(name) for name in names])
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    try:
        for batch in _batches(reader, names):
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= row_group_rows:
                writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=max(pending_rows, 1))
                pending, pending_rows = [], 0
                if data := sink.drain():
                    yield data
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=max(pending_rows, 1))
    finally:
        writer.close()
    yield sink.drain()


# ---------------------------------------------------------------------------------------------- xlsx

_STYLE_HEADER, _STYLE_DATE, _STYLE_DATETIME, _STYLE_TIME = 1, 2, 3, 4

_CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CONTENT_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/><numFmt numFmtId="166" formatCode="hh:mm:ss"/>'
    "</numFmts>"
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
    'state="frozen"/></sheetView></sheetViews><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


_EMPTY_CELL = "<c/>"
_TEXT_CLOSE = "</t></is></c>"
# Characters XML 1.0 cannot hold (RE2 syntax: Arrow's regular expressions).
_ILLEGAL_XML = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x{fffe}\\x{ffff}]"
_EXCEL_DAY_OF_1970 = 25_569  # 1970-01-01 as an Excel serial day
# Excel's serial dates start in 1900 (and count a 29 February 1900 that never was): earlier ones are written as text.
_FIRST_EXCEL_DAY = (dt.date(1900, 3, 1) - dt.date(1970, 1, 1)).days
_MICROS_PER_DAY = 86_400_000_000
_PIECE_ROWS = 4_096


def _text_cells(text: pa.Array, style: int = 0) -> pa.Array:
    """Inline-string cells: always text (never a formula), illegal characters dropped, at most 32,767 characters."""
    text = pc.replace_substring_regex(text, _ILLEGAL_XML, "")
    text = pc.utf8_slice_codeunits(text, 0, XLSX_MAX_CELL_CHARS)
    # A carriage return as a character reference: XML parsers turn a literal one into a line feed.
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = pc.replace_substring(text, old, new)
    style_attr = f' s="{style}"' if style else ""
    opening = f'<c{style_attr} t="inlineStr"><is><t xml:space="preserve">'
    return pc.binary_join_element_wise(opening, text, _TEXT_CLOSE, "")


def _number_cells(text: pa.Array, style: int = 0) -> pa.Array:
    style_attr = f' s="{style}"' if style else ""
    return pc.binary_join_element_wise(f"<c{style_attr}><v>", text, "</v></c>", "")


def _serial_text(micros: pa.Array) -> pa.Array:
    """Microseconds since 1970 as Excel serial days (a day and its fraction)."""
    days = pc.add(pc.divide(pc.cast(micros, pa.float64()), float(_MICROS_PER_DAY)), float(_EXCEL_DAY_OF_1970))
    return pc.cast(days, pa.string())


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _python_text(array: pa.Array) -> pa.Array:
    """Values without a spreadsheet type (binary, nested) as text."""
    return pa.array([_as_text(v) for v in array.to_pylist()], pa.string())


def _xlsx_cells(array: pa.Array) -> pa.Array:
    """One column as cell XML, computed by Arrow for the whole batch: numbers as numbers, dates as Excel dates
    (a zoned time in its zone's wall time), text as text, null as an empty cell."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        cells = _text_cells(pc.cast(array, pa.string()))
    elif pa.types.is_boolean(kind):
        cells = pc.if_else(array, '<c t="b"><v>1</v></c>', '<c t="b"><v>0</v></c>')
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        cells = _number_cells(pc.cast(array, pa.string()))
    elif pa.types.is_floating(kind):
        finite = pc.if_else(pc.is_finite(array), array, pa.scalar(None, kind))
        cells = _number_cells(pc.cast(finite, pa.string()))
    elif pa.types.is_date(kind):
        days = pc.cast(pc.cast(array, pa.date32()), pa.int32())
        serial = _number_cells(pc.cast(pc.add(days, _EXCEL_DAY_OF_1970), pa.string()), _STYLE_DATE)
        early = _text_cells(pc.cast(array, pa.string()))
        cells = pc.if_else(pc.less(days, _FIRST_EXCEL_DAY), early, serial)
    elif pa.types.is_timestamp(kind):
        wall = pc.local_timestamp(array) if kind.tz else array
        micros = pc.cast(pc.cast(wall, pa.timestamp("us")), pa.int64())
        serial = _number_cells(_serial_text(micros), _STYLE_DATETIME)
        early = _text_cells(pc.strftime(pc.cast(wall, pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S"))
        cells = pc.if_else(pc.less(micros, _FIRST_EXCEL_DAY * _MICROS_PER_DAY), early, serial)
    elif pa.types.is_time(kind):
        micros = pc.cast(pc.cast(array, pa.time64("us")), pa.int64())
        fraction = pc.divide(pc.cast(micros, pa.float64()), float(_MICROS_PER_DAY))
        cells = _number_cells(pc.cast(fraction, pa.string()), _STYLE_TIME)
    else:
        cells = _text_cells(_python_text(array))
    return pc.fill_null(cells, _EMPTY_CELL)


class _XlsxBook:
    """The zip of one workbook written to a drained sink: sheets first, the parts that list them at the end."""

    def __init__(self, names: list[str]) -> None:
        self.sink = _Sink()
        self._zip = zipfile.ZipFile(self.sink, mode="w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        header = _text_cells(pa.array(names, pa.string()), _STYLE_HEADER).to_pylist()
        self._header = "<row>" + "".join(header) + "</row>"
        self.sheets = 0
        self._entry: Any = None
        self._row = 0
        self._bytes = 0

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._entry.write(data)
        self._bytes += len(data)

    def _open_sheet(self) -> None:
        self.sheets += 1
        self._entry = self._zip.open(f"xl/worksheets/sheet{self.sheets}.xml", mode="w")
        self._row, self._bytes = 1, 0
        self._write(_SHEET_HEAD + self._header)

    def _close_sheet(self) -> None:
        self._write(_SHEET_TAIL)
        self._entry.close()
        self._entry = None

    def add_rows(self, batch: pa.RecordBatch) -> Iterator[None]:
        """Write the batch's rows, pausing (yield) after each piece so that the caller can send what is ready."""
        rows = pc.binary_join_element_wise("<row>", *[_xlsx_cells(column) for column in batch.columns], "</row>", "")
        offset = 0
        while offset < len(rows):
            if self._entry is None:
                self._open_sheet()
            elif self._row >= XLSX_MAX_ROWS or self._bytes >= XLSX_MAX_SHEET_BYTES:
                self._close_sheet()
                self._open_sheet()
            piece = rows.slice(offset, min(_PIECE_ROWS, XLSX_MAX_ROWS - self._row))
            self._write("".join(piece.to_pylist()))
            self._row += len(piece)
            offset += len(piece)
            yield

    def finish(self) -> None:
        if self._entry is None:
            self._open_sheet()
        self._close_sheet()
        names = [XLSX_SHEET_NAME if n == 1 else f"{XLSX_SHEET_NAME}({n})" for n in range(1, self.sheets + 1)]
        sheets_xml = "".join(
            f'<sheet name={quoteattr(name)} sheetId="{n}" r:id="rId{n}"/>' for n, name in enumerate(names, start=1)
        )
        rels = "".join(
            f'<Relationship Id="rId{n}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, self.sheets + 1)
        )
        styles_id = self.sheets + 1
        rels += (
            f'<Relationship Id="rId{styles_id}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/>'
        )
        parts = {
            "xl/styles.xml": _STYLES_XML,
            "xl/workbook.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f"<sheets>{sheets_xml}</sheets></workbook>"
            ),
            "xl/_rels/workbook.xml.rels": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                f"{rels}</Relationships>"
            ),
            "_rels/.rels": _ROOT_RELS_XML,
            "[Content_Types].xml": _CONTENT_TYPES_XML.format(
                sheets="".join(_SHEET_CONTENT_TYPE.format(n=n) for n in range(1, self.sheets + 1))
            ),
        }
        for name, text in parts.items():
            self._zip.writestr(name, text.encode("utf-8"))
        self._zip.close()


def stream_xlsx(reader: pa.RecordBatchReader, columns: Sequence[str] | None = None) -> Chunks:
    names = _output_names(reader.schema, columns)
    book = _XlsxBook(names)
    for batch in _batches(reader, names):
        for _ in book.add_rows(batch):
            if data := book.sink.drain():
                yield data
    book.finish()
    yield book.sink.drain()

"""Helpers shared by the readers: header checks, Python values as source text, rows gathered into Arrow batches."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext, gettext_noop

from govshare.dataplane.raw import BATCH_ROWS, ROW_COLUMN, SourceInvalid, raw_schema

HEADER = gettext_noop("表头")
NAMELESS_COLUMN = gettext_noop("%(what)s第 %(position)s 列的列名为空：请为每一列填写列名")
RESERVED_COLUMN = gettext_noop("%(what)s第 %(position)s 列的列名“%(name)s”为系统保留（记录行号），请改名")
REPEATED_COLUMN = gettext_noop("%(what)s有重复的列名“%(name)s”：第 %(first)s 列和第 %(position)s 列")
NO_COLUMNS = gettext_noop("%(what)s为空：没有任何列")
SENTENCES = (NAMELESS_COLUMN, RESERVED_COLUMN, REPEATED_COLUMN, NO_COLUMNS)


def check_header(names: Sequence[str], *, what: str = HEADER) -> list[str]:
    """Column names stripped of surrounding blanks; an empty or repeated name is refused, naming its columns.
    `what` is a catalogue message, translated only for a refusal (a reader may run without Django's set-up)."""
    columns = [name.strip() for name in names]
    first_seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if not name:
            raise SourceInvalid(gettext(NAMELESS_COLUMN) % {"what": gettext(what), "position": position})
        if name == ROW_COLUMN:
            raise SourceInvalid(
                gettext(RESERVED_COLUMN) % {"what": gettext(what), "position": position, "name": ROW_COLUMN}
            )
        if name in first_seen:
            raise SourceInvalid(
                gettext(REPEATED_COLUMN)
                % {"what": gettext(what), "name": name, "first": first_seen[name], "position": position}
            )
        first_seen[name] = position
    if not columns:
        raise SourceInvalid(gettext(NO_COLUMNS) % {"what": gettext(what)})
    return columns


def compact_json(value: Any) -> str:
    """Nested values as compact JSON text; Decimal numbers (ijson's) written exactly."""
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{compact_json(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(compact_json(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    return json.dumps(text_value(value) if isinstance(value, dt.date | dt.time | bytes) else value, ensure_ascii=False)


def text_value(value: Any) -> str | None:
    """A source value as the text the data plane coerces: ISO 8601 dates, exact decimals, whole floats without
    ".0", bytes as hex, nested values as compact JSON; None and "" are null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list | tuple):
        return compact_json(value)
    return str(value)  # UUID, timedelta, IP addresses, …


def larger(current: Any, value: Any) -> Any:
    """The larger of two watermark values (None is smallest); values of mixed types compare as text."""
    if current is None:
        return value
    try:
        return value if value > current else current
    except TypeError:
        return value if str(value) > str(current) else current


_COUNT = [pa.array(range(BATCH_ROWS), pa.int64())]


def counting(start: int, count: int) -> pa.Array:
    """start, start + 1, … (count numbers) as an int64 array, from a cached range."""
    if count > len(_COUNT[0]):
        _COUNT[0] = pa.array(range(max(count, 2 * len(_COUNT[0]))), pa.int64())
    return pc.add(_COUNT[0].slice(0, count), pa.scalar(start, pa.int64()))


_NULL_TEXT = pa.scalar(None, pa.string())


def column_text(values: Sequence[Any]) -> pa.Array:
    """One column of source values as text (as `text_value` would give), converted by Arrow when the column
    holds only text or only integers (the common case: no Python call per value)."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    try:
        if kinds <= {str}:
            text = pa.array(values, pa.string())
            return pc.if_else(pc.equal(text, ""), _NULL_TEXT, text)
        if kinds == {int}:
            return pa.array(values, pa.int64()).cast(pa.string())
    except (pa.ArrowException, OverflowError):
        pass  # integers beyond int64
    return pa.array([text_value(v) for v in values], pa.string())


class BatchChecksum:
    """SHA-256 over the canonical text of the rows in the order read: each row's fields joined by U+001F (null as
    U+0000), each field followed by the separator. Computed by Arrow over whole batches."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.bytes = 0

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0 or batch.num_columns < 2:
            return
        fields = [batch.column(i) for i in range(1, batch.num_columns)]
        lines = pc.binary_join_element_wise(
            *fields, pa.scalar(""), "\x1f", null_handling="replace", null_replacement="\x00"
        )
        offsets = lines.buffers()[1]
        first, last = (
            int.from_bytes(offsets[i * 4 : i * 4 + 4], "little") for i in (lines.offset, lines.offset + len(lines))
        )
        data = memoryview(lines.buffers()[2])[first:last]
        self._hash.update(data)
        self.bytes += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class RowBuffer:
    """Rows of text values gathered column-wise, handed out as record batches of at most BATCH_ROWS rows."""

    def __init__(self, columns: list[str], limit: int = BATCH_ROWS) -> None:
        self.columns = columns
        self.schema = raw_schema(columns)
        self._limit = limit
        self._numbers: list[int] = []
        self._values: list[list[str | None]] = [[] for _ in columns]

    def add(self, number: int, values: Iterable[str | None]) -> pa.RecordBatch | None:
        """Add one row; returns a full batch when the buffer reaches the limit."""
        self._numbers.append(number)
        for column, value in zip(self._values, values, strict=True):
            column.append(value)
        return self.flush() if len(self._numbers) >= self._limit else None

    def flush(self) -> pa.RecordBatch | None:
        if not self._numbers:
            return None
        arrays = [pa.array(self._numbers, pa.int64()), *(pa.array(v, pa.string()) for v in self._values)]
        self._numbers = []
        self._values = [[] for _ in self.columns]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def batched(buffer: RowBuffer, rows: Iterable[tuple[int, list[str | None]]]) -> Iterator[pa.RecordBatch]:
    for number, values in rows:
        if (batch := buffer.add(number, values)) is not None:
            yield batch
    if (batch := buffer.flush()) is not None:
        yield batch

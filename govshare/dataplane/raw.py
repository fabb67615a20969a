"""The contract between sources and the data plane.

Every source (前置库, HTTP API, uploaded file) is read as a *raw stream*: Arrow record batches whose first column
`_row` is the record's number in the source (for files: the line a spreadsheet user sees, header = row 1) and
whose other columns are the source's columns as UTF-8 strings (null when empty). Types are coerced afterwards,
by the engine, in one SQL transformation (`transform.py`), so that DuckDB and Spark apply the same rules.

Rows that cannot even be split into columns (ragged rows, undecodable bytes) never reach the engine: the reader
hands them to `on_reject` with the row number and the reason, and goes on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

import pyarrow as pa

from govshare.core.redaction import redact

ROW_COLUMN = "_row"
ERROR_COLUMN = "_error_column"
ERROR_REASON = "_error"
# Arrow batches of this many rows keep memory flat whatever the source's size.
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class Reject:
    """One refused source row: where it is and what is wrong (Chinese, shown to users)."""

    row: int
    column: str
    reason: str
    value: str = ""


RejectSink = Callable[[Reject], None]


@dataclass
class ReadStats:
    """Filled in while a stream is read; complete once its batches are exhausted."""

    bytes_read: int = 0
    rows_read: int = 0
    sha256: str = ""
    encoding: str = ""
    # Incremental loads: the largest watermark value read (as text), stored for the next load.
    watermark_max: str = ""
    warnings: list[str] = field(default_factory=list)


class RawStream(Protocol):
    """A source opened for reading. `columns` is known before the first batch (header, first record or schema)."""

    columns: list[str]
    stats: ReadStats

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Batches of at most BATCH_ROWS rows: `_row` int64, then one string column per entry of `columns`."""
        ...

    def close(self) -> None: ...


def raw_schema(columns: list[str]) -> pa.Schema:
    return pa.schema([(ROW_COLUMN, pa.int64()), *((name, pa.string()) for name in columns)])


class HashingReader:
    """A binary file wrapper that counts and hashes (SHA-256) every byte read through it: the load's checksum."""

    def __init__(self, raw: BinaryIO, stats: ReadStats, progress: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._stats = stats
        self._hash = hashlib.sha256()
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._hash.update(data)
            self._stats.bytes_read += len(data)
            if self._progress is not None:
                self._progress(self._stats.bytes_read)
        else:
            self._stats.sha256 = self._hash.hexdigest()
        return data

    def finish(self) -> str:
        """Hash the rest of the file (if the reader stopped early) and return the checksum."""
        while self.read(1 << 20):
            pass
        return self._stats.sha256

    def close(self) -> None:
        self._raw.close()


@dataclass(frozen=True)
class ColumnSpec:
    """How one source column becomes one column of the dataset (an information item of the resource)."""

    source: str  # the raw stream's column
    target: str  # the information item's name = the dataset's column
    data_type: str  # catalog.choices.ItemDataType value (C N Y D T L M B)
    length: int | None = None  # item length: characters for C, digits for N/Y
    required: bool = False  # key columns must not be empty
    # An item stored encrypted (加密, 加密可检索): a refused value's reason never quotes it (the rejects file is plain
    # text on disk and downloadable).
    withhold_values: bool = False


class SourceError(Exception):
    """A source could not be read. The message is Chinese and says what to fix; `retryable` errors (a database
    or API that is down, a 500, invalid JSON mid-way) are retried with backoff, the others fail the load at once."""

    retryable = False

    def __init__(self, message: str) -> None:
        # Shown to users and kept in the load's log: a password in a source URL or a personal value quoted from a
        # driver's message never is (govshare.core.redaction.redact).
        message = redact(message)
        super().__init__(message)
        self.message = message


class SourceUnavailable(SourceError):
    retryable = True


class SourceInvalid(SourceError):
    retryable = False


def map_columns(
    reader: pa.RecordBatchReader, schema: pa.Schema, convert: Mapping[str, Callable[[pa.Array], pa.Array]]
) -> pa.RecordBatchReader:
    """`reader`'s batches as `schema`: each of its columns taken from the batch by name, through `convert[name]`
    when there is one (columns `schema` leaves out are dropped). Streamed batch by batch; `reader` is closed when
    the result is finished or abandoned, and an error of `reader` comes out as it is."""

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                arrays = [
                    convert[name](batch.column(name)) if name in convert else batch.column(name)
                    for name in schema.names
                ]
                yield pa.RecordBatch.from_arrays(arrays, schema=schema)
        finally:
            reader.close()

    return pa.RecordBatchReader.from_batches(schema, batches())

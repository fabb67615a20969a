"""The key index that serves lookups by key on a dataset's current version (the gateway's `lookup`), without
scanning the dataset.

One read-only SQLite file per indexed version, `<data_dir>/serving/<dataset id>/v<version>-<token>.sqlite` (0600):

- `rows(id INTEGER PRIMARY KEY, data TEXT)`: every row of the version in its STORED form, one JSON object per row
  (made by DuckDB's `to_json`, vectorised): an encrypted column stays SM4-GCM ciphertext (its binary form in
  Base64), so the file holds no more plaintext than the Delta table. The `<column>__hmac` columns are not copied
  into the rows: they are only used as keys.
- `key_<n>(key TEXT, row_id INTEGER, PRIMARY KEY(key, row_id)) WITHOUT ROWID` per lookup key (`lookup_keys`): a key
  may match several rows (identifier columns are not always unique). A 加密可检索 item's key is its `__hmac` value
  (a lookup hashes the asked value under every key of the ring); a composite key's values are joined with "\\x1f".
  A row whose key (or any part of it) is empty or null is not indexed under that key.
- `meta`: what the file holds (dataset, resource, version, keys, encrypted columns), so a reader needs nothing else.

Building (`build_serving_index`): into a temporary file, renamed into place, then registered (`ServingIndex`, one
transaction with its audit row `datasets.serving.build`); the index it replaces is retired and its file deleted
after `RETIRED_GRACE` (a process that still has it open keeps reading it). A build killed midway leaves a temporary
file and a row `building`: the next build of the dataset removes the one and fails the other, and the previous
index keeps serving meanwhile. Builds of one dataset are serialised by a file lock. `version_current` queues the
build as a job (`BUILD_SERVING_INDEX`); `build_here()` makes a foreground process (the demo, `run_load`) build
itself instead.

Reading (`served(dataset_id)`): the newest ready index of the dataset, re-checked in the metadata database at most
every `REFRESH_SECONDS`, as a `ServedVersion` bound to its file: a lookup (`rows_for`) reads one immutable file
through the thread's own sqlite3 connection, never the metadata database, so it never mixes two versions.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import itertools
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from govshare.audit.services import record_action
from govshare.catalog.choices import ItemDataType
from govshare.catalog.models import Item
from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_binary_value
from govshare.dataplane.encryption import HMAC_OF_KEY, hmac_column, purpose, stored_columns
from govshare.dataplane.engines import connect_duckdb
from govshare.dataplane.tables import DatasetTable
from govshare.dataplane.transform import quote_identifier
from govshare.datasets import leases
from govshare.datasets.choices import ServingStatus
from govshare.datasets.models import Dataset, ServingIndex
from govshare.jobs import registry
from govshare.sources.models import Source

__all__ = [
    "ACTION_BUILD",
    "BUILD_SERVING_INDEX",
    "IDENTIFIER_ITEMS",
    "KEY_SEPARATOR",
    "REFRESH_SECONDS",
    "RETIRED_GRACE",
    "SWEEP_SERVING_INDEXES",
    "ServedVersion",
    "UnknownKey",
    "VersionFiles",
    "build_here",
    "build_serving_index",
    "build_serving_index_job",
    "ensure_sweep_schedule",
    "forget_served",
    "lookup_keys",
    "on_version_current",
    "served",
    "sweep_serving_indexes",
    "version_files",
]

logger = logging.getLogger(__name__)

# Items looked up by their name alone: the identifiers of people, organisations and licences.
IDENTIFIER_ITEMS = (
    "公民身份号码",
    "身份证号码",
    "身份证号",
    "统一社会信用代码",
    "组织机构代码",
    "证照编号",
    "许可证编号",
    "证书编号",
)
KEY_SEPARATOR = "\x1f"
ACTION_BUILD = "datasets.serving.build"
BUILD_SERVING_INDEX = "datasets.build_serving_index"
SWEEP_SERVING_INDEXES = "datasets.sweep_serving_indexes"
SWEEP_SCHEDULE_NAME = "govshare-sweep-serving-indexes"
# How long a served index may lag behind the newest ready one in a process.
REFRESH_SECONDS = 2.0
# How long a replaced index's file stays for the lookups that still read it.
RETIRED_GRACE = dt.timedelta(minutes=10)
FORMAT = 1
TEMP_SUFFIX = ".tmp"
SCRATCH_SUFFIX = ".scratch"
BUILD_BATCH_ROWS = 65_536


class UnknownKey(LookupError):
    """A lookup by items that are not one of the index's keys."""

    def __init__(self, key_items: Sequence[str], known: Sequence[Sequence[str]]) -> None:
        listed = "；".join("+".join(key) for key in known) or "无"
        super().__init__(f"“{'+'.join(key_items)}”不是该数据集检索索引的键（可用的键：{listed}）")
        self.key_items = tuple(key_items)


# ---------------------------------------------------------------------------------------------- keys


def lookup_keys(dataset: Dataset) -> list[tuple[str, ...]]:
    """The keys a dataset is looked up by: each active source's key items (one composite key), and every item
    named as a well-known identifier (`IDENTIFIER_ITEMS`); each key's items and the keys in the resource's item
    order, without duplicates. Items no longer in the catalogue are left out (a source key with one is dropped)."""
    position = dict(
        Item.objects.filter(resource_id=dataset.resource_id).order_by("position").values_list("name", "position")
    )
    keys: list[tuple[str, ...]] = []
    for declared in Source.objects.filter(resource_id=dataset.resource_id, is_active=True).order_by("pk"):
        names = [str(name) for name in declared.key_items]
        if names and all(name in position for name in names):
            keys.append(tuple(sorted(dict.fromkeys(names), key=position.__getitem__)))
    keys.extend((name,) for name in position if name in IDENTIFIER_ITEMS)
    unique = list(dict.fromkeys(keys))
    return sorted(unique, key=lambda key: [position[name] for name in key])


@dataclass(frozen=True, slots=True)
class _KeyColumn:
    item: str
    column: str  # the stored column whose values are the key: the item's own, or its `__hmac` column
    hashed: bool


def _key_columns(key: tuple[str, ...], stored: pa.Schema) -> tuple[_KeyColumn, ...] | None:
    """How a key reads in a stored version, or None when it cannot be indexed there (an item missing from the
    version, or encrypted without a hash: its ciphertexts differ for equal values)."""
    encrypted = {column.name: column for column in stored_columns(stored)}
    parts: list[_KeyColumn] = []
    for item in key:
        if item not in stored.names:
            return None
        column = encrypted.get(item)
        if column is None:
            parts.append(_KeyColumn(item, item, hashed=False))
        elif column.searchable and hmac_column(item) in stored.names:
            parts.append(_KeyColumn(item, hmac_column(item), hashed=True))
        else:
            return None
    return tuple(parts)


# ---------------------------------------------------------------------------------------------- files


def serving_root() -> Path:
    return Path(settings.GOVSHARE.data_dir) / "serving"


def _dataset_dir(dataset_id: int) -> Path:
    return serving_root() / str(dataset_id)


@contextmanager
def _dataset_lock(dataset_id: int) -> Iterator[Path]:
    """One build of a dataset at a time, across processes; released by the kernel if the process dies."""
    directory = _dataset_dir(dataset_id)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _json_expression(field: pa.Field) -> str:
    name = quote_identifier(field.name)
    if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
        return f"base64({name})"
    return name


def _key_expression(parts: tuple[_KeyColumn, ...]) -> str:
    pieces = [f"NULLIF(CAST({quote_identifier(part.column)} AS VARCHAR), '')" for part in parts]
    return " || chr(31) || ".join(pieces)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_index(
    path: Path,
    batches: pa.RecordBatchReader,
    stored: pa.Schema,
    keys: list[tuple[_KeyColumn, ...]],
    meta: dict[str, Any],
) -> int:
    """Write the index file at `path` from the version's stored batches; returns its row count. The keys are staged
    in a scratch database beside it and inserted in key order (appends to each key's B-tree)."""
    hidden = {field.name for field in stored if HMAC_OF_KEY in (field.metadata or {})}
    shown = [field for field in stored if field.name not in hidden and field.name in batches.schema.names]
    pairs = ", ".join(f"{quote_identifier(field.name)} := {_json_expression(field)}" for field in shown)
    selected = [f"to_json(struct_pack({pairs})) AS data" if pairs else "'{}' AS data"]
    selected += [f"{_key_expression(parts)} AS k{n}" for n, parts in enumerate(keys)]
    scratch = path.with_name(path.name + SCRATCH_SUFFIX)
    con = sqlite3.connect(path, isolation_level=None)
    duck = connect_duckdb()
    try:
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -262144"):
            con.execute(f"PRAGMA {pragma}")
        con.execute("ATTACH DATABASE ? AS scratch", (str(scratch),))
        con.execute("PRAGMA scratch.journal_mode = OFF")
        con.execute("PRAGMA scratch.synchronous = OFF")
        con.execute("BEGIN")
        con.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        con.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
        for n in range(len(keys)):
            con.execute(
                f"CREATE TABLE key_{n} (key TEXT NOT NULL, row_id INTEGER NOT NULL, "
                "PRIMARY KEY (key, row_id)) WITHOUT ROWID"
            )
            con.execute(f"CREATE TABLE scratch.stage_{n} (key TEXT NOT NULL, row_id INTEGER NOT NULL)")
        duck.register("serving_source", batches)
        query = f"SELECT {', '.join(selected)} FROM serving_source"  # noqa: S608 (quoted names)
        result = duck.sql(query).to_arrow_reader(BUILD_BATCH_ROWS)
        next_id = 1
        for batch in result:
            count = batch.num_rows
            ids = range(next_id, next_id + count)
            next_id += count
            con.executemany("INSERT INTO rows VALUES (?, ?)", zip(ids, batch.column(0).to_pylist(), strict=True))
            for n in range(len(keys)):
                values = batch.column(n + 1).to_pylist()
                con.executemany(
                    f"INSERT INTO scratch.stage_{n} VALUES (?, ?)",  # noqa: S608 (a numbered table)
                    ((value, row_id) for value, row_id in zip(values, ids, strict=True) if value is not None),
                )
        for n in range(len(keys)):
            con.execute(f"INSERT INTO key_{n} SELECT key, row_id FROM scratch.stage_{n} ORDER BY key, row_id")  # noqa: S608
        rows = next_id - 1
        con.execute("INSERT INTO meta VALUES ('index', ?)", (json.dumps({**meta, "rows": rows}, ensure_ascii=False),))
        con.execute("COMMIT")
        con.execute("DETACH DATABASE scratch")
    finally:
        duck.close()
        con.close()
        scratch.unlink(missing_ok=True)
    path.chmod(0o600)
    _fsync(path)
    return rows


# ---------------------------------------------------------------------------------------------- building

_build_here = 0
_build_here_lock = threading.Lock()


@contextmanager
def build_here() -> Iterator[None]:
    """While the block runs, a version made current is indexed by this process at once instead of by a queued job:
    for foreground work with no job worker (the demo city, `govshare run_load`)."""
    global _build_here
    with _build_here_lock:
        _build_here += 1
    try:
        yield
    finally:
        with _build_here_lock:
            _build_here -= 1


def on_version_current(sender: object, dataset: Dataset, number: int, **kwargs: object) -> None:
    """`datasets.signals.version_current` (sent after the commit): index the new current version, unless it is no
    longer current, is indexed already (the demo builds as it loads) or has no lookup key."""
    if _build_here:
        build_serving_index(dataset, number)
        return
    current = Dataset.objects.filter(pk=dataset.pk).values_list("current_version", flat=True).first()
    built = ServingIndex.objects.filter(
        dataset=dataset, version=number, status__in=[ServingStatus.READY, ServingStatus.RETIRED]
    )
    if current != number or built.exists() or not lookup_keys(dataset):
        return
    registry.enqueue(
        BUILD_SERVING_INDEX,
        dataset.pk,
        number,
        task_name=f"serving-{dataset.pk}-v{number}",
        group=f"serving-{dataset.pk}",
    )


def build_serving_index_job(dataset_id: int, version: int) -> None:
    """The job: index the version if it is still the dataset's current one (a newer version's job indexes that)."""
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None or dataset.current_version != version:
        logger.info("serving index of dataset %s v%s not built: no longer the current version", dataset_id, version)
        return
    build_serving_index(dataset, version)


def _ready(dataset: Dataset, version: int, keys: list[tuple[str, ...]]) -> ServingIndex | None:
    wanted = [list(key) for key in keys]
    for row in ServingIndex.objects.filter(dataset=dataset, version=version, status=ServingStatus.READY):
        if row.key_items == wanted and Path(row.path).is_file():
            return row
    return None


def _clear_interrupted(dataset: Dataset, directory: Path) -> None:
    """Under the dataset's lock no build of it runs: temporary files are leftovers of a killed build, and rows
    still `building` are its."""
    for entry in directory.iterdir():
        if entry.name.endswith((TEMP_SUFFIX, SCRATCH_SUFFIX)):
            entry.unlink(missing_ok=True)
    ServingIndex.objects.filter(dataset=dataset, status=ServingStatus.BUILDING).update(
        status=ServingStatus.FAILED, error="生成中断（进程在生成过程中退出），已清理临时文件"
    )


def build_serving_index(
    dataset: Dataset, version: int | None = None, *, now: dt.datetime | None = None
) -> ServingIndex | None:
    """Index a version of the dataset (its current one by default) and serve it, unless a newer one is served
    already. Idempotent: the ready index of that version (with today's keys) is returned as it is. None when there
    is nothing to index (no version, no lookup key). A failed build is recorded (`failed`, with its error) and
    raised; the previous index keeps serving."""
    dataset = Dataset.objects.select_related("resource").get(pk=dataset.pk)
    version = dataset.current_version if version is None else version
    if version is None:
        return None
    keys = lookup_keys(dataset)
    if not keys:
        return None
    if (done := _ready(dataset, version, keys)) is not None:
        return done
    with _dataset_lock(dataset.pk) as directory:
        if (done := _ready(dataset, version, keys)) is not None:
            return done
        _clear_interrupted(dataset, directory)
        final = directory / f"v{version}-{secrets.token_hex(6)}.sqlite"
        row = ServingIndex.objects.create(
            dataset=dataset, version=version, path=str(final), key_items=[list(key) for key in keys]
        )
        temporary = final.with_name(final.name + TEMP_SUFFIX)
        started = time.perf_counter()
        try:
            rows, indexed = _build_file(dataset, version, keys, temporary, holder=f"serving:{row.pk}")
            os.replace(temporary, final)
            _fsync(directory)
        except BaseException as exc:
            temporary.unlink(missing_ok=True)
            ServingIndex.objects.filter(pk=row.pk).update(status=ServingStatus.FAILED, error=str(exc)[:2000])
            raise
        seconds = time.perf_counter() - started
        _register(row, rows=rows, keys=indexed, seconds=seconds, now=now or timezone.now())
    _delete_retired(dataset.pk, now or timezone.now())
    return row


def _build_file(
    dataset: Dataset, version: int, keys: list[tuple[str, ...]], path: Path, *, holder: str
) -> tuple[int, list[tuple[str, ...]]]:
    table = DatasetTable(dataset.table_uri)
    with leases.hold_version(dataset, version, holder=holder):
        stored = table.schema(version)
        usable = [(key, parts) for key in keys if (parts := _key_columns(key, stored)) is not None]
        if not usable:
            names = "；".join("+".join(key) for key in keys)
            raise ValueError(f"第 {version + 1} 版数据中没有可检索的键（{names}）：信息项缺失或加密存储且不可检索")
        encrypted = {column.name: column.data_type for column in stored_columns(stored)}
        meta = {
            "format": FORMAT,
            "dataset_id": dataset.pk,
            "resource_id": dataset.resource_id,
            "version": version,
            "keys": [[{"item": p.item, "hashed": p.hashed} for p in parts] for _, parts in usable],
            "encrypted": encrypted,
        }
        reader = table.read(version)
        try:
            rows = _write_index(path, reader, stored, [parts for _, parts in usable], meta)
        finally:
            reader.close()
    return rows, [key for key, _ in usable]


def _register(row: ServingIndex, *, rows: int, keys: list[tuple[str, ...]], seconds: float, now: dt.datetime) -> None:
    """The built file becomes the dataset's served index (or retired at once when a newer version is served)."""
    with transaction.atomic():
        served_rows = ServingIndex.objects.select_for_update().filter(
            dataset_id=row.dataset_id, status=ServingStatus.READY
        )
        newer = served_rows.filter(version__gt=row.version).exists()
        if not newer:
            served_rows.exclude(pk=row.pk).update(status=ServingStatus.RETIRED, retired_at=now)
        row.status = ServingStatus.RETIRED if newer else ServingStatus.READY
        row.retired_at = now if newer else None
        row.row_count = rows
        row.key_items = [list(key) for key in keys]
        row.built_at = now
        row.build_seconds = round(seconds, 3)
        row.save(update_fields=["status", "retired_at", "row_count", "key_items", "built_at", "build_seconds"])
        record_action(
            None,
            ACTION_BUILD,
            row.dataset,
            resource=row.dataset.resource.code,
            version=row.version,
            rows=rows,
            keys=["+".join(key) for key in keys],
            seconds=row.build_seconds,
            served=not newer,
        )


# ---------------------------------------------------------------------------------------------- housekeeping


def _delete_retired(dataset_id: int | None, now: dt.datetime) -> list[str]:
    """Delete the files of indexes retired more than RETIRED_GRACE ago (of one dataset, or of all)."""
    retired = ServingIndex.objects.filter(status=ServingStatus.RETIRED, retired_at__lte=now - RETIRED_GRACE)
    if dataset_id is not None:
        retired = retired.filter(dataset_id=dataset_id)
    deleted = []
    for path in retired.values_list("path", flat=True):
        file = Path(path)
        if file.exists():
            file.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def sweep_serving_indexes(now: dt.datetime | None = None) -> list[str]:
    """The hourly sweep: delete the files of indexes retired more than RETIRED_GRACE ago, and index the current
    version of every dataset that has no index row for it (a lost job, a dataset loaded before indexes existed).
    The paths deleted."""
    now = now or timezone.now()
    deleted = _delete_retired(None, now)
    tried = ServingIndex.objects.values_list("dataset_id", "version")
    seen = set(tried)
    for dataset in Dataset.objects.exclude(current_version=None).order_by("pk"):
        if (dataset.pk, dataset.current_version) in seen:
            continue
        try:
            build_serving_index(dataset, now=now)
        except Exception:
            logger.exception("serving index of dataset %s failed", dataset.pk)
    return deleted


def ensure_sweep_schedule() -> None:
    registry.keep_schedule(SWEEP_SCHEDULE_NAME, SWEEP_SERVING_INDEXES, Schedule.HOURLY)


def ensure_sweep_schedule_after_migrate(using: str, **kwargs: object) -> None:
    registry.keep_schedule_once_migrated(using, SWEEP_SCHEDULE_NAME, SWEEP_SERVING_INDEXES, Schedule.HOURLY)


# ---------------------------------------------------------------------------------------------- reading


def _plain(text: str, data_type: str) -> Any:
    """A decrypted value as the JSON of a plain column of its type reads (numbers, booleans; dates as text)."""
    if data_type in (ItemDataType.NUMBER, ItemDataType.CURRENCY):
        return float(text)
    if data_type == ItemDataType.LOGICAL:
        return text.lower() == "true"
    if data_type == ItemDataType.DATETIME:
        return dt.datetime.fromisoformat(text).isoformat(sep=" ")
    return text


class ServedVersion:
    """One index file, as lookups read it: immutable, so a call never sees two versions. Each thread reads
    through its own read-only connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._uri = f"file:{quote(str(path))}?mode=ro&immutable=1"
        self._local = threading.local()
        (text,) = self._connection().execute("SELECT value FROM meta WHERE name = 'index'").fetchone()
        meta = json.loads(text)
        self.dataset_id: int = meta["dataset_id"]
        self.resource_id: int = meta["resource_id"]
        self.version: int = meta["version"]
        self.row_count: int = meta["rows"]
        self._encrypted: dict[str, str] = meta["encrypted"]
        self._keys: dict[tuple[str, ...], tuple[str, tuple[bool, ...]]] = {
            tuple(part["item"] for part in parts): (f"key_{n}", tuple(part["hashed"] for part in parts))
            for n, parts in enumerate(meta["keys"])
        }
        self.key_items: tuple[tuple[str, ...], ...] = tuple(self._keys)

    def __repr__(self) -> str:
        return f"<ServedVersion dataset={self.dataset_id} v{self.version} {self.path.name}>"

    def _connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self._uri, uri=True)
            self._local.con = con
        return con

    def _candidates(self, key_items: tuple[str, ...], values: tuple[str, ...], hashed: tuple[bool, ...]) -> list[str]:
        ring = crypto.current_key_ring() if any(hashed) else None
        parts: list[list[str]] = []
        for item, value, is_hashed in zip(key_items, values, hashed, strict=True):
            if is_hashed:
                assert ring is not None
                parts.append(crypto.equality_hash_candidates(value, purpose(self.resource_id, item), ring))
            else:
                parts.append([value])
        return [KEY_SEPARATOR.join(combination) for combination in itertools.product(*parts)]

    def rows_for(
        self,
        key_items: tuple[str, ...],
        values: tuple[str, ...],
        *,
        columns: Iterable[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The rows whose key `key_items` equals `values` (in row order, at most `limit`), as plain values: the
        asked `columns` (all by default; a column the version lacks is left out), encrypted ones decrypted.
        UnknownKey when `key_items` is not one of the index's keys; ValueError when the values do not fit it."""
        key_items = tuple(key_items)
        found = self._keys.get(key_items)
        if found is None:
            raise UnknownKey(key_items, self.key_items)
        table, hashed = found
        values = tuple(values)
        if len(values) != len(key_items):
            raise ValueError(f"检索键“{'+'.join(key_items)}”需要 {len(key_items)} 个值，收到 {len(values)} 个")
        if any(not value for value in values):
            return []
        keys = self._candidates(key_items, values, hashed)
        marks = ", ".join("?" * len(keys))
        query = (
            f"SELECT r.data FROM {table} AS k JOIN rows AS r ON r.id = k.row_id "  # noqa: S608 (a table name of the file)
            f"WHERE k.key IN ({marks}) ORDER BY k.row_id LIMIT ?"
        )
        fetched = self._connection().execute(query, (*keys, limit)).fetchall()
        return [self._plain_row(data, columns) for (data,) in fetched]

    def rows_after(
        self, after: int, limit: int, *, columns: Iterable[str] | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """Keyset pagination over the version: the rows whose id follows `after` (0: from the first), in id order,
        at most `limit`, each with its id, as `rows_for` gives them. An index range scan: a page costs the same
        wherever it is in the version."""
        query = "SELECT id, data FROM rows WHERE id > ? ORDER BY id LIMIT ?"
        fetched = self._connection().execute(query, (after, limit)).fetchall()
        return [(row_id, self._plain_row(data, columns)) for row_id, data in fetched]

    def _plain_row(self, data: str, columns: Iterable[str] | None) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(data)
        wanted = None if columns is None else list(dict.fromkeys(columns))
        row = stored if wanted is None else {name: stored[name] for name in wanted if name in stored}
        ring: crypto.KeyRing | None = None
        for name, value in row.items():
            data_type = self._encrypted.get(name)
            if data_type is None or value is None:
                continue
            ring = ring or crypto.current_key_ring()
            text = decrypt_binary_value(base64.b64decode(value), ring, purpose(self.resource_id, name))
            row[name] = _plain(text.decode("utf-8"), data_type)
        return row


@dataclass(slots=True)
class _Entry:
    checked: float
    index_id: int | None
    version: ServedVersion | None


_served: dict[int, _Entry] = {}


def served(dataset_id: int) -> ServedVersion | None:
    """The dataset's served index (its newest ready one), None when it has none. The metadata database is asked at
    most every REFRESH_SECONDS per dataset and process; an index whose file cannot be opened is not served (the
    one before stays)."""
    entry = _served.get(dataset_id)
    clock = time.monotonic()
    if entry is not None and clock - entry.checked < REFRESH_SECONDS:
        return entry.version
    newest = (
        ServingIndex.objects.filter(dataset_id=dataset_id, status=ServingStatus.READY)
        .order_by("-version", "-pk")
        .values_list("pk", "path")
        .first()
    )
    current = entry.version if entry is not None else None
    index_id = entry.index_id if entry is not None else None
    if newest is None:
        current, index_id = None, None
    elif newest[0] != index_id:
        try:
            current, index_id = ServedVersion(Path(newest[1])), newest[0]
        except (OSError, sqlite3.Error, ValueError, KeyError, TypeError):
            logger.exception("serving index %s of dataset %s cannot be opened", newest[0], dataset_id)
    _served[dataset_id] = _Entry(clock, index_id, current)
    return current


def forget_served() -> None:
    """Drop the process's served indexes (tests: each starts with its own database and data directory)."""
    _served.clear()


# ---------------------------------------------------------------------------------------------- whole versions


@dataclass(frozen=True)
class VersionFiles:
    """A version's Parquet files and stored schema, for work that joins a whole version in an engine (the gateway's
    batch comparison): encrypted columns stay ciphertext (`encrypted`: their names)."""

    files: list[str]
    schema: pa.Schema
    encrypted: frozenset[str]


@contextmanager
def version_files(dataset_id: int, version: int, *, holder: str) -> Iterator[VersionFiles]:
    """The version's files, kept from vacuum while the block runs (a lease in `holder`'s name)."""
    dataset = Dataset.objects.get(pk=dataset_id)
    table = DatasetTable(dataset.table_uri)
    with leases.hold_version(dataset, version, holder=holder):
        stored = table.schema(version)
        yield VersionFiles(
            files=table.files(version),
            schema=stored,
            encrypted=frozenset(column.name for column in stored_columns(stored)),
        )

"""Encryption at rest of designated dataset columns (M30): the step between a load's transformation and the Delta
write, and its inverse on every read.

An item designated 加密 (`catalog.Item.at_rest`) is stored as SM4-GCM ciphertext (`core.crypto_arrow`, binary form
`0x01 ‖ len(key id) ‖ key id ‖ nonce ‖ ciphertext ‖ tag`) of the value's text, under the active key of the key ring;
the associated data `datasets.resource.<resource id>.<column>` binds each value to its resource and column, so a
ciphertext copied into another column or dataset does not decrypt. An item designated 加密可检索 also gets a column
`<column>__hmac`: the HMAC-SM3 (hex) of the value's text under the same key, so that an equality lookup compares
hashes and never decrypts the table. The Delta schema records the designation in each field's metadata
(`govshare.at_rest`, `govshare.data_type`), so every version says by itself how to read it back, whatever the
catalogue says today.

Key items of a source (the upsert's merge key) stay plain: a merge matches target and source rows by equal keys,
and equal plaintexts never give equal SM4-GCM ciphertexts (random nonces); matching on the HMAC column would break
silently the day the active key changes (the rows hashed under the old key would no longer match and would be
inserted twice). So a load refuses a key item that is designated encrypted, naming it.

Reading (`decrypted`) turns the ciphertext back into the item's type on the server and drops the HMAC columns: they
never leave the server. Rotation (`reencrypt`) rewrites a version's encrypted columns under the active key.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction

from govshare.audit.services import record_action
from govshare.catalog.choices import ENCRYPTED_AT_REST, AtRest, ItemDataType
from govshare.catalog.models import Item
from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_arrow_column, encrypt_arrow_column, hmac_arrow_column
from govshare.dataplane.raw import SourceInvalid, map_columns
from govshare.dataplane.tables import MAINTENANCE_OPERATIONS, DatasetTable
from govshare.dataplane.transform import ARROW_TYPES
from govshare.datasets import leases
from govshare.datasets.choices import LoadStatus, VersionKind
from govshare.datasets.models import Dataset, DatasetVersion
from govshare.datasets.signals import version_current

__all__ = [
    "ACTION_ROTATED",
    "AT_REST_KEY",
    "DATA_TYPE_KEY",
    "HMAC_OF_KEY",
    "HMAC_SUFFIX",
    "ROTATION_MODE",
    "WITHHELD_REJECT_VALUE",
    "DatasetRotation",
    "EncryptedColumn",
    "EncryptionPlan",
    "dataset_key_usage",
    "decrypted",
    "encrypt_batch",
    "encrypt_reader",
    "encrypted_schema",
    "equality_matcher",
    "filtered",
    "for_load",
    "has_encrypted_items",
    "hmac_column",
    "key_ids_in",
    "plan_for_items",
    "plan_for_load",
    "purpose",
    "reencrypt_batch",
    "rotate_dataset",
    "rotate_datasets",
    "rotated_versions",
    "stored_columns",
    "version_key_usage",
]

AT_REST_KEY = b"govshare.at_rest"
DATA_TYPE_KEY = b"govshare.data_type"
HMAC_OF_KEY = b"govshare.hmac_of"
HMAC_SUFFIX = "__hmac"
CIPHERTEXT_TYPE = pa.binary()


def purpose(resource_id: int, column: str) -> str:
    """The associated data of a column's values: binds a ciphertext to its resource and column."""
    return f"datasets.resource.{resource_id}.{column}"


def hmac_column(column: str) -> str:
    return f"{column}{HMAC_SUFFIX}"


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    name: str
    data_type: str  # the item's data type code (C, N, D …): the plain values' Arrow type on the way back
    searchable: bool

    @property
    def at_rest(self) -> str:
        return AtRest.SEARCHABLE if self.searchable else AtRest.ENCRYPTED

    @property
    def plain_type(self) -> pa.DataType:
        return ARROW_TYPES.get(self.data_type, pa.string())


@dataclass(frozen=True, slots=True)
class EncryptionPlan:
    """Which columns of a resource's data are stored encrypted."""

    resource_id: int
    columns: tuple[EncryptedColumn, ...]

    def __bool__(self) -> bool:
        return bool(self.columns)

    def purpose(self, column: str) -> str:
        return purpose(self.resource_id, column)


def plan_for_items(
    resource_id: int, items: Iterable[tuple[str, str, str]], *, loaded: Sequence[str], keys: Sequence[str] = ()
) -> EncryptionPlan:
    """The plan of a load from the resource's items as (name, data type, at_rest), for the `loaded` columns.
    SourceInvalid (in Chinese, naming the items) when a key item is designated encrypted."""
    designated = {name: (data_type, at_rest) for name, data_type, at_rest in items if at_rest != AtRest.PLAIN}
    refused = [key for key in keys if key in designated]
    if refused:
        raise SourceInvalid(
            "主键信息项不能加密存储："
            + "、".join(f"“{name}”（{AtRest(designated[name][1]).label}）" for name in refused)
            + "。按主键合并需要比较明文主键，请在目录中将其静态加密改为“明文”，或改用不含该信息项的主键"
        )
    clashes = [
        name
        for name in loaded
        if name in designated and designated[name][1] == AtRest.SEARCHABLE and hmac_column(name) in loaded
    ]
    if clashes:
        raise SourceInvalid(
            "、".join(f"“{hmac_column(name)}”" for name in clashes)
            + f"是平台存放可检索加密列哈希的列名，不能再作为信息项名称（名称请勿以“{HMAC_SUFFIX}”结尾）"
        )
    return EncryptionPlan(
        resource_id,
        tuple(
            EncryptedColumn(name, designated[name][0], designated[name][1] == AtRest.SEARCHABLE)
            for name in loaded
            if name in designated
        ),
    )


# What a load's rejects file shows instead of a refused row's raw text when the resource has encrypted items.
WITHHELD_REJECT_VALUE = "（该资源有加密存储的信息项，不记录原始值）"


def has_encrypted_items(resource_id: int) -> bool:
    return Item.objects.filter(resource_id=resource_id, at_rest__in=ENCRYPTED_AT_REST).exists()


def plan_for_load(resource_id: int, loaded: Sequence[str], keys: Sequence[str]) -> EncryptionPlan:
    """The plan of a load of `loaded` columns into the resource's dataset, from the catalogue as it is now."""
    items = Item.objects.filter(resource_id=resource_id).values_list("name", "data_type", "at_rest")
    return plan_for_items(resource_id, items, loaded=loaded, keys=keys)


def for_load(resource_id: int, reader: pa.RecordBatchReader, keys: Sequence[str]) -> pa.RecordBatchReader:
    """The load step: a load's accepted batches with the designated columns encrypted under the active key."""
    plan = plan_for_load(resource_id, reader.schema.names, keys)
    if not plan:
        return reader
    return encrypt_reader(reader, plan, crypto.current_key_ring())


# ---------------------------------------------------------------------------------------------- writing


def encrypted_schema(schema: pa.Schema, plan: EncryptionPlan) -> pa.Schema:
    """The stored schema: each encrypted column binary with its designation in the field metadata, followed (for
    a searchable one) by its HMAC column."""
    by_name = {column.name: column for column in plan.columns}
    fields: list[pa.Field] = []
    for field in schema:
        column = by_name.get(field.name)
        if column is None:
            fields.append(field)
            continue
        metadata = {AT_REST_KEY: column.at_rest.encode(), DATA_TYPE_KEY: column.data_type.encode()}
        fields.append(pa.field(field.name, CIPHERTEXT_TYPE, nullable=True, metadata=metadata))
        if column.searchable:
            fields.append(pa.field(hmac_column(field.name), pa.string(), metadata={HMAC_OF_KEY: field.name.encode()}))
    return pa.schema(fields, metadata=schema.metadata)


def encrypt_batch(
    batch: pa.RecordBatch, plan: EncryptionPlan, ring: crypto.KeyRing, schema: pa.Schema
) -> pa.RecordBatch:
    """One batch's designated columns encrypted (and hashed), in the order of `schema` (`encrypted_schema`)."""
    by_name = {column.name: column for column in plan.columns}
    arrays: list[pa.Array] = []
    for name in batch.schema.names:
        values = batch.column(name)
        column = by_name.get(name)
        if column is None:
            arrays.append(values)
            continue
        place = plan.purpose(name)
        arrays.append(encrypt_arrow_column(values, ring, place, output="binary"))
        if column.searchable:
            arrays.append(hmac_arrow_column(values, ring, place))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def encrypt_reader(reader: pa.RecordBatchReader, plan: EncryptionPlan, ring: crypto.KeyRing) -> pa.RecordBatchReader:
    """The load's accepted batches with the plan's columns encrypted; the reader itself when nothing is."""
    if not plan:
        return reader
    schema = encrypted_schema(reader.schema, plan)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield encrypt_batch(batch, plan, ring, schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


# ---------------------------------------------------------------------------------------------- reading


def stored_columns(schema: pa.Schema) -> list[EncryptedColumn]:
    """The encrypted columns of a stored version, from its schema's field metadata."""
    found: list[EncryptedColumn] = []
    for field in schema:
        metadata = field.metadata or {}
        at_rest = metadata.get(AT_REST_KEY, b"").decode()
        if at_rest in (AtRest.ENCRYPTED, AtRest.SEARCHABLE):
            data_type = metadata.get(DATA_TYPE_KEY, ItemDataType.CHAR.encode()).decode()
            found.append(EncryptedColumn(field.name, data_type, at_rest == AtRest.SEARCHABLE))
    return found


def _hmac_columns(schema: pa.Schema) -> set[str]:
    return {field.name for field in schema if HMAC_OF_KEY in (field.metadata or {})}


def _plain(values: pa.Array | pa.ChunkedArray, column: EncryptedColumn, ring: crypto.KeyRing, place: str) -> pa.Array:
    text = decrypt_arrow_column(values, ring, place)
    target = column.plain_type
    return text if target.equals(pa.string()) else pc.cast(text, target)


def decrypted(reader: pa.RecordBatchReader, stored: pa.Schema, resource_id: int) -> pa.RecordBatchReader:
    """A version's batches as people see them: encrypted columns decrypted to their items' types, HMAC columns
    left out. `stored` is the version's schema (with the field metadata); the reader itself when nothing is
    encrypted. A value that does not decrypt raises `crypto.DecryptionError` naming the column and row."""
    encrypted = {column.name: column for column in stored_columns(stored)}
    hidden = _hmac_columns(stored)
    if not encrypted and not hidden.intersection(reader.schema.names):
        return reader
    ring = crypto.current_key_ring()
    names = [name for name in reader.schema.names if name not in hidden]
    schema = pa.schema(
        [
            pa.field(name, encrypted[name].plain_type) if name in encrypted else reader.schema.field(name)
            for name in names
        ]
    )

    def plain(column: EncryptedColumn) -> Callable[[pa.Array], pa.Array]:
        return lambda values: _plain(values, column, ring, purpose(resource_id, column.name))

    return map_columns(reader, schema, {name: plain(column) for name, column in encrypted.items()})


def equality_matcher(
    stored: pa.Schema, resource_id: int, column: str, value: str, ring: crypto.KeyRing | None = None
) -> Callable[[pa.RecordBatch], pa.Array]:
    """Which rows of a stored batch have `column` = `value` (the value's text): through the HMAC column for a
    searchable column (its hash under each key of the ring, so rows not yet rotated are found too), by comparing
    text for a plain one. The hashes are computed once, for every batch the matcher is applied to. ValueError (in
    Chinese) for a column encrypted without a hash: it cannot be searched."""
    encrypted = {c.name: c for c in stored_columns(stored)}
    if column in encrypted:
        if not encrypted[column].searchable:
            raise ValueError(f"信息项“{column}”加密存储且不可检索，不能按值查询（需在目录中设为“加密可检索”）")
        hashes = crypto.equality_hash_candidates(value, purpose(resource_id, column), ring or crypto.current_key_ring())
        candidates = pa.array(hashes, pa.string())
        hashed = hmac_column(column)
        return lambda batch: pc.fill_null(pc.is_in(batch.column(hashed), value_set=candidates), False)
    wanted = pa.scalar(value, pa.string())

    def plain(batch: pa.RecordBatch) -> pa.Array:
        values = batch.column(column)
        text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
        return pc.fill_null(pc.equal(text, wanted), False)

    return plain


def filtered(
    reader: pa.RecordBatchReader, stored: pa.Schema, resource_id: int, where: Mapping[str, str]
) -> pa.RecordBatchReader:
    """The stored rows whose columns equal `where`'s values (`equality_matcher`), before decryption: a searchable
    column is matched through its HMAC column, never decrypted. ValueError (in Chinese) for an unknown column or
    one encrypted without a hash."""
    if not where:
        return reader
    hidden = _hmac_columns(stored)
    for column in where:
        if column not in reader.schema.names or column in hidden:
            raise ValueError(f"数据中没有信息项“{column}”，无法按值查询")
    ring = crypto.current_key_ring() if stored_columns(stored) else None
    matchers = [equality_matcher(stored, resource_id, column, value, ring) for column, value in where.items()]

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                selected = batch.filter(reduce(pc.and_, (matcher(batch) for matcher in matchers)))
                if selected.num_rows:
                    yield selected
        finally:
            reader.close()

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


# ---------------------------------------------------------------------------------------------- keys, rotation


def key_ids_in(values: pa.Array | pa.ChunkedArray) -> Counter[str]:
    """How many ciphertexts of a stored binary column each key id encrypts (vectorised: no value is decrypted)."""
    counts: Counter[str] = Counter()
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        present = chunk.drop_null()
        if not len(present):
            continue
        lengths = pc.binary_slice(present, 1, 2)
        for length_byte in pc.unique(lengths).to_pylist():
            width = length_byte[0] if length_byte else 0
            same = present.filter(pc.equal(lengths, pa.scalar(length_byte, pa.binary())))
            ids = pc.value_counts(pc.binary_slice(same, 2, 2 + width))
            for entry in ids.to_pylist():
                counts[bytes(entry["values"]).decode("ascii", "replace")] += int(entry["counts"])
    return counts


def reencrypt_batch(batch: pa.RecordBatch, stored: pa.Schema, resource_id: int, ring: crypto.KeyRing) -> pa.RecordBatch:
    """A stored batch with every encrypted column (and HMAC column) rewritten under the active key; the schema
    and the other columns unchanged."""
    encrypted = {c.name: c for c in stored_columns(stored)}
    arrays: list[pa.Array | pa.ChunkedArray] = []
    plain_of: dict[str, pa.Array] = {}
    for name in batch.schema.names:
        if name in encrypted:
            place = purpose(resource_id, name)
            text = decrypt_arrow_column(batch.column(name), ring, place)
            plain_of[name] = text
            arrays.append(encrypt_arrow_column(text, ring, place, output="binary"))
        else:
            arrays.append(batch.column(name))
    for index, name in enumerate(batch.schema.names):
        source = (stored.field(name).metadata or {}).get(HMAC_OF_KEY) if name in stored.names else None
        if source is not None and source.decode() in plain_of:
            column = source.decode()
            arrays[index] = hmac_arrow_column(plain_of[column], ring, purpose(resource_id, column))
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


# ---------------------------------------------------------------------------------------------- datasets' keys

# The custom metadata of a rotation's commit (a load's commit carries its load id instead).
ROTATION_KEY = "govshare.operation"
ROTATION = "rotate_keys"
ROTATED_FROM_KEY = "govshare.rotated_from"
ROTATION_KEY_ID = "govshare.active_key"
ACTION_ROTATED = "datasets.encryption_rotated"
ROTATION_MODE = "key_rotation"  # how a rotated version is listed among a dataset's versions


@dataclass(frozen=True, slots=True)
class DatasetRotation:
    """What rotation did with one dataset: `version` is the new version, None when nothing was written."""

    dataset: str
    from_version: int | None
    version: int | None
    rows: int = 0
    note: str = ""


def _dataset_label(dataset: Dataset) -> str:
    return f"数据集 {dataset.resource.code}（{dataset.resource.name}）"


def _file_usage(table: DatasetTable, path: str, columns: list[str]) -> Counter[str]:
    stored = table.read_file(path, columns)
    usage: Counter[str] = Counter()
    for name in columns:
        usage.update(key_ids_in(stored.column(name)))
    return usage


def version_key_usage(table: DatasetTable, version: int, cache: dict[str, Counter[str]] | None = None) -> Counter[str]:
    """How many stored ciphertexts of a version each key id encrypts (only the key-id bytes are read)."""
    columns = [column.name for column in stored_columns(table.schema(version))]
    usage: Counter[str] = Counter()
    if not columns:
        return usage
    cache = {} if cache is None else cache
    for path in table.files(version):
        if path not in cache:
            cache[path] = _file_usage(table, path, columns)
        usage.update(cache[path])
    return usage


def dataset_key_usage() -> dict[str, Counter[str]]:
    """Per kept dataset version ("数据集 <代码>（名称） v<n>"), how many stored values each key id encrypts."""
    usage: dict[str, Counter[str]] = {}
    for dataset in Dataset.objects.select_related("resource").order_by("pk"):
        table = DatasetTable(dataset.table_uri)
        if not table.exists():
            continue
        cache: dict[str, Counter[str]] = {}
        for version in sorted(table.kept_versions(dataset.keep_versions)):
            counter = version_key_usage(table, version, cache)
            if counter:
                usage[f"{_dataset_label(dataset)} v{version}"] = counter
    return usage


@dataclass(frozen=True, slots=True)
class RotatedVersion:
    version: int
    rows: int | None
    created_at: dt.datetime


def rotated_versions(dataset: Dataset) -> list[RotatedVersion]:
    """The versions rotation made current."""
    made = DatasetVersion.objects.filter(dataset=dataset, kind=VersionKind.KEY_ROTATION).order_by("number")
    return [RotatedVersion(row.number, row.rows, row.created_at) for row in made]


def _adopt(dataset: Dataset, table: DatasetTable, base: int, version: int, ring: crypto.KeyRing) -> int | None:
    """Make the rotated version current (compare-and-set on the version it was made from) with its audit row; its
    row count, or None when the current version changed meanwhile."""
    dataset_rows = table.row_count(version)
    with transaction.atomic():
        updated = Dataset.objects.filter(pk=dataset.pk, current_version=base).update(
            current_version=version, row_count=dataset_rows
        )
        if updated:
            DatasetVersion.objects.get_or_create(
                dataset=dataset, number=version, defaults={"kind": VersionKind.KEY_ROTATION, "rows": dataset_rows}
            )
            transaction.on_commit(
                lambda: version_current.send(Dataset, dataset=dataset, number=version, load=None), robust=True
            )
            record_action(
                None,
                ACTION_ROTATED,
                dataset,
                resource=dataset.resource.code,
                from_version=base,
                version=version,
                rows=dataset_rows,
                active_key=ring.active.key_id,
            )
    return dataset_rows if updated else None


def _other_commits(table: DatasetTable, after: int, before: int) -> list[int]:
    return [
        c.version for c in table.history() if after < c.version < before and c.operation not in MAINTENANCE_OPERATIONS
    ]


def rotate_dataset(dataset: Dataset, ring: crypto.KeyRing | None = None) -> DatasetRotation:
    """Re-encrypt the current version of a dataset under the active key, as a NEW table version: the current one
    stays readable until the new commit is made current (nothing changes if the process dies before), and a run
    that died between the commit and the bookkeeping is finished by the next run instead of writing again."""
    ring = ring or crypto.current_key_ring()
    label = _dataset_label(dataset)
    base = dataset.current_version
    table = DatasetTable(dataset.table_uri)
    if base is None or not table.exists():
        return DatasetRotation(label, base, None, note="尚无数据")
    stored = table.schema(base)
    if not stored_columns(stored):
        return DatasetRotation(label, base, None, note="无加密列")
    head = table.version()
    if head is not None and head != base:
        done = table.commit_metadata(head)
        if done.get(ROTATED_FROM_KEY) == str(base) and not _other_commits(table, base, head):
            # The previous run committed and died before making its version current.
            rows = _adopt(dataset, table, base, head, ring)
            if rows is None:
                return DatasetRotation(label, base, None, note="期间当前版本已变化，请稍后重跑 rotate_keys")
            return DatasetRotation(label, base, head, rows, note="补记上次轮换已提交的版本")
    usage = version_key_usage(table, base)
    if set(usage) <= {ring.active.key_id}:
        return DatasetRotation(label, base, None, note="已全部使用启用密钥")
    if dataset.loads.filter(status__in=[LoadStatus.QUEUED, LoadStatus.RUNNING, LoadStatus.RETRYING]).exists():
        return DatasetRotation(label, base, None, note="有未完成的归集任务，本次跳过，请稍后重跑 rotate_keys")
    reader = table.read(base)
    batches = (
        pa.RecordBatch.from_arrays(reencrypt_batch(batch, stored, dataset.resource_id, ring).columns, schema=stored)
        for batch in reader
    )
    metadata = {ROTATION_KEY: ROTATION, ROTATED_FROM_KEY: str(base), ROTATION_KEY_ID: ring.active.key_id}
    try:
        version = table.replace(pa.RecordBatchReader.from_batches(stored, batches), metadata=metadata)
    finally:
        reader.close()
    if others := _other_commits(table, base, version):
        # A load committed while this rotation was being written: its rows win, rotation runs again later.
        table.restore(max(others))
        return DatasetRotation(label, base, None, note="期间有归集提交了新版本，已恢复为该版本，请稍后重跑 rotate_keys")
    rows = _adopt(dataset, table, base, version, ring)
    if rows is None:
        return DatasetRotation(label, base, None, note="期间当前版本已变化，请稍后重跑 rotate_keys")
    leases.vacuum_dataset(dataset, table)
    return DatasetRotation(label, base, version, rows)


def rotate_datasets(report: Callable[[DatasetRotation], None] = lambda _: None) -> list[DatasetRotation]:
    """`rotate_keys` over the data plane: every dataset whose current version holds values under another key."""
    ring = crypto.current_key_ring()
    done = []
    for dataset in Dataset.objects.select_related("resource").exclude(current_version=None).order_by("pk"):
        result = rotate_dataset(dataset, ring)
        report(result)
        done.append(result)
    return done

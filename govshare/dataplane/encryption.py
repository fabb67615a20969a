"""Encryption at rest of Arrow columns (M30): the stored form of an encrypted dataset column and the pure functions
that write it, read it back, search it by value and re-encrypt it, over pyarrow schemas, batches and readers with a
`crypto.KeyRing`.

It lives in the data plane, not beside the models that say which items are encrypted (`datasets.encryption`), so
that any app that holds or serves Arrow data (a sharing delivery, the gateway, a load) can encrypt and decrypt it
without importing datasets: it is handed the schema, the batches, the resource id that binds a ciphertext and the
key ring, and knows nothing of items, versions or audit.

The stored form: an encrypted column's values are SM4-GCM ciphertext (`core.crypto_arrow`, binary form
`0x01 ‖ len(key id) ‖ key id ‖ nonce ‖ ciphertext ‖ tag`) of the value's text, under the active key of the ring; the
associated data `datasets.resource.<resource id>.<column>` (`purpose`) binds each value to its resource and column,
so a ciphertext copied into another column or dataset does not decrypt. A searchable column also gets a column
`<column>__hmac`: the HMAC-SM3 (hex) of the value's text under the same key, so that an equality lookup compares
hashes and never decrypts the table. The schema records the designation in each field's metadata
(`govshare.at_rest`, `govshare.data_type`; `govshare.hmac_of` on a hash column), so every stored version says by
itself how to read it back, whatever the catalogue says today.

Reading (`decrypted`) turns the ciphertext back into the column's type and drops the HMAC columns: they never leave
the server. `filtered` selects rows by value before decryption. `reencrypt_batch` rewrites a stored batch under the
active key (rotation); `key_ids_in` and `version_key_usage` count which key encrypts how many stored values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import reduce

import pyarrow as pa
import pyarrow.compute as pc

from govshare.catalog.choices import AtRest, ItemDataType
from govshare.core import crypto
from govshare.core.crypto_arrow import decrypt_arrow_column, encrypt_arrow_column, hmac_arrow_column
from govshare.dataplane.raw import map_columns
from govshare.dataplane.tables import DatasetTable
from govshare.dataplane.transform import ARROW_TYPES

__all__ = [
    "AT_REST_KEY",
    "CIPHERTEXT_TYPE",
    "DATA_TYPE_KEY",
    "HMAC_OF_KEY",
    "HMAC_SUFFIX",
    "EncryptedColumn",
    "EncryptionPlan",
    "decrypted",
    "encrypt_batch",
    "encrypt_reader",
    "encrypted_schema",
    "equality_matcher",
    "filtered",
    "hmac_column",
    "key_ids_in",
    "purpose",
    "reencrypt_batch",
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
    """The batches with the plan's columns encrypted; the reader itself when nothing is."""
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


def _file_usage(table: DatasetTable, path: str, columns: list[str]) -> Counter[str]:
    stored = table.read_file(path, columns)
    usage: Counter[str] = Counter()
    for name in columns:
        usage.update(key_ids_in(stored.column(name)))
    return usage


def version_key_usage(table: DatasetTable, version: int, cache: dict[str, Counter[str]] | None = None) -> Counter[str]:
    """How many stored ciphertexts of a version each key id encrypts (only the key-id bytes are read). `cache`
    (by data file) lets the versions of one table share the files they have in common."""
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

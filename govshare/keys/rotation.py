"""Key rotation over the metadata database: which keys stored values use, re-encrypting them with the active key.

Values are read and written as raw column text (no model instances, no `save()` side effects). Rotation walks each
encrypted column in primary-key order, one transaction per batch; it only rewrites values not yet under the active
key and only if they did not change meanwhile, so it can run while the platform serves, and re-running it after an
interruption continues where it stopped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from govshare.audit.services import record_action
from govshare.core import crypto
from govshare.core.fields import EncryptedTextField

__all__ = [
    "BatchReport",
    "EncryptedColumn",
    "add_encryption_key",
    "encrypted_columns",
    "key_usage",
    "retire_encryption_key",
    "rotate_column",
    "rotate_keys",
]


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def place(self) -> str:
        return self.field.associated_data

    @property
    def sql_names(self) -> tuple[str, str, str]:
        """The quoted primary-key column, value column and table, for the raw SQL below."""
        quote = connection.ops.quote_name
        meta = self.model._meta
        return quote(str(meta.pk.column)), quote(str(self.field.column)), quote(meta.db_table)

    @property
    def count(self) -> int:
        return self.model._default_manager.exclude(**{f"{self.field.name}__isnull": True}).count()


@dataclass(frozen=True, slots=True)
class BatchReport:
    place: str
    batch: int
    scanned: int
    total: int
    rewritten: int
    last_pk: Any


def encrypted_columns() -> list[EncryptedColumn]:
    """Every EncryptedTextField of every installed (concrete, managed) model."""
    found: list[EncryptedColumn] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.local_fields:
            if isinstance(field, EncryptedTextField):
                found.append(EncryptedColumn(model, field))
    return found


def _raw_batches(column: EncryptedColumn, batch_size: int, *, after: Any = None) -> Iterator[list[tuple[Any, str]]]:
    """(pk, stored text) of non-empty values in pk order, `batch_size` at a time (each read in the caller's loop)."""
    pk, col, table = column.sql_names
    while True:
        condition = f"{col} IS NOT NULL AND {col} <> ''"
        params: list[Any] = []
        if after is not None:
            condition += f" AND {pk} > %s"
            params.append(after)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {col} FROM {table} WHERE {condition} ORDER BY {pk} LIMIT %s",  # noqa: S608
                [*params, batch_size],
            )
            rows = [(row[0], str(row[1])) for row in cursor.fetchall()]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def key_usage(batch_size: int = 5000) -> dict[str, Counter[str]]:
    """Per column ("app.Model.field"), how many stored values each key id encrypts."""
    usage: dict[str, Counter[str]] = {}
    for column in encrypted_columns():
        counter: Counter[str] = Counter()
        for rows in _raw_batches(column, batch_size):
            counter.update(crypto.key_id_of(stored) for _, stored in rows)
        usage[column.place] = counter
    return usage


def rotate_column(
    column: EncryptedColumn,
    ring: crypto.KeyRing,
    *,
    batch_size: int,
    report: Callable[[BatchReport], None] = lambda _: None,
) -> int:
    """Re-encrypt one column's values that are not under the active key; returns how many were rewritten."""
    pk, col, table = column.sql_names
    active = ring.active.key_id
    total = column.count
    scanned = rewritten = 0
    for number, rows in enumerate(_raw_batches(column, batch_size), start=1):
        changed = 0
        with transaction.atomic():
            with connection.cursor() as cursor:
                for row_pk, stored in rows:
                    if crypto.key_id_of(stored) == active:
                        continue
                    fresh = crypto.encrypt_text(crypto.decrypt_text(stored, column.place, ring), column.place, ring)
                    # Only if nobody wrote the value meanwhile (theirs is already under the active key).
                    cursor.execute(
                        f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s",  # noqa: S608
                        [fresh, row_pk, stored],
                    )
                    changed += cursor.rowcount
            if changed:
                record_action(
                    None,
                    "keys.field.reencrypt",
                    object_type=column.model._meta.label_lower,
                    object_repr=column.place,
                    batch=number,
                    rewritten=changed,
                    first_pk=str(rows[0][0]),
                    last_pk=str(rows[-1][0]),
                    active_key=active,
                )
        scanned += len(rows)
        rewritten += changed
        report(BatchReport(column.place, number, scanned, total, changed, rows[-1][0]))
    return rewritten


def rotate_keys(
    *, batch_size: int = 500, report: Callable[[BatchReport], None] = lambda _: None
) -> dict[str, Counter[str]]:
    """Re-encrypt every encrypted value of the metadata database with the active key; the key usage afterwards."""
    ring = crypto.current_key_ring()
    for column in encrypted_columns():
        rotate_column(column, ring, batch_size=batch_size, report=report)
    return key_usage()


def add_encryption_key(data_dir: Path) -> crypto.KeyEntry:
    """`keys add`: a new active key in the key file, recorded in the audit log (its id, never its material)."""
    with transaction.atomic():
        entry = crypto.add_key(data_dir)
        record_action(None, "keys.key.add", object_type="crypto.key", object_id=entry.key_id, object_repr="加密密钥")
    return entry


def retire_encryption_key(
    data_dir: Path, key_id: str, *, data_usage: Callable[[], Mapping[str, Counter[str]]] | None = None
) -> None:
    """`keys retire`: drop an old key from the key file, refused (KeyRingError, in Chinese) while anything uses it:
    a value of the metadata database, or (`data_usage`, given by the caller: core does not know the data plane) a
    kept dataset version."""
    ring = crypto.current_key_ring()
    ring.get(key_id)
    if ring.active.key_id == key_id:
        raise crypto.KeyRingError(
            f"密钥 {key_id} 是当前启用的密钥，不能退役：请先运行 govshare keys add 和 rotate_keys"
        )
    users = {place: counter[key_id] for place, counter in key_usage().items() if counter[key_id]}
    if users:
        detail = "；".join(f"{place} 有 {count} 个值" for place, count in sorted(users.items()))
        raise crypto.KeyRingError(f"密钥 {key_id} 仍在使用，不能退役（{detail}）：请先运行 govshare rotate_keys")
    kept = {
        place: counter[key_id] for place, counter in (data_usage() if data_usage else {}).items() if counter[key_id]
    }
    if kept:
        detail = "；".join(f"{place} 有 {count} 个值" for place, count in kept.items())
        raise crypto.KeyRingError(
            f"密钥 {key_id} 仍被保留的数据集版本使用，不能退役（{detail}）：先运行 govshare rotate_keys 生成新版本，"
            "待旧版本按各数据集的保留版本数清理后再退役"
        )
    with transaction.atomic():
        # The audit row first: if the key file cannot be written, the row rolls back with the failed retirement.
        record_action(None, "keys.key.retire", object_type="crypto.key", object_id=key_id, object_repr="加密密钥")
        crypto.remove_key(data_dir, key_id)

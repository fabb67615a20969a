"""Which dataset columns are encrypted at rest (M30), the load step that encrypts them, and the rotation of datasets
under a new key: the half of column encryption that needs the models (items, datasets, versions, audit, leases).

The Arrow half — the stored form (SM4-GCM ciphertext bound to `datasets.resource.<resource id>.<column>`, the
`<column>__hmac` hash columns, the field metadata), encrypting, decrypting, searching by value and re-encrypting
batches — is `govshare.dataplane.encryption`, usable by any app without this one.

An item designated 加密 (`catalog.Item.at_rest`) is stored as ciphertext of the value's text under the active key of
the key ring; one designated 加密可检索 also gets its HMAC column, so that an equality lookup compares hashes and
never decrypts the table.

Key items of a source (the upsert's merge key) stay plain: a merge matches target and source rows by equal keys,
and equal plaintexts never give equal SM4-GCM ciphertexts (random nonces); matching on the HMAC column would break
silently the day the active key changes (the rows hashed under the old key would no longer match and would be
inserted twice). So a load refuses a key item that is designated encrypted, naming it.

Rotation (`rotate_dataset`) rewrites the current version's encrypted columns under the active key as a new version.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from govshare.audit.services import record_action
from govshare.catalog.choices import ENCRYPTED_AT_REST, AtRest
from govshare.catalog.models import Item
from govshare.core import crypto
from govshare.core.text import join_names
from govshare.dataplane.encryption import (
    HMAC_SUFFIX,
    EncryptedColumn,
    EncryptionPlan,
    encrypt_reader,
    hmac_column,
    reencrypt_batch,
    stored_columns,
    version_key_usage,
)
from govshare.dataplane.raw import SourceInvalid
from govshare.dataplane.tables import MAINTENANCE_OPERATIONS, DatasetTable
from govshare.datasets import leases
from govshare.datasets.choices import LoadStatus, VersionKind
from govshare.datasets.models import Dataset, DatasetVersion, shown_version
from govshare.datasets.signals import version_current

__all__ = [
    "ACTION_ROTATED",
    "ROTATION_MODE",
    "WITHHELD_REJECT_VALUE",
    "DatasetRotation",
    "RotatedVersion",
    "dataset_key_usage",
    "for_load",
    "has_encrypted_items",
    "plan_for_items",
    "plan_for_load",
    "rotate_dataset",
    "rotate_datasets",
    "rotated_versions",
]


def plan_for_items(
    resource_id: int, items: Iterable[tuple[str, str, str]], *, loaded: Sequence[str], keys: Sequence[str] = ()
) -> EncryptionPlan:
    """The plan of a load from the resource's items as (name, data type, at_rest), for the `loaded` columns.
    SourceInvalid (in Chinese, naming the items) when a key item is designated encrypted."""
    designated = {name: (data_type, at_rest) for name, data_type, at_rest in items if at_rest != AtRest.PLAIN}
    refused = [key for key in keys if key in designated]
    if refused:
        names = join_names(f"“{name}”（{gettext(AtRest(designated[name][1]).label)}）" for name in refused)
        raise SourceInvalid(gettext(ENCRYPTED_KEYS) % {"items": names})
    clashes = [
        name
        for name in loaded
        if name in designated and designated[name][1] == AtRest.SEARCHABLE and hmac_column(name) in loaded
    ]
    if clashes:
        names = join_names(f"“{hmac_column(name)}”" for name in clashes)
        raise SourceInvalid(gettext(HMAC_NAMES) % {"names": names, "suffix": HMAC_SUFFIX})
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


# ---------------------------------------------------------------------------------------------- datasets' keys

# The custom metadata of a rotation's commit (a load's commit carries its load id instead).
ROTATION_KEY = "govshare.operation"
ROTATION = "rotate_keys"
ROTATED_FROM_KEY = "govshare.rotated_from"
ROTATION_KEY_ID = "govshare.active_key"
ACTION_ROTATED = "datasets.dataset.rotate_key"
ROTATION_MODE = "key_rotation"  # how a rotated version is listed among a dataset's versions


@dataclass(frozen=True, slots=True)
class DatasetRotation:
    """What rotation did with one dataset: `version` is the new version, None when nothing was written."""

    dataset: str
    from_version: int | None
    version: int | None
    rows: int = 0
    note: str = ""


# Why a load's items cannot be stored as designated (a load's error: registered with the sources' sentences).
ENCRYPTED_KEYS = gettext_noop(
    "主键信息项不能加密存储：%(items)s。按主键合并需要比较明文主键，请在目录中将其静态加密改为“明文”，或改用不含该信息项的主键"
)
HMAC_NAMES = gettext_noop(
    "%(names)s是平台存放可检索加密列哈希的列名，不能再作为信息项名称（名称请勿以“%(suffix)s”结尾）"
)
SENTENCES = (ENCRYPTED_KEYS, HMAC_NAMES)

# How a rotation's log and the key usage name a dataset (in the platform's language; keys reads it back).
DATASET_LABEL = gettext_noop("数据集 %(code)s（%(name)s）")


def _dataset_label(dataset: Dataset) -> str:
    return gettext(DATASET_LABEL) % {"code": dataset.resource.code, "name": dataset.resource.name}


def dataset_key_usage() -> dict[str, Counter[str]]:
    """Per kept dataset version ("数据集 <代码>（名称） 第 <n> 版", counted from 1), how many stored values each key id
    encrypts."""
    usage: dict[str, Counter[str]] = {}
    for dataset in Dataset.objects.select_related("resource").order_by("pk"):
        table = DatasetTable(dataset.table_uri)
        if not table.exists():
            continue
        cache: dict[str, Counter[str]] = {}
        for version in sorted(table.kept_versions(dataset.keep_versions)):
            counter = version_key_usage(table, version, cache)
            if counter:
                usage[f"{_dataset_label(dataset)} 第 {shown_version(version)} 版"] = counter
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
        return DatasetRotation(label, base, None, note=gettext_noop("尚无数据"))
    stored = table.schema(base)
    if not stored_columns(stored):
        return DatasetRotation(label, base, None, note=gettext_noop("无加密列"))
    head = table.version()
    if head is not None and head != base:
        done = table.commit_metadata(head)
        if done.get(ROTATED_FROM_KEY) == str(base) and not _other_commits(table, base, head):
            # The previous run committed and died before making its version current.
            rows = _adopt(dataset, table, base, head, ring)
            if rows is None:
                return DatasetRotation(
                    label, base, None, note=gettext_noop("期间当前版本已变化，请稍后重跑 rotate_keys")
                )
            return DatasetRotation(label, base, head, rows, note=gettext_noop("补记上次轮换已提交的版本"))
    usage = version_key_usage(table, base)
    if set(usage) <= {ring.active.key_id}:
        return DatasetRotation(label, base, None, note=gettext_noop("已全部使用启用密钥"))
    if dataset.loads.filter(status__in=[LoadStatus.QUEUED, LoadStatus.RUNNING, LoadStatus.RETRYING]).exists():
        return DatasetRotation(
            label, base, None, note=gettext_noop("有未完成的归集任务，本次跳过，请稍后重跑 rotate_keys")
        )
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
        return DatasetRotation(
            label, base, None, note=gettext_noop("期间有归集提交了新版本，已恢复为该版本，请稍后重跑 rotate_keys")
        )
    rows = _adopt(dataset, table, base, version, ring)
    if rows is None:
        return DatasetRotation(label, base, None, note=gettext_noop("期间当前版本已变化，请稍后重跑 rotate_keys"))
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

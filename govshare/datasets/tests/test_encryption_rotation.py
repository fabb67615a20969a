"""Key rotation over the data plane (issue 5, M30): `rotate_keys` re-encrypts a dataset as a NEW version, the previous
one stays readable until then; `keys retire` refuses while a kept version still uses the key, naming it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core import crypto
from govshare.dataplane.encryption import version_key_usage
from govshare.dataplane.tables import DatasetTable
from govshare.datasets import encryption, reading, services
from govshare.datasets.choices import LoadStatus, VersionKind
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, DatasetVersion
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="手机号码", data_type="C", length=11, at_rest="searchable"),
    ItemDraft(name="住址", data_type="C", length=100, at_rest="encrypted"),
]
ROWS = [
    ["11010519491231002X", "13912345678", "北京市东城区1号"],
    ["440524188001010014", "13800001111", "广东省汕头市2号"],
]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def owner(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department: Department, owner: User, tmp_path: Path) -> Resource:
    resource = testing.make_published_resource(department, items=ITEMS, name="人口联系方式")
    source = source_services.register_source(
        resource, source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"}), actor=owner
    )
    names = [item.name for item in ITEMS]
    source_services.set_mapping(source, [source_services.MappingEntry(n, n) for n in names], actor=owner)
    path = tmp_path / "a.csv"
    path.write_text("\n".join(",".join(row) for row in [names, *ROWS]) + "\n", encoding="utf-8")
    load = services.request_load(source, actor=owner, file_path=path)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED, load.error
    return resource


def _dataset(resource: Resource) -> Dataset:
    return Dataset.objects.get(resource=resource)


def _table(resource: Resource) -> DatasetTable:
    return DatasetTable(_dataset(resource).table_uri)


def test_rotation_writes_a_new_version_under_the_active_key(resource: Resource, owner: User) -> None:
    old = crypto.current_key_ring().active.key_id
    run("keys", "add")
    new = crypto.current_key_ring().active.key_id
    before = _dataset(resource).current_version
    assert before is not None

    output = run("rotate_keys")

    after = _dataset(resource).current_version
    assert after is not None and after > before
    assert f"第 {before + 1} 版已用启用密钥重新加密为新的第 {after + 1} 版（2 行）" in output
    table = _table(resource)
    assert version_key_usage(table, after) == {new: 4}  # 2 rows × 2 encrypted columns
    assert version_key_usage(table, before) == {old: 4}
    assert reading.preview_version(owner, resource).rows == ROWS
    assert reading.preview_version(owner, resource, version=before).rows == ROWS  # the previous stays readable
    audit = AuditLog.objects.get(action=encryption.ACTION_ROTATED)
    assert audit.extra["from_version"] == before and audit.extra["version"] == after


def test_an_equality_lookup_finds_rows_before_and_after_rotation(resource: Resource, owner: User) -> None:
    run("keys", "add")
    assert reading.preview_version(owner, resource, where={"手机号码": "13800001111"}).rows == [ROWS[1]]
    run("rotate_keys")
    assert reading.preview_version(owner, resource, where={"手机号码": "13800001111"}).rows == [ROWS[1]]


def test_a_dataset_already_under_the_active_key_gets_no_new_version(resource: Resource) -> None:
    before = _table(resource).version()
    output = run("rotate_keys")
    assert "未生成新版本（已全部使用启用密钥）" in output
    assert _table(resource).version() == before


def test_retiring_is_refused_while_a_kept_version_uses_the_key_then_allowed(resource: Resource) -> None:
    old = crypto.current_key_ring().active.key_id
    run("keys", "add")
    run("rotate_keys")
    first = _table(resource).history()[-1].version
    with pytest.raises(
        CommandError,
        match=rf"仍被保留的数据集版本使用.*数据集 {resource.code}（人口联系方式） 第 {first + 1} 版 有 4 个值",
    ):
        run("keys", "retire", old)
    assert old in crypto.current_key_ring().key_ids

    Dataset.objects.filter(pk=_dataset(resource).pk).update(keep_versions=1)
    _table(resource).vacuum(keep_versions=1)
    run("keys", "retire", old)
    assert old not in crypto.current_key_ring().key_ids


def test_keys_status_shows_dataset_usage(resource: Resource) -> None:
    active = crypto.current_key_ring().active.key_id
    output = run("keys", "status")
    assert f"{active}（启用）：元数据库 0 个值，1 个保留的数据集版本" in output
    assert f"数据集 {resource.code}（人口联系方式） 第 1 版：{active} 4" in output


def test_a_rotation_that_fails_midway_leaves_the_current_version_as_it_was(
    resource: Resource, owner: User, settings
) -> None:  # type: ignore[no-untyped-def]
    before = _table(resource).version()
    stranger = crypto.generate_key("stranger")  # a ring without the key the data is under: decryption fails
    with pytest.raises(crypto.KeyRingError):
        encryption.rotate_dataset(_dataset(resource), crypto.KeyRing((stranger,), source="test"))
    assert _table(resource).version() == before
    assert _dataset(resource).current_version == before
    assert reading.preview_version(owner, resource).rows == ROWS


def test_a_rotation_that_died_after_its_commit_is_finished_by_the_next_run(resource: Resource, owner: User) -> None:
    run("keys", "add")
    before = _dataset(resource).current_version
    run("rotate_keys")
    committed = _table(resource).version()
    assert committed is not None
    # The state a kill between the table commit and the bookkeeping leaves: the dataset still on the old version.
    Dataset.objects.filter(pk=_dataset(resource).pk).update(current_version=before)
    DatasetVersion.objects.filter(dataset=_dataset(resource), number=committed).delete()

    output = run("rotate_keys")

    assert "补记上次轮换已提交的版本" in output
    assert _table(resource).version() == committed  # nothing written twice
    assert _dataset(resource).current_version == committed
    assert DatasetVersion.objects.get(dataset=_dataset(resource), number=committed).kind == VersionKind.KEY_ROTATION
    assert reading.preview_version(owner, resource).rows == ROWS


def test_a_dataset_with_a_pending_load_is_skipped(resource: Resource, owner: User, tmp_path: Path) -> None:
    run("keys", "add")
    source = _dataset(resource).resource.sources.get()
    path = tmp_path / "b.csv"
    path.write_text("公民身份号码,手机号码,住址\n", encoding="utf-8")
    services.request_load(source, actor=owner, file_path=path)
    before = _table(resource).version()
    output = run("rotate_keys")
    assert "有未完成的归集任务，本次跳过" in output
    assert _table(resource).version() == before


def test_the_rotated_version_is_listed_among_the_datasets_versions(resource: Resource) -> None:
    run("keys", "add")
    run("rotate_keys")
    versions = reading.dataset_versions(_dataset(resource))
    assert [(v.version, v.mode, v.is_current, v.load_id) for v in versions] == [
        (1, encryption.ROTATION_MODE, True, None),
        (0, "full", False, versions[1].load_id),
    ]
    assert versions[0].rows_loaded == 2

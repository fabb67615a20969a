"""The key index across versions: a new current version is indexed by a job and replaces the served index at once
(lookups already holding the old one finish on it), a failed or killed build leaves the previous index served, and
replaced files are deleted after a grace period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django_q.models import OrmQ

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.rules import ItemDraft
from govshare.datasets import serving
from govshare.datasets.choices import ServingStatus
from govshare.datasets.models import Dataset, ServingIndex
from govshare.jobs import registry, runner
from govshare.sources.models import Source
from govshare.testing.serving import file_source, load_rows

ITEMS = [ItemDraft(name="统一社会信用代码", data_type="C", length=18), ItemDraft(name="名称", data_type="C", length=50)]
CODE = "91510600MA62J1234X"
LATER = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def owner(department: Department) -> User:
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def source(department: Department, owner: User) -> Source:
    return file_source(testing.make_published_resource(department, items=ITEMS, name="法人基本信息"), owner)


@pytest.fixture
def first(source: Source, owner: User, tmp_path: Path) -> Dataset:
    """Version 0, indexed and served."""
    dataset = load_rows(source, owner, tmp_path / "v0.csv", [[CODE, "旧名称有限公司"]])
    serving.build_serving_index(dataset)
    return dataset


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """`served` asks the metadata database at every call (no REFRESH_SECONDS wait)."""
    monkeypatch.setattr(serving, "REFRESH_SECONDS", 0.0)


def _name(version: serving.ServedVersion | None) -> Any:
    assert version is not None
    return [row["名称"] for row in version.rows_for(("统一社会信用代码",), (CODE,))]


def test_a_new_version_is_served_once_indexed_and_a_lookup_holding_the_old_one_keeps_reading_it(
    first: Dataset, source: Source, owner: User, tmp_path: Path, fresh: None
) -> None:
    old = serving.served(first.pk)
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    assert _name(serving.served(first.pk)) == ["旧名称有限公司"]  # not indexed yet: the old index still serves
    serving.build_serving_index(dataset)
    new = serving.served(first.pk)
    assert new is not None and new.version == 1 and _name(new) == ["新名称有限公司"]
    assert _name(old) == ["旧名称有限公司"]
    statuses = dict(ServingIndex.objects.filter(dataset=dataset).values_list("version", "status"))
    assert statuses == {0: ServingStatus.RETIRED, 1: ServingStatus.READY}


def test_a_process_sees_a_new_index_within_the_refresh_interval(
    first: Dataset, source: Source, owner: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(serving.time, "monotonic", lambda: clock[0])
    assert _name(serving.served(first.pk)) == ["旧名称有限公司"]
    serving.build_serving_index(load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]]))
    clock[0] += serving.REFRESH_SECONDS / 2
    assert _name(serving.served(first.pk)) == ["旧名称有限公司"]  # cached: no query of the metadata database
    clock[0] += serving.REFRESH_SECONDS
    assert _name(serving.served(first.pk)) == ["新名称有限公司"]


def test_an_older_version_indexed_late_does_not_replace_the_newer_one(
    first: Dataset, source: Source, owner: User, tmp_path: Path, fresh: None
) -> None:
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    serving.build_serving_index(dataset)
    ServingIndex.objects.filter(dataset=dataset, version=0).delete()
    late = serving.build_serving_index(dataset, 0)
    assert late is not None and late.status == ServingStatus.RETIRED
    assert _name(serving.served(dataset.pk)) == ["新名称有限公司"]


def test_a_build_failing_midway_leaves_the_previous_index_served_and_no_file_behind(
    first: Dataset, source: Source, owner: User, tmp_path: Path, fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    write = serving._write_index

    def write_then_fail(path: Path, *args: Any) -> int:
        write(path, *args)
        assert path.exists()
        raise OSError("磁盘已满")

    monkeypatch.setattr(serving, "_write_index", write_then_fail)
    with pytest.raises(OSError, match="磁盘已满"):
        serving.build_serving_index(dataset)
    failed = ServingIndex.objects.get(dataset=dataset, version=1)
    assert (failed.status, failed.error) == (ServingStatus.FAILED, "磁盘已满")
    assert _name(serving.served(dataset.pk)) == ["旧名称有限公司"]
    served_file = Path(ServingIndex.objects.get(dataset=dataset, version=0).path)
    assert sorted(p.name for p in served_file.parent.iterdir()) == sorted([".lock", served_file.name])


def test_the_next_build_clears_what_a_killed_build_left(
    first: Dataset, source: Source, owner: User, tmp_path: Path, fresh: None
) -> None:
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    directory = Path(ServingIndex.objects.get(dataset=dataset).path).parent
    # What a process killed while writing version 1's index leaves: its row and its half-written files.
    ServingIndex.objects.create(dataset=dataset, version=1, path=str(directory / "v1-dead.sqlite"))
    (directory / "v1-dead.sqlite.tmp").write_bytes(b"SQLite format 3\x00 half")
    (directory / "v1-dead.sqlite.tmp.scratch").write_bytes(b"half")
    assert _name(serving.served(dataset.pk)) == ["旧名称有限公司"]
    built = serving.build_serving_index(dataset)
    assert built is not None
    assert not list(directory.glob("*.tmp*"))
    interrupted = ServingIndex.objects.get(path=str(directory / "v1-dead.sqlite"))
    assert interrupted.status == ServingStatus.FAILED and "生成中断" in interrupted.error
    assert _name(serving.served(dataset.pk)) == ["新名称有限公司"]


def test_a_version_made_current_queues_its_index_job_which_builds_it(
    source: Source, owner: User, tmp_path: Path, django_capture_on_commit_callbacks: Any, fresh: None
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dataset = load_rows(source, owner, tmp_path / "v0.csv", [[CODE, "旧名称有限公司"]])
    [task] = [row.task for row in OrmQ.objects.all()]
    assert (task["func"], task["args"]) == (registry.RUNNER, (serving.BUILD_SERVING_INDEX, dataset.pk, 0))
    assert serving.served(dataset.pk) is None
    runner.run(*task["args"])
    assert _name(serving.served(dataset.pk)) == ["旧名称有限公司"]


def test_the_job_of_a_version_no_longer_current_builds_nothing(
    first: Dataset, source: Source, owner: User, tmp_path: Path
) -> None:
    load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    serving.build_serving_index_job(first.pk, 0)
    runner.run(serving.BUILD_SERVING_INDEX, first.pk, 0)
    assert list(ServingIndex.objects.values_list("version", flat=True)) == [0]


def test_a_foreground_process_builds_the_index_itself_and_queues_nothing(
    source: Source, owner: User, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with serving.build_here(), django_capture_on_commit_callbacks(execute=True):
        dataset = load_rows(source, owner, tmp_path / "v0.csv", [[CODE, "旧名称有限公司"]])
    assert not OrmQ.objects.exists()
    assert _name(serving.served(dataset.pk)) == ["旧名称有限公司"]


def test_a_replaced_index_file_is_deleted_only_after_the_grace_period(
    first: Dataset, source: Source, owner: User, tmp_path: Path
) -> None:
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    serving.build_serving_index(dataset, now=LATER)
    old = Path(ServingIndex.objects.get(dataset=dataset, version=0).path)
    new = Path(ServingIndex.objects.get(dataset=dataset, version=1).path)
    assert serving.sweep_serving_indexes(now=LATER + serving.RETIRED_GRACE / 2) == []
    assert old.exists()
    assert serving.sweep_serving_indexes(now=LATER + serving.RETIRED_GRACE) == [str(old)]
    assert not old.exists() and new.exists()


def test_a_reader_that_opened_a_replaced_file_keeps_reading_it_after_it_is_deleted(
    first: Dataset, source: Source, owner: User, tmp_path: Path
) -> None:
    old = serving.served(first.pk)
    assert _name(old) == ["旧名称有限公司"]  # this thread's connection is open
    dataset = load_rows(source, owner, tmp_path / "v1.csv", [[CODE, "新名称有限公司"]])
    serving.build_serving_index(dataset, now=LATER)
    serving.sweep_serving_indexes(now=LATER + serving.RETIRED_GRACE)
    assert old is not None and not old.path.exists()
    assert _name(old) == ["旧名称有限公司"]


def test_the_sweep_indexes_a_current_version_that_has_no_index(source: Source, owner: User, tmp_path: Path) -> None:
    dataset = load_rows(source, owner, tmp_path / "v0.csv", [[CODE, "旧名称有限公司"]])
    serving.sweep_serving_indexes(now=LATER)
    assert _name(serving.served(dataset.pk)) == ["旧名称有限公司"]

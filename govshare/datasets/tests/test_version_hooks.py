"""The data workflow's hooks: a check registered on `version_ready` may refuse a version before it becomes current;
`version_current` tells the apps above when one did. A refused version is never read and never the base of the
next load."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import NotFound
from govshare.datasets import reading, services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, DatasetVersion, Load
from govshare.datasets.signals import VersionRefused, version_current, version_ready
from govshare.sources import services as source_services
from govshare.sources.choices import LoadMode, SourceKind
from govshare.sources.models import Source

pytestmark = pytest.mark.django_db

ITEMS = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="姓名", data_type="C", length=50)]
HEADER = "身份证号,姓名\n"


@pytest.fixture
def owner(department) -> User:  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="人口信息")


@pytest.fixture
def source(resource: Resource, owner: User) -> Source:
    data = source_services.SourceInput(
        name="报送",
        kind=SourceKind.FILE,
        config={"format": "csv"},
        load_mode=LoadMode.UPSERT,
        key_items=["公民身份号码"],
    )
    registered = source_services.register_source(resource, data, actor=owner)
    mapping = [source_services.MappingEntry("身份证号", "公民身份号码"), source_services.MappingEntry("姓名", "姓名")]
    return source_services.set_mapping(registered, mapping, actor=owner)


@pytest.fixture
def connected() -> Iterator[Callable[[Any, Callable[..., None]], None]]:
    """Connect receivers for one test only."""
    done: list[tuple[Any, Callable[..., None]]] = []

    def connect(signal: Any, receiver: Callable[..., None]) -> None:
        signal.connect(receiver, weak=False)
        done.append((signal, receiver))

    yield connect
    for signal, receiver in done:
        signal.disconnect(receiver)


def load(source: Source, owner: User, tmp_path: Path, name: str, rows: str) -> Load:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    requested = services.request_load(source, actor=owner, file_path=path)
    run_load(requested.pk)
    return Load.objects.get(pk=requested.pk)


def names(owner: User, resource: Resource) -> list[str]:
    return sorted(row[1] for row in reading.preview_version(owner, resource).rows)


def refuse_names_with_x(sender: Any, *, dataset: Dataset, number: int, load: Load, **kwargs: Any) -> None:
    assert load.requested_by is not None
    opened = reading.open_version(dataset, reading.ReadScope(reader=load.requested_by), version=number, pending=True)
    with opened.batches as batches:
        if any("X" in str(value) for batch in batches for value in batch.column("姓名").to_pylist()):
            raise VersionRefused("姓名含测试数据“X”")


def test_a_refused_version_fails_the_load_and_the_dataset_stays_on_its_current_version(
    source: Source, owner: User, resource: Resource, tmp_path: Path, connected: Any
) -> None:
    load(source, owner, tmp_path, "a.csv", "510603199001010011,张三\n")
    connected(version_ready, refuse_names_with_x)
    refused = load(source, owner, tmp_path, "b.csv", "510603199001010038,X李四\n")
    assert refused.status == LoadStatus.FAILED
    assert "数据检查未通过" in refused.error and "姓名含测试数据“X”" in refused.error
    dataset = Dataset.objects.get(resource=resource)
    assert dataset.current_version == 0
    assert names(owner, resource) == ["张三"]
    version = DatasetVersion.objects.get(dataset=dataset, number=1)
    assert (version.load_id, version.refusal) == (refused.pk, "姓名含测试数据“X”")
    assert AuditLog.objects.filter(action="datasets.version.refuse", object_id=str(refused.pk)).exists()
    assert [info.version for info in reading.dataset_versions(dataset)] == [0]
    with pytest.raises(NotFound):
        reading.preview_version(owner, resource, version=1)


def test_the_next_load_builds_on_the_current_version_not_on_the_refused_one(
    source: Source, owner: User, resource: Resource, tmp_path: Path, connected: Any
) -> None:
    load(source, owner, tmp_path, "a.csv", "510603199001010011,张三\n")
    connected(version_ready, refuse_names_with_x)
    load(source, owner, tmp_path, "b.csv", "510603199001010038,X李四\n")
    accepted = load(source, owner, tmp_path, "c.csv", "510603199001010054,王五\n")
    assert accepted.status == LoadStatus.SUCCEEDED, accepted.error
    assert names(owner, resource) == ["张三", "王五"]  # merged into 张三's version: the refused row is not there


def test_apps_hear_when_a_version_became_current_after_the_commit(
    source: Source, owner: User, tmp_path: Path, connected: Any, django_capture_on_commit_callbacks: Any
) -> None:
    heard: list[tuple[int, int | None]] = []
    connected(version_current, lambda sender, *, dataset, number, load, **kw: heard.append((number, load.pk)))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        made = load(source, owner, tmp_path, "a.csv", "510603199001010011,张三\n")
    assert heard == []  # not before the commit
    for callback in callbacks:
        callback()
    assert heard == [(0, made.pk)]

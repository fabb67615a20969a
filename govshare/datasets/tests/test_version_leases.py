"""A dataset version in use (a streamed download now; deliveries and quality runs later) is not vacuumed: its reader
holds an expiring lease (datasets.leases), and vacuum after a commit spares the leased versions.

New versions are committed straight to the dataset's Delta table (as a load's commit does) and then vacuumed by
`leases.vacuum_dataset`, the housekeeping every commit of a load or a key rotation runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.http import HttpResponseBase

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.dataplane import tables
from govshare.dataplane.tables import DatasetTable, VersionVacuumed
from govshare.datasets import leases, reading, services
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, VersionLease
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.testing.clock import minutes

pytestmark = pytest.mark.django_db

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="住址", data_type="C", length=200),
]


@pytest.fixture
def owner(department) -> User:  # type: ignore[no-untyped-def]
    return testing.make_user(Role.CATALOG_ADMIN, department=department)


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="人口信息")


def close(response: HttpResponseBase) -> None:
    """What the server does when a client goes away: close the response. Its `request_finished` signal is kept from
    closing the test's database connection, as Django's test client does."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def load_people(resource: Resource, owner: User, path: Path, count: int) -> Dataset:
    """A real load (file source) of `count` people: version 0 of the resource's dataset, kept 1 version deep."""
    data = source_services.SourceInput(name="报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = source_services.register_source(resource, data, actor=owner)
    mapping = [source_services.MappingEntry(i.name, i.name) for i in ITEMS]
    source_services.set_mapping(source, mapping, actor=owner)
    path.write_text("公民身份号码,姓名,住址\n" + "".join(f"{person(n)}\n" for n in range(count)), encoding="utf-8")
    run_load(services.request_load(source, actor=owner, file_path=path).pk)
    dataset = Dataset.objects.get(resource=resource)
    assert dataset.current_version == 0
    Dataset.objects.filter(pk=dataset.pk).update(keep_versions=1)
    dataset.refresh_from_db()
    return dataset


def person(n: int) -> str:
    """Person `n` as a CSV line: a long address, so that a download's rows outgrow what the engine reads ahead."""
    return f"{510603190000000000 + n},居民{n:07d},四川省德阳市旌阳区{'幸福里' * 12}{n}号"


def commit_new_versions(table: DatasetTable, count: int) -> None:
    """`count` later loads' commits (each replacing every row with the current ones)."""
    rows = table.read().read_all()
    for n in range(count):
        table.write(rows.to_reader(), mode="overwrite", load_id=900_000 + n)


@pytest.fixture
def dataset(resource: Resource, owner: User, tmp_path: Path) -> Dataset:
    return load_people(resource, owner, tmp_path / "people.csv", 3)


def test_a_leased_version_survives_vacuum_after_more_loads_than_keep_versions(dataset: Dataset) -> None:
    table = DatasetTable(dataset.table_uri)
    with leases.hold_version(dataset, 0, holder="job:1", seconds=600, now=minutes(0)):
        commit_new_versions(table, 3)
        leases.vacuum_dataset(dataset, table, now=minutes(1))
        assert table.read(0).read_all().num_rows == 3
    with pytest.raises(VersionVacuumed):
        table.read(1)  # not leased: vacuumed as the retention says


def test_an_expired_lease_does_not_pin_its_version(dataset: Dataset) -> None:
    table = DatasetTable(dataset.table_uri)
    leases.acquire(dataset, 0, holder="job:1", seconds=60, now=minutes(0))  # its process was killed
    commit_new_versions(table, 2)
    leases.vacuum_dataset(dataset, table, now=minutes(2))
    with pytest.raises(VersionVacuumed):
        table.read(0)
    assert not VersionLease.objects.filter(dataset=dataset).exists()


def test_a_half_read_download_survives_new_versions_and_their_vacuum_with_all_its_rows(
    resource: Resource, owner: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small data files: the version spans many files, most of them not yet opened when the stream is half read.
    monkeypatch.setattr(tables, "TARGET_FILE_SIZE", 64 * 1024)
    people = 200_000
    dataset = load_people(resource, owner, tmp_path / "people.csv", people)
    table = DatasetTable(dataset.table_uri)
    assert len(table.files(0)) >= 8
    response = reading.download_response(owner, resource, file_format="csv")
    chunks = iter(cast(Iterator[bytes], response.streaming_content))
    received = [next(chunks) for _ in range(3)]  # BOM, header, the first batch of rows
    assert received[2].count(b"\n") < people / 2

    commit_new_versions(table, 2)
    leases.vacuum_dataset(dataset, table)
    with pytest.raises(VersionVacuumed):
        table.read(1)  # the vacuum did run: the version nobody reads is gone

    received.extend(chunks)
    close(response)
    lines = b"".join(received).decode("utf-8-sig").splitlines()
    assert lines[0] == '"公民身份号码","姓名","住址"'
    assert sorted(lines[1:]) == sorted(",".join(f'"{v}"' for v in person(n).split(",")) for n in range(people))


def test_closing_a_download_unread_releases_its_lease(dataset: Dataset, resource: Resource, owner: User) -> None:
    response = reading.download_response(owner, resource, file_format="csv")
    assert list(VersionLease.objects.values_list("number", "holder")) == [(0, f"download:{owner.pk}")]
    close(response)  # the client went away before the first byte
    assert not VersionLease.objects.exists()


def test_a_download_read_to_the_end_releases_its_lease(dataset: Dataset, resource: Resource, owner: User) -> None:
    response = reading.download_response(owner, resource, file_format="json")
    b"".join(cast(Iterator[bytes], response.streaming_content))
    assert not VersionLease.objects.exists()


def test_a_stream_read_past_half_its_lease_renews_it(dataset: Dataset) -> None:
    lease = leases.acquire(dataset, 0, holder="job:7", seconds=600, now=minutes(0))
    stream = leases.LeasedStream(iter([b"a", b"b"]), lease, seconds=600, clock=lambda: minutes(6))
    assert next(stream) == b"a"
    assert VersionLease.objects.get(pk=lease.pk).expires_at == minutes(16)
    assert leases.leased_versions(dataset, minutes(15)) == {0}

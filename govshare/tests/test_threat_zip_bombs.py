"""Threat: archive (zip) bombs on every path that opens an .xlsx.

An .xlsx is a zip archive, and the cost of reading it is its expanded size, which the file chooses. Found before the
fix: a 126 KB import file whose compressed sharedStrings.xml held millions of strings cost +290 MB and 76–101 s of
CPU in the catalogue import (the strings were read before the size guard); a 1 MB data file holding 1 GiB of spaces
cost the job worker +1 GB and loaded "successfully"; the source preview of a 300 MB-expanded file +282 MB in the web
worker.

Each bomb is built here (govshare/testing/bombs.py: streamed, about 1 MB each) and sent down each path a role can
reach: a department catalogue administrator's catalogue import (service, API, page), 文件报送 upload (API and page),
the load in the job worker (a file stored before the check existed, or given by `run_load --file`), and the source
preview (a new sample, or the latest load's file). Every path refuses with a Chinese message naming the member and
the limit, keeps nothing, and spends little CPU and memory doing so (the old code spent tens of seconds and
hundreds of MB to a GB on these same files).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from govshare import testing
from govshare.catalog import importing
from govshare.catalog.models import ImportBatch, Resource
from govshare.datasets import services as dataset_services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, Load
from govshare.sources import services as source_services
from govshare.sources.models import Source
from govshare.testing import bombs
from govshare.testing.api import bearer
from govshare.testing.datasets import ITEMS, MAPPING, Api

pytestmark = pytest.mark.django_db

# What refusing may cost, far below what the bombs hold (85 MB of strings, 1 GiB of spaces, a 48 MB row).
MAX_CPU_SECONDS = 5.0
MAX_MEMORY_GROWTH = 64 * bombs.MIB

HEADER_ONLY = bombs.Member(
    "xl/worksheets/sheet1.xml", head=bombs.SHEET_HEAD + bombs.header_row("姓名") + bombs.SHEET_TAIL
)
BOMBS: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    # name: (builder, fragments the refusal names: the member and the limit)
    "5 million shared strings in 100 KB": (
        lambda: bombs.one_sheet_workbook(
            bombs.Member(
                "xl/worksheets/sheet1.xml", head=bombs.SHEET_HEAD + bombs.header_row("姓名") + bombs.SHEET_TAIL
            ),
            strings=bombs.strings_table(),
        ),
        ("xl/sharedStrings.xml", "超过上限 100 倍"),
    ),
    "1 GiB of spaces in one cell, 1 MB": (
        lambda: bombs.one_sheet_workbook(bombs.spaces_sheet()),
        ("xl/worksheets/sheet1.xml", "超过上限 100 倍"),
    ),
    "a member declaring 1 KB that inflates to 20 MB": (
        lambda: bombs.one_sheet_workbook(bombs.lying(bombs.spaces_sheet(20 * bombs.MIB), 1000)),
        ("xl/worksheets/sheet1.xml", "实际解压后的大小超过其声明的 1000 字节"),
    ),
}


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return {name: build() for name, (build, _) in BOMBS.items()}


def _stored_files() -> list[Path]:
    uploads = Path(settings.GOVSHARE.data_dir) / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def _named(message: str, fragments: tuple[str, ...]) -> None:
    for fragment in fragments:
        assert fragment in message, message


def _cheap(cost: bombs.Cost) -> None:
    assert cost.error is None, cost.error
    assert cost.seconds < MAX_CPU_SECONDS, f"{cost.seconds:.1f} s of CPU"
    assert cost.rss_growth < MAX_MEMORY_GROWTH, f"+{cost.rss_growth / bombs.MIB:.0f} MB"


def _upload(data: bytes, name: str = "目录.xlsx") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


# ---------------------------------------------------------------------------------------------- catalogue import


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_catalogue_import_refuses_the_bomb_before_reading_it(bomb, built, catalog_admin) -> None:
    cost = bombs.cost_of(
        lambda: importing.import_catalog(io.BytesIO(built[bomb]), file_name="目录.xlsx", actor=catalog_admin)
    )
    _cheap(cost)
    assert not cost.result.imported
    [problem] = cost.result.problems
    _named(problem.message, BOMBS[bomb][1])
    assert ImportBatch.objects.get().outcome == ImportBatch.Outcome.REFUSED
    assert not Resource.objects.exists()


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_catalogue_import_api_answers_422_naming_member_and_limit(bomb, built, catalog_admin) -> None:
    client, headers = Client(), bearer(catalog_admin)
    cost = bombs.cost_of(lambda: client.post("/api/catalog/imports", {"file": _upload(built[bomb])}, headers=headers))
    _cheap(cost)
    assert cost.result.status_code == 422, cost.result.content
    _named(cost.result.json()["errors"][0]["message"], BOMBS[bomb][1])
    assert not Resource.objects.exists()


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_catalogue_import_page_answers_422_naming_member_and_limit(bomb, built, catalog_admin) -> None:
    client = Client()
    client.force_login(catalog_admin)
    cost = bombs.cost_of(lambda: client.post(reverse("catalog:import"), {"file": _upload(built[bomb])}))
    _cheap(cost)
    assert cost.result.status_code == 422
    _named(cost.result.content.decode(), BOMBS[bomb][1])
    assert not Resource.objects.exists()


# ---------------------------------------------------------------------------------------------- data loads


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


@pytest.fixture
def source(department, catalog_admin) -> Source:  # type: ignore[no-untyped-def]
    resource = testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")
    data = source_services.SourceInput(name="表格报送", kind="file", config={"format": "xlsx"})
    registered = source_services.register_source(resource, data, actor=catalog_admin)
    return source_services.set_mapping(
        registered, [source_services.MappingEntry(m["column"], m["item"]) for m in MAPPING], actor=catalog_admin
    )


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_data_file_upload_is_refused_with_422_and_nothing_is_kept(bomb, built, owner, source) -> None:
    cost = bombs.cost_of(lambda: owner.upload(f"/sources/{source.pk}/uploads", "人口.xlsx", built[bomb]))
    _cheap(cost)
    assert cost.result.status_code == 422, cost.result.content
    error = cost.result.json()["errors"][0]
    assert error["field"] == "file"
    _named(error["message"], BOMBS[bomb][1])
    assert not Load.objects.exists() and _stored_files() == []


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_data_file_upload_on_the_page_is_refused_and_nothing_is_kept(bomb, built, catalog_admin, source) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    client.force_login(catalog_admin)
    url = reverse("datasets:source_upload", args=[source.pk])
    cost = bombs.cost_of(lambda: client.post(url, {"file": SimpleUploadedFile("人口.xlsx", built[bomb])}, follow=True))
    _cheap(cost)
    _named(cost.result.content.decode(), BOMBS[bomb][1])
    assert not Load.objects.exists() and _stored_files() == []


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_job_worker_fails_the_load_of_a_stored_bomb_with_the_message(bomb, built, source, tmp_path) -> None:
    # A file that reached the uploads directory without the upload check (stored before it existed, or given to
    # `govshare run_load --file`): the worker opens it through the same checks.
    path = bombs.write(tmp_path / "人口.xlsx", built[bomb])
    load = dataset_services.request_load(source, actor=None, file_path=path, enqueue=False)
    cost = bombs.cost_of(lambda: run_load(load.pk))
    _cheap(cost)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    _named(load.error, BOMBS[bomb][1])
    assert Dataset.objects.get(resource=source.resource).current_version is None


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_source_preview_of_a_new_sample_answers_422(bomb, built, owner, source) -> None:
    cost = bombs.cost_of(lambda: owner.upload(f"/sources/{source.pk}/preview", "样例.xlsx", built[bomb]))
    _cheap(cost)
    assert cost.result.status_code == 422, cost.result.content
    _named(cost.result.json()["errors"][0]["message"], BOMBS[bomb][1])
    assert _stored_files() == []


@pytest.mark.parametrize("bomb", BOMBS)
def test_the_source_preview_of_the_latest_loads_file_answers_422(bomb, built, owner, source, tmp_path) -> None:
    path = bombs.write(tmp_path / "人口.xlsx", built[bomb])
    dataset_services.request_load(source, actor=None, file_path=path, enqueue=False)
    cost = bombs.cost_of(lambda: owner.post(f"/sources/{source.pk}/preview"))
    _cheap(cost)
    assert cost.result.status_code == 422, cost.result.content
    _named(cost.result.json()["errors"][0]["message"], BOMBS[bomb][1])


# ---------------------------------------------------------------------------------------------- within the ratio


def test_a_row_of_two_million_cells_is_refused_while_streaming(catalog_admin, source, tmp_path) -> None:
    """Ordinary compression (10 times: within every archive limit), but one "row" of 2 million cells (48 MB) that a
    parser would build in memory whole: the guard in front of the parser counts its tags and stops it."""
    data = bombs.one_sheet_workbook(bombs.wide_row_sheet(2_000_000))
    path = bombs.write(tmp_path / "人口.xlsx", data)
    load = dataset_services.request_load(source, actor=None, file_path=path, enqueue=False)
    cost = bombs.cost_of(lambda: run_load(load.pk))
    _cheap(cost)
    load.refresh_from_db()
    assert load.status == LoadStatus.FAILED
    _named(load.error, ("xl/worksheets/sheet1.xml", "XML 标签超过 200,000 个"))


def test_the_catalogue_import_refuses_a_sheet_of_one_huge_row(catalog_admin) -> None:
    data = bombs.zip_bytes(
        [
            *bombs.members_of(_valid_import(), without=["xl/worksheets/sheet1.xml"]),
            bombs.Member(
                "xl/worksheets/sheet1.xml",
                head=bombs.SHEET_HEAD + b'<row r="1">',
                block=b"".join(f'<c r="A1"><v>{n}</v></c>'.encode() for n in range(1000)),
                times=2000,
                tail=b"</row>" + bombs.SHEET_TAIL,
            ),
        ]
    )
    cost = bombs.cost_of(lambda: importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=catalog_admin))
    _cheap(cost)
    [problem] = cost.result.problems
    _named(problem.message, ("xl/worksheets/sheet1.xml", "XML 标签超过 200,000 个"))


def _valid_import() -> bytes:
    from govshare.testing.xlsx_files import valid_file

    return valid_file("91350100M000100Y43")


def test_limits_come_from_the_settings(catalog_admin, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"xlsx_max_member_bytes": 1 * bombs.MIB})
    data = bombs.one_sheet_workbook(bombs.wide_row_sheet(100_000))  # 2.4 MB expanded, 10 times
    result = importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=catalog_admin)
    [problem] = result.problems
    _named(
        problem.message, ("xl/worksheets/sheet1.xml", "超过单个部件的解压上限 1 MB", "GOVSHARE_XLSX_MAX_MEMBER_BYTES")
    )

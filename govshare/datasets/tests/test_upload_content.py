"""A reported file is judged by its content, never by its name, and the refusal says what the content is: an Excel
workbook sent to a CSV source, an empty file, bytes that are not text, an old .xls. A real CSV named .xlsx is a CSV
and loads; a real workbook named .csv is still a workbook."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from django.conf import settings
from openpyxl import Workbook

from govshare import testing
from govshare.catalog.models import Resource
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.testing.datasets import CSV_TEXT, ITEMS, MAPPING, Api, mapped_file_source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

OLD_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
# Fixed, so that the test is the same every run: 4 KB of noise, which holds zero bytes as any binary file does.
RANDOM_BYTES = random.Random(12).randbytes(4096)


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in CSV_TEXT.splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


@pytest.fixture
def csv_source(owner, resource) -> int:  # type: ignore[no-untyped-def]
    return mapped_file_source(owner, resource)


@pytest.fixture
def xlsx_source(owner, resource) -> int:  # type: ignore[no-untyped-def]
    response = owner.post(
        f"/resources/{resource.pk}/sources", {"name": "表格报送", "kind": "file", "config": {"format": "xlsx"}}
    )
    assert response.status_code == 201, response.content
    source_id = int(response.json()["id"])
    assert owner.put(f"/sources/{source_id}/mapping", {"mapping": MAPPING}).status_code == 200
    return source_id


def _refusal(owner: Api, source_id: int, name: str, data: bytes) -> str:
    response = owner.upload(f"/sources/{source_id}/uploads", name, data)
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    assert error["field"] == "file"
    uploads = Path(settings.GOVSHARE.data_dir) / "uploads"
    assert not Load.objects.exists()
    assert not uploads.exists() or not [p for p in uploads.rglob("*") if p.is_file()]
    return str(error["message"])


@pytest.mark.parametrize("name", ["人口.xlsx", "人口.csv"])
def test_a_workbook_sent_to_a_csv_source_is_called_a_workbook_whatever_its_name(owner, csv_source, name) -> None:  # type: ignore[no-untyped-def]
    message = _refusal(owner, csv_source, name, _workbook())
    assert f"文件“{name}”：文件内容是 Excel 工作簿（xlsx），但数据来源的格式是 CSV" in message


def test_a_real_csv_named_xlsx_is_read_as_the_csv_it_is(owner, csv_source) -> None:  # type: ignore[no-untyped-def]
    response = owner.upload(f"/sources/{csv_source}/uploads", "人口.xlsx", CSV_TEXT.encode())
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    load = Load.objects.get(pk=response.json()["id"])
    assert (load.status, load.rows_loaded, load.rows_rejected) == (LoadStatus.SUCCEEDED, 2, 1)


@pytest.mark.parametrize("source", ["csv_source", "xlsx_source"])
def test_an_empty_file_is_called_empty(owner, source, request) -> None:  # type: ignore[no-untyped-def]
    message = _refusal(owner, request.getfixturevalue(source), "人口.xlsx", b"")
    assert "文件为空" in message


def test_random_bytes_sent_to_a_csv_source_are_not_text(owner, csv_source) -> None:  # type: ignore[no-untyped-def]
    message = _refusal(owner, csv_source, "人口.xlsx", RANDOM_BYTES)
    assert "文件内容不是文本（可能是二进制文件）" in message
    assert "Excel" not in message


def test_random_bytes_sent_to_an_xlsx_source_are_unrecognised_binary_data(owner, xlsx_source) -> None:  # type: ignore[no-untyped-def]
    message = _refusal(owner, xlsx_source, "人口.xlsx", RANDOM_BYTES)
    assert "文件内容不是 Excel 工作簿（.xlsx），而是无法识别的二进制数据" in message


@pytest.mark.parametrize("source", ["csv_source", "xlsx_source"])
def test_an_old_xls_is_refused_saying_to_save_it_as_xlsx_or_csv(owner, source, request) -> None:  # type: ignore[no-untyped-def]
    message = _refusal(owner, request.getfixturevalue(source), "人口.xls", OLD_XLS)
    assert "旧版 Excel（.xls）不支持，请在 Excel 或 WPS 中另存为 .xlsx 或 CSV" in message


def test_a_workbook_sent_as_a_sample_of_a_csv_source_is_refused_the_same_way(owner, csv_source) -> None:  # type: ignore[no-untyped-def]
    response = owner.upload(f"/sources/{csv_source}/preview", "样例.xlsx", _workbook())
    assert response.status_code == 422, response.content
    assert "文件内容是 Excel 工作簿（xlsx），但数据来源的格式是 CSV" in response.json()["errors"][0]["message"]


def test_a_workbook_sent_to_an_xlsx_source_under_another_name_loads(owner, xlsx_source) -> None:  # type: ignore[no-untyped-def]
    response = owner.upload(f"/sources/{xlsx_source}/uploads", "人口.csv", _workbook())
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    load = Load.objects.get(pk=response.json()["id"])
    assert (load.status, load.rows_loaded) == (LoadStatus.SUCCEEDED, 2)

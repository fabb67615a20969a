"""Data file uploads (文件报送 and the source preview) are checked by size and by content before anything is kept:
422 with a Chinese message naming the limit or what the file really is; no stored file, no load.
(The catalogue import has its own checks, tested in govshare/catalog/tests/test_import_bad_input.py.)"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.core.uploads import data_file_problem, size_text
from govshare.datasets.models import Load
from govshare.testing.datasets import CSV_TEXT, ITEMS, MAPPING, Api, mapped_file_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


@pytest.fixture
def resource(department):  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _stored_files() -> list[Path]:
    uploads = Path(settings.GOVSHARE.data_dir) / "uploads"
    return [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []


def _refused(response, *fragments: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["errors"][0]["field"] == "file"
    message = str(body["errors"][0]["message"])
    for fragment in fragments:
        assert fragment in message, message
    assert not Load.objects.exists()
    assert _stored_files() == []
    return message


def test_a_csv_upload_is_accepted(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    response = owner.upload(f"/sources/{source_id}/uploads", "人口.csv", CSV_TEXT.encode("gbk"))
    assert response.status_code == 201, response.content
    assert len(_stored_files()) == 1


def test_a_file_over_the_limit_is_refused_naming_the_limit(owner, resource, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"load_upload_max_bytes": 1024})
    source_id = mapped_file_source(owner, resource)
    big = (CSV_TEXT * 40).encode()
    response = owner.upload(f"/sources/{source_id}/uploads", "人口.csv", big)
    _refused(response, "超过上传上限 1 KB", "GOVSHARE_LOAD_UPLOAD_MAX_BYTES", f"{len(big):,} 字节")


def test_a_zip_named_csv_is_refused(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    data = _zip({"人口.csv": CSV_TEXT.encode()})
    _refused(owner.upload(f"/sources/{source_id}/uploads", "人口.csv", data), "zip 压缩文件", "不是 CSV 文本文件")


def test_an_old_excel_file_named_csv_is_refused(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    _refused(owner.upload(f"/sources/{source_id}/uploads", "人口.csv", data), "Excel 97-2003")


def test_binary_data_named_csv_is_refused_naming_the_byte(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    data = CSV_TEXT.encode() + b"\x00\x01\x02"
    offset = len(CSV_TEXT.encode()) + 1
    _refused(owner.upload(f"/sources/{source_id}/uploads", "人口.csv", data), f"第 {offset} 个字节", "二进制文件")


def _xlsx_source(owner: Api, resource) -> int:  # type: ignore[no-untyped-def]
    response = owner.post(
        f"/resources/{resource.pk}/sources", {"name": "表格报送", "kind": "file", "config": {"format": "xlsx"}}
    )
    assert response.status_code == 201, response.content
    source_id = int(response.json()["id"])
    assert owner.put(f"/sources/{source_id}/mapping", {"mapping": MAPPING}).status_code == 200
    return source_id


def test_a_csv_named_xlsx_is_refused(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = _xlsx_source(owner, resource)
    message = _refused(owner.upload(f"/sources/{source_id}/uploads", "人口.xlsx", CSV_TEXT.encode()), "不是 Excel")
    assert "改了扩展名的 .csv" in message


def test_a_zip_without_the_workbook_parts_named_xlsx_is_refused(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = _xlsx_source(owner, resource)
    data = _zip({"word/document.xml": b"<w:document/>", "[Content_Types].xml": b"<Types/>"})
    _refused(owner.upload(f"/sources/{source_id}/uploads", "人口.xlsx", data), "缺少 xl/workbook.xml")


def test_a_sample_for_the_preview_is_checked_too(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    response = owner.upload(f"/sources/{source_id}/preview", "样例.csv", b"%PDF-1.7\n" + b"\x00" * 100)
    assert response.status_code == 422, response.content
    assert "PDF 文件" in response.json()["errors"][0]["message"]


def test_limits_for_django_request_bodies_are_set() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 5 * 1024 * 1024
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert Path(settings.FILE_UPLOAD_TEMP_DIR).is_dir()


@pytest.mark.parametrize(
    ("size", "text"), [(512, "512 字节"), (1024, "1 KB"), (20 * 1024**2, "20 MB"), (2 * 1024**3, "2 GB")]
)
def test_sizes_are_said_in_units(size: int, text: str) -> None:
    assert size_text(size) == text


@given(st.binary(max_size=2048), st.sampled_from(["csv", "tsv", "json", "jsonl", "xlsx"]))
def test_the_content_check_never_fails_and_refuses_every_nul_byte_in_text(head: bytes, file_format: str) -> None:
    problem = data_file_problem(head, file_format, io.BytesIO(head))
    # UTF-16 with its byte order mark is text (most of its characters hold a zero byte): it is read, not refused.
    if file_format != "xlsx" and b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        assert problem is not None
    if file_format == "xlsx" and not head.startswith(b"PK\x03\x04"):
        assert problem is not None


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1))
def test_any_text_without_nul_passes_as_csv_in_utf8_or_gbk(text: str) -> None:
    encoded = text.encode("utf-8")
    # A few binary magic numbers are printable ASCII (%PDF-, GIF8, Rar!, PAR1, 7z…): text that starts with them is
    # taken for that file type, as a browser or `file` would.
    if not encoded.startswith((b"%PDF-", b"GIF8", b"Rar!", b"PAR1", b"PK\x03\x04", b"PK\x05\x06", b"SQLite format 3")):
        assert data_file_problem(encoded, "csv") is None


def test_an_api_body_past_the_request_limit_answers_413_in_chinese(catalog_admin, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(catalog_admin)
    body = '{"name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'
    response = client.post("/api/catalog/resources", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["detail"].startswith("请求体超过上限 5 MB")


def test_a_page_form_past_the_request_limit_answers_400_in_chinese(catalog_admin, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(catalog_admin)
    response = client.post("/catalog/resources/new/", {"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert response.status_code == 400
    assert "超过了大小上限" in response.content.decode()

"""An English reader is told in English why a reported file is refused (its content, its size); a Chinese reader
as before."""

from __future__ import annotations

import random

import pytest

from govshare import testing
from govshare.catalog.models import Resource
from govshare.testing.datasets import ITEMS, Api, mapped_file_source
from govshare.testing.english import chinese_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

REFUSED = {
    "empty": b"",
    "old xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    "pdf": b"%PDF-1.7\n" + bytes(100),
    "binary": random.Random(12).randbytes(4096),
}


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="Residents")


def _refusal(api: Api, source_id: int, data: bytes) -> list[str]:
    response = api.upload(f"/sources/{source_id}/uploads", "people.csv", data)
    assert response.status_code == 422, response.content
    body = response.json()
    return [body["detail"], *(e["message"] for e in body["errors"])]


@pytest.mark.parametrize("kind", REFUSED)
def test_a_refused_upload_is_explained_in_english(catalog_admin, resource, kind) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    source = mapped_file_source(api, resource)
    api.headers["Accept-Language"] = "en"
    messages = _refusal(api, source, REFUSED[kind])
    assert chinese_in(messages) == [], messages
    assert messages[0] == "The uploaded file is not of the source's type"


def test_a_refused_upload_stays_chinese_for_a_chinese_reader(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    messages = _refusal(api, mapped_file_source(api, resource), REFUSED["pdf"])
    assert messages == [
        "上传的文件类型不符",
        "文件“people.csv”：文件内容是PDF 文件，不是 CSV 文本文件；请导出为 CSV（UTF-8 或 GBK 编码）后上传",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "kind": "database", "config": {"url": "nonsense"}},
        {"name": "api", "kind": "http_api", "config": {"url": "ftp://x", "method": "PUT", "paging": {"mode": "x"}}},
        {"name": "file", "kind": "file", "config": {"format": "doc", "delimiter": ";;"}, "load_mode": "append"},
    ],
)
def test_a_refused_source_is_explained_in_english(catalog_admin, resource, body) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    api.headers["Accept-Language"] = "en"
    response = api.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 422, response.content
    messages = [response.json()["detail"], *(e["message"] for e in response.json()["errors"])]
    assert len(messages) >= 2 and chinese_in(messages) == [], messages

"""An English reader reads the import's report in English: the answer to an upload, and the stored report of a
batch read later (its fixed messages; values from the file are the file's)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from govshare.catalog.models import ImportBatch
from govshare.testing.api import bearer, upload
from govshare.testing.english import chinese_in
from govshare.testing.xlsx_files import item_rows, resource_row, xlsx

ENGLISH = {"Accept-Language": "en"}


def _bad_file(department_code: str) -> bytes:
    """A file with a rule problem, a cell problem and a sheet problem (values from the file are ASCII)."""
    return xlsx(
        [
            resource_row(1, department_code, 开放属性="everyone", 信息资源代码="12345"),
            resource_row(1, department_code),  # the same resource number again
        ],
        [*item_rows(1, "uscc"), {"资源序号": "9", "信息项名称": "orphan", "数据类型": "C", "数据长度": 5}],
    )


def _import(user, data: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return Client().post("/api/catalog/imports", {"file": upload(data)}, headers={**bearer(user), **headers})


@pytest.mark.django_db
def test_the_answer_to_a_refused_file_is_english(catalog_admin, department) -> None:
    response = _import(catalog_admin, _bad_file(department.code), **ENGLISH)
    assert response.status_code == 422, response.content
    body = response.json()
    messages = [body["detail"], *(e["message"] for e in body["errors"])]
    assert len(messages) >= 4, messages
    assert chinese_in(messages, user_data=["信息资源", "信息项"]) == []
    assert body["detail"].startswith("The file was not imported")


@pytest.mark.django_db
def test_the_answer_to_a_refused_file_stays_chinese_for_a_chinese_caller(catalog_admin, department) -> None:
    body = _import(catalog_admin, _bad_file(department.code)).json()
    messages = [e["message"] for e in body["errors"]]
    assert body["detail"].startswith("文件未导入：共")
    assert "资源序号“1”与第2行重复" in messages
    assert "资源序号“9”在“信息资源”工作表中不存在" in messages


@pytest.mark.django_db
def test_a_file_that_is_not_a_workbook_is_refused_in_english(catalog_admin) -> None:
    for data in (b"", b"name,code\nA,1\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)):
        body = _import(catalog_admin, data, **ENGLISH).json()
        assert chinese_in([body["detail"], *(e["message"] for e in body["errors"])]) == [], body


@pytest.mark.django_db
def test_a_stored_report_reads_its_fixed_messages_in_the_readers_language(catalog_admin, department) -> None:
    _import(catalog_admin, xlsx([resource_row(1, department.code, 资源序号="")], item_rows(1)))
    batch = ImportBatch.objects.get()
    assert "资源序号为必填项" in [p["message"] for p in batch.report]
    client = Client()
    client.force_login(catalog_admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("catalog:import_batch", args=[batch.pk])).content.decode()
    assert "The resource number is required" in page
    assert "资源序号为必填项" not in page

"""A reported file in UTF-16 with its byte order mark (Excel's "Unicode 文本", either byte order) is detected,
transcoded and loaded: the same rows as the same file in UTF-8. UTF-16 without a mark, and UTF-32, are refused
saying so, not as "binary data"."""

from __future__ import annotations

import codecs

import pytest

from govshare import testing
from govshare.catalog.models import Resource
from govshare.core.uploads import data_file_problem
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.testing.datasets import CSV_TEXT, ITEMS, Api, mapped_file_source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

ENCODINGS = {
    "utf-8": CSV_TEXT.encode("utf-8"),
    "utf-16-le with BOM": codecs.BOM_UTF16_LE + CSV_TEXT.encode("utf-16-le"),
    "utf-16-be with BOM": codecs.BOM_UTF16_BE + CSV_TEXT.encode("utf-16-be"),
}


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


def _loaded_rows(owner: Api, resource: Resource, data: bytes) -> tuple[Load, list[list[str]]]:
    source_id = mapped_file_source(owner, resource)
    response = owner.upload(f"/sources/{source_id}/uploads", "人口.csv", data)
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    load = Load.objects.get(pk=response.json()["id"])
    preview = owner.get(f"/resources/{resource.pk}/dataset/preview")
    assert preview.status_code == 200, preview.content
    return load, preview.json()["rows"]


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_utf16_file_with_its_mark_loads_the_same_rows_as_utf8(owner, resource, encoding: str) -> None:  # type: ignore[no-untyped-def]
    load, rows = _loaded_rows(owner, resource, ENCODINGS[encoding])
    assert (load.status, load.rows_loaded, load.rows_rejected) == (LoadStatus.SUCCEEDED, 2, 1)
    assert rows == [["11010519491231002X", "张三", "1949-12-31"], ["440524188001010014", "李四", "1880-01-01"]]
    assert load.encoding.upper() == ("UTF-8" if encoding == "utf-8" else "UTF-16")


def test_the_sample_preview_reads_a_utf16_file(owner, resource) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    response = owner.upload(f"/sources/{source_id}/preview", "样例.csv", ENCODINGS["utf-16-be with BOM"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["身份证号", "姓名", "出生日期"]
    assert body["rows"][0] == ["11010519491231002X", "张三", "1949-12-31"]


def test_utf16_without_its_mark_is_named_as_such() -> None:
    problem = data_file_problem(CSV_TEXT.encode("utf-16-le"), "csv")
    assert problem is not None
    assert "不带字节顺序标记（BOM）的 UTF-16" in problem
    assert "二进制" not in problem


def test_utf16_text_holding_a_character_with_a_zero_byte_is_still_named_utf16() -> None:
    # 一 is U+4E00: one of its two bytes is zero too.
    problem = data_file_problem("编号,名称\n1,一一一\n2,第一\n".encode("utf-16-be"), "csv")
    assert problem is not None and "UTF-16" in problem


def test_utf32_is_named_as_such() -> None:
    problem = data_file_problem(CSV_TEXT.encode("utf-32"), "csv")
    assert problem is not None and "UTF-32" in problem


def test_a_utf16_mark_followed_by_bytes_that_are_not_utf16_is_refused_naming_the_byte() -> None:
    head = codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00\xdc" + "c".encode("utf-16-le")
    problem = data_file_problem(head, "csv")
    assert problem is not None
    assert "第 7 个字节起不是有效的 UTF-16 文本" in problem

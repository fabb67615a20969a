"""A load's log is stored as written (in the platform's language) and read in the reader's: each line the load
writes is said again in English with its values; lines no one registered are shown as stored."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from govshare import testing
from govshare.catalog.models import Resource
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.jobs import logs
from govshare.testing.datasets import CSV_TEXT, ITEMS, Api, mapped_file_source
from govshare.testing.english import chinese_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="Residents")


@pytest.fixture
def load(catalog_admin, resource) -> Load:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    response = api.upload(f"/sources/{mapped_file_source(api, resource)}/uploads", "people.csv", CSV_TEXT.encode())
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    return Load.objects.get(pk=response.json()["id"])


def test_a_load_log_reads_in_english_over_the_api(catalog_admin, load) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    api.headers["Accept-Language"] = "en"
    log = api.get(f"/loads/{load.pk}").json()["log"]
    assert len(log.splitlines()) == len(load.log.splitlines()) >= 3
    assert chinese_in(log.splitlines()) == [], log
    assert "Attempt 1, load mode: Full" in log and "Committed dataset version 1" in log


def test_a_load_log_stays_as_stored_in_chinese(catalog_admin, load) -> None:  # type: ignore[no-untyped-def]
    assert Api(catalog_admin).get(f"/loads/{load.pk}").json()["log"] == load.log
    assert "已提交数据集第 1 版" in load.log


def test_the_load_page_shows_the_log_in_english(catalog_admin, load) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("datasets:load_detail", args=[load.pk])).content.decode()
    shown = page[page.index('id="load-log"') :]
    shown = shown[: shown.index("</pre>")]
    assert "Committed dataset version 1" in shown and chinese_in([shown]) == []


def test_a_line_no_one_registered_is_shown_as_stored() -> None:
    with translation.override("en"):
        assert logs.readable("12:00:00 完成\n12:00:01 某个未登记的句子") == "12:00:00 Done\n12:00:01 某个未登记的句子"


# Lines stored before versions were counted from 1 held Delta's numbers ("v0"): read as the lines now say them.
OLD_LINES = [
    ("已提交数据集版本 v0", "已提交数据集第 1 版", "Committed dataset version 1"),
    ("上次执行已提交版本 v3，补记结果", "上次执行已提交第 4 版，补记结果", "The previous attempt committed version 4"),
    ("数据检查未通过，版本 v2 未启用：空值过多", "数据检查未通过，第 3 版未启用：空值过多", "version 3 is not used"),
    (
        "版本 v2 未通过检查，且尚无当前版本：本次写入全部数据",
        "第 3 版未通过检查，且尚无当前版本：本次写入全部数据",
        "Version 3 did",
    ),
    (
        "版本 v5 未通过检查，本次以当前版本 v4 为基础（恢复为 v6）",
        "第 6 版未通过检查，本次以当前的第 5 版为基础（恢复为第 7 版）",
        "Version 6 did not pass its checks; this run builds on the current version 5 (restored as version 7)",
    ),
]


@pytest.mark.parametrize(("stored", "chinese", "english"), OLD_LINES)
def test_an_older_line_with_a_delta_number_reads_counted_from_one(stored: str, chinese: str, english: str) -> None:
    with translation.override("zh-hans"):
        assert logs.readable(f"12:00:00 {stored}") == f"12:00:00 {chinese}"
    with translation.override("en"):
        assert english in logs.readable(f"12:00:00 {stored}")


@pytest.mark.parametrize(("stored", "chinese", "english"), OLD_LINES)
def test_a_line_written_now_reads_in_english_with_the_same_number(stored: str, chinese: str, english: str) -> None:
    with translation.override("en"):
        assert english in logs.readable(f"12:00:00 {chinese}")

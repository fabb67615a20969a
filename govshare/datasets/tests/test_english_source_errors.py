"""Why a source cannot be read reaches an English reader in English, with its values: at once (a preview, read in
the reader's request) and later (a failed load, whose error and log are stored in the platform's language and said
again line by line); a Chinese reader reads them as before."""

from __future__ import annotations

import io
import re
from typing import Any

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import gettext

from govshare import testing
from govshare.catalog.models import Resource
from govshare.core.tabular import xlsx
from govshare.datasets import encryption, log_lines
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.jobs import logs
from govshare.sources import connection_policy, readers
from govshare.sources.readers import database, encoding, files, http_api, rows
from govshare.testing.datasets import ITEMS, Api, mapped_file_source
from govshare.testing.english import chinese_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

# The header names its first column twice: every reader refuses it with both positions.
REPEATED = "身份证号,姓名,身份证号\n11010519491231002X,张三,1\n".encode()


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="Residents")


def _preview(user: Any, source_id: int, language: str, name: str, data: bytes) -> list[str]:
    api = Api(user)
    api.headers["Accept-Language"] = language
    response = api.upload(f"/sources/{source_id}/preview", name, data)
    assert response.status_code == 422, response.content
    return [response.json()["detail"], *(e["message"] for e in response.json()["errors"])]


def test_a_preview_refused_by_the_reader_is_explained_in_english(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    source = mapped_file_source(Api(catalog_admin), resource)
    messages = _preview(catalog_admin, source, "en", "people.csv", REPEATED)
    assert chinese_in(messages, user_data=["身份证号"]) == [], messages
    assert "The header repeats the column name “身份证号”: columns 1 and 3" in messages


def test_a_preview_refused_by_the_reader_is_explained_in_chinese_by_default(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    source = mapped_file_source(Api(catalog_admin), resource)
    messages = _preview(catalog_admin, source, "zh-hans", "people.csv", REPEATED)
    assert "表头有重复的列名“身份证号”：第 1 列和第 3 列" in messages


def test_a_workbook_without_the_named_sheet_is_explained_in_english(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    body = {"name": "xlsx", "kind": "file", "config": {"format": "xlsx", "sheet": "Population"}}
    created = api.post(f"/resources/{resource.pk}/sources", body)
    assert created.status_code == 201, created.content
    book = openpyxl.Workbook()
    book.active.title = "People"
    book.active.append(["身份证号", "姓名"])
    data = io.BytesIO()
    book.save(data)
    messages = _preview(catalog_admin, created.json()["id"], "en", "people.xlsx", data.getvalue())
    assert "The workbook has no sheet named “Population” (it has: People)" in messages, messages


@pytest.fixture
def failed(catalog_admin, resource) -> Load:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    response = api.upload(f"/sources/{mapped_file_source(api, resource)}/uploads", "people.csv", REPEATED)
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    load = Load.objects.get(pk=response.json()["id"])
    assert load.status == "failed", load.log
    return load


def test_a_failed_loads_stored_error_reads_in_english(catalog_admin, failed) -> None:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    api.headers["Accept-Language"] = "en"
    shown = api.get(f"/loads/{failed.pk}").json()
    assert shown["error"] == "The header repeats the column name “身份证号”: columns 1 and 3"
    assert chinese_in(shown["log"].splitlines(), user_data=["身份证号"]) == [], shown["log"]


def test_a_failed_loads_stored_error_stays_chinese_for_a_chinese_reader(catalog_admin, failed) -> None:  # type: ignore[no-untyped-def]
    shown = Api(catalog_admin).get(f"/loads/{failed.pk}").json()
    assert shown["error"] == failed.error == "表头有重复的列名“身份证号”：第 1 列和第 3 列"
    assert shown["log"] == failed.log


@pytest.mark.parametrize(
    ("stored", "english"),
    [
        ("接口第 3 页返回 HTTP 503（已重试 3 次）", "API page 3 answered HTTP 503 (retried 3 times)"),
        ("接口第 2 页返回 HTTP 401：请检查令牌（凭据）", "API page 2 answered HTTP 401: check the token (credential)"),
        ("接口第 2 页返回 HTTP 418", "API page 2 answered HTTP 418"),
        ("记录路径“$.x[”不是有效的 JSONPath：bad", "The records path “$.x[” is not a valid JSONPath: bad"),
        ("失败：前置库连接失败：timeout", "Failed: Cannot connect to the front database: timeout"),
    ],
)
def test_a_stored_source_error_is_said_again_with_its_values(stored: str, english: str) -> None:
    with translation.override("en"):
        assert logs.readable_text(stored) == english


SOURCE_SENTENCES = [
    *http_api.SENTENCES,
    *xlsx.SENTENCES,
    *rows.SENTENCES,
    *files.SENTENCES,
    *database.SENTENCES,
    *encoding.SENTENCES,
    *readers.SENTENCES,
    *log_lines.SENTENCES,
    *encryption.SENTENCES,
    *connection_policy.SENTENCES,
]


@pytest.mark.parametrize("message", SOURCE_SENTENCES)
def test_each_stored_source_refusal_reads_as_its_own_english_sentence(message: str) -> None:
    values = {name: 7 if kind == "d" else "v" for name, kind in re.findall(r"%\((\w+)\)([sd])", message)}
    stored = message % values  # as a load writes it, in the platform's language
    with translation.override("en"):
        assert logs.readable_text(stored) == gettext(message) % values
        assert chinese_in([logs.readable_text(stored)]) == []

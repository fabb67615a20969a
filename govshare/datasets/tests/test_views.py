"""The data pages: who sees them, registering a source, the mapping page, uploads, load progress, preview, download."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Load
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]
CSV_TEXT = (
    "身份证号,姓名,出生日期\n"
    "11010519491231002X,张三,1949-12-31\n"
    "440524188001010014,李四,1880-01-01\n"
    "510603199001010011,王五,19xx-01-01\n"
)
MAPPING = [
    source_services.MappingEntry("身份证号", "公民身份号码"),
    source_services.MappingEntry("姓名", "姓名"),
    source_services.MappingEntry("出生日期", "出生日期"),
]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def owner(catalog_admin) -> Client:  # type: ignore[no-untyped-def]
    return signed_in(catalog_admin)


def file_source(resource: Resource, actor: User, *, mapped: bool = True) -> Source:
    data = source_services.SourceInput(name="线下报送", kind=SourceKind.FILE, config={"format": "csv"})
    source = source_services.register_source(resource, data, actor=actor)
    return source_services.set_mapping(source, MAPPING, actor=actor) if mapped else source


def loaded(resource: Resource, actor: User, text: str = CSV_TEXT) -> Load:
    source = file_source(resource, actor)
    upload = SimpleUploadedFile("人口.csv", text.encode("gbk"))
    load = services.request_load(source, actor=actor, upload=upload)
    run_load(load.pk)
    load.refresh_from_db()
    return load


def page(client: Client, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- who sees what -------------------------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_login(resource) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(f"/datasets/resources/{resource.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_another_department_gets_404_on_every_data_page(resource, catalog_admin, outsider) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    client = signed_in(outsider)
    urls = [
        f"/datasets/resources/{resource.pk}/",
        f"/datasets/resources/{resource.pk}/sources/new/file/",
        f"/datasets/resources/{resource.pk}/preview/",
        f"/datasets/resources/{resource.pk}/download/?format=csv",
        f"/datasets/sources/{load.source_id}/mapping/",
        f"/datasets/loads/{load.pk}/",
        f"/datasets/loads/{load.pk}/rejects/",
    ]
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 404)
    assert client.post(f"/datasets/loads/{load.pk}/retry/").status_code == 404


def test_the_catalogue_page_shows_the_data_section_only_to_those_who_may_read_it(
    resource, catalog_admin, outsider
) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    own = page(signed_in(catalog_admin), f"/catalog/resources/{resource.pk}/")
    assert f'href="/datasets/resources/{resource.pk}/"' in own
    assert "当前为第 1 版，共 2 条记录" in own  # Delta version 0, counted from 1
    other = page(signed_in(outsider), f"/catalog/resources/{resource.pk}/")
    assert f"/datasets/resources/{resource.pk}/" not in other


def test_platform_admin_sees_the_data_page(resource, catalog_admin, platform_admin) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    html = page(signed_in(platform_admin), f"/datasets/resources/{resource.pk}/")
    assert "第 1 版" in html and "线下报送" in html


# --- the data page ---------------------------------------------------------------------------------------------------


def test_the_data_page_lists_sources_loads_versions_downloads_and_timeliness(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin)
    html = page(owner, f"/datasets/resources/{resource.pk}/")
    assert "线下报送" in html
    assert f'href="/datasets/loads/{load.pk}/"' in html
    assert f'href="/datasets/loads/{load.pk}/rejects/"' in html
    for file_format in ("csv", "xlsx", "json", "parquet"):
        assert f"/datasets/resources/{resource.pk}/download/?version=0&amp;format={file_format}" in html
    assert 'class="badge ok timeliness">及时<' in html
    assert 'name="file"' in html  # the upload form of the file source


def test_a_running_load_makes_the_pages_refresh(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin)
    load = services.request_load(source, actor=catalog_admin, upload=SimpleUploadedFile("a.csv", CSV_TEXT.encode()))
    data_page = owner.get(f"/datasets/resources/{resource.pk}/")
    load_page = owner.get(f"/datasets/loads/{load.pk}/")
    assert data_page["Refresh"] == load_page["Refresh"] == "5"
    run_load(load.pk)
    assert not owner.get(f"/datasets/loads/{load.pk}/").has_header("Refresh")


def test_overdue_data_shows_the_overdue_badge(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from govshare.datasets.models import Dataset

    loaded(resource, catalog_admin)
    Dataset.objects.filter(resource=resource).update(last_success_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert "已超期" in page(owner, f"/datasets/resources/{resource.pk}/")


# --- sources and mapping ------------------------------------------------------------------------------------------


def test_register_a_file_source_then_map_with_a_sample(resource, owner) -> None:  # type: ignore[no-untyped-def]
    response = owner.post(
        f"/datasets/resources/{resource.pk}/sources/new/file/",
        {"name": "季度报送", "load_mode": "full", "file_format": "csv"},
    )
    source = Source.objects.get(resource=resource)
    assert response.status_code == 302 and response["Location"] == f"/datasets/sources/{source.pk}/mapping/"
    html = owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"sample": "1", "file": SimpleUploadedFile("样例.csv", CSV_TEXT.encode("gbk"))},
    ).content.decode()
    assert '<option value="公民身份号码" selected>' in html  # the suggestion for 身份证号, preselected
    assert "11010519491231002X" in html  # sample values next to the column
    response = owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"confirm": "1", "column": ["身份证号", "姓名", "出生日期"], "item_0": "公民身份号码", "item_1": "姓名"},
    )
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.mapping == [{"column": "身份证号", "item": "公民身份号码"}, {"column": "姓名", "item": "姓名"}]


def test_a_mapping_with_an_item_twice_is_refused_with_the_reason(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin, mapped=False)
    response = owner.post(
        f"/datasets/sources/{source.pk}/mapping/",
        {"confirm": "1", "column": ["a", "b"], "item_0": "姓名", "item_1": "姓名"},
    )
    assert response.status_code == 200
    assert "信息项“姓名”被映射了两次" in response.content.decode()
    assert Source.objects.get(pk=source.pk).mapping == []


def test_the_mapping_page_of_a_database_source_reads_its_columns(resource, owner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "front.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table population (sfzh text, xm text)")
        connection.execute("insert into population values ('11010519491231002X', '张三')")
    response = owner.post(
        f"/datasets/resources/{resource.pk}/sources/new/database/",
        {"name": "前置库", "load_mode": "full", "url": f"sqlite:///{database}", "table": "population"},
    )
    assert response.status_code == 302, response.content.decode()
    html = page(owner, response["Location"])
    assert "<code>sfzh</code>" in html and '<option value="公民身份号码" selected>' in html


def test_bad_database_settings_are_shown_next_to_their_field(resource, owner) -> None:  # type: ignore[no-untyped-def]
    response = owner.post(
        f"/datasets/resources/{resource.pk}/sources/new/database/",
        {"name": "前置库", "load_mode": "full", "url": "oracle://host/db"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="url">不支持的数据库类型“oracle”' in html
    assert 'data-field="table">请填写表名或查询语句（二者选一）' in html


def test_a_colleague_without_the_catalogue_role_may_not_register(resource, department) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(testing.make_user(Role.CONSUMER, department=department))
    assert client.get(f"/datasets/resources/{resource.pk}/sources/new/file/").status_code == 403


# --- loads -----------------------------------------------------------------------------------------------------


def test_upload_starts_a_load_that_succeeds(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin)
    response = owner.post(
        f"/datasets/sources/{source.pk}/upload/", {"file": SimpleUploadedFile("人口.csv", CSV_TEXT.encode("gbk"))}
    )
    load = Load.objects.get(source=source)
    assert response["Location"] == f"/datasets/loads/{load.pk}/"
    run_load(load.pk)
    html = page(owner, f"/datasets/loads/{load.pk}/")
    assert "部分拒绝（1 行）" in html and "人口.csv" in html  # one row of CSV_TEXT has a bad date
    assert Load.objects.get(pk=load.pk).status == LoadStatus.SUCCEEDED


def test_a_failed_load_shows_its_error_and_can_be_retried(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(resource, catalog_admin, text="身份证号,姓名,出生日期\nx,张,19xx\n")
    html = page(owner, f"/datasets/loads/{load.pk}/")
    assert 'id="load-error"' in html and "没有可加载的有效记录" in html
    response = owner.post(f"/datasets/loads/{load.pk}/retry/")
    assert response.status_code == 302
    assert Load.objects.get(pk=load.pk).status == LoadStatus.QUEUED


def test_an_upload_without_a_confirmed_mapping_says_so(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    source = file_source(resource, catalog_admin, mapped=False)
    response = owner.post(
        f"/datasets/sources/{source.pk}/upload/", {"file": SimpleUploadedFile("a.csv", CSV_TEXT.encode())}, follow=True
    )
    assert "请先确认字段映射，再发起归集" in response.content.decode()
    assert not Load.objects.exists()


# --- preview and download ----------------------------------------------------------------------------------------


def test_the_preview_page_shows_the_field_dictionary_and_rows_and_is_audited(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    html = page(owner, f"/datasets/resources/{resource.pk}/preview/")
    assert "日期型 (D)" in html
    assert "<td>11010519491231002X</td>" in html and "<td>1949-12-31</td>" in html
    assert AuditLog.objects.filter(actor=catalog_admin, action="datasets.data.preview").count() == 1


def test_the_preview_page_looks_up_rows_by_value(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    html = page(owner, f"/datasets/resources/{resource.pk}/preview/", column="姓名", value="李四")
    assert "<td>440524188001010014</td>" in html and "<td>11010519491231002X</td>" not in html
    assert "以下为“姓名”等于“李四”的记录" in html


def test_a_lookup_on_an_unknown_item_is_explained_and_the_rows_still_shown(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    html = page(owner, f"/datasets/resources/{resource.pk}/preview/", column="住址", value="x")
    assert "数据中没有信息项“住址”，无法按值查询" in html
    assert "<td>11010519491231002X</td>" in html


def test_download_from_the_page_is_streamed_and_audited(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    response = owner.get(f"/datasets/resources/{resource.pk}/download/", {"format": "json", "version": "0"})
    assert response.status_code == 200
    assert AuditLog.objects.filter(actor=catalog_admin, action="datasets.data.download").count() == 1
    assert "张三".encode() in b"".join(response.streaming_content)


def test_a_bad_download_format_is_explained_on_the_data_page(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    response = owner.get(f"/datasets/resources/{resource.pk}/download/", {"format": "pdf"}, follow=True)
    assert "不支持的下载格式“pdf”" in response.content.decode()


def test_the_pages_are_in_english_when_asked(resource, catalog_admin, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(resource, catalog_admin)
    html = owner.get(f"/datasets/resources/{resource.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Load history" in html and "Timely" in html
    preview = owner.get(f"/datasets/resources/{resource.pk}/preview/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Look up by value: item" in preview


def test_the_back_office_lists_sources_and_loads_without_credentials(resource, catalog_admin, platform_admin) -> None:  # type: ignore[no-untyped-def]
    data = source_services.SourceInput(
        name="人口前置库",
        kind=SourceKind.DATABASE,
        config={"url": "postgresql+psycopg://reader:url-pw-5q@10.0.0.5/front", "table": "t"},
        secret="pw-9z7",
    )
    source = source_services.register_source(resource, data, actor=catalog_admin)
    client = signed_in(platform_admin)
    listing = page(client, "/admin/sources/source/")
    assert "人口前置库" in listing
    detail = page(client, f"/admin/sources/source/{source.pk}/change/")
    assert "pw-9z7" not in detail and "url-pw-5q" not in detail
    assert "postgresql+psycopg://reader@10.0.0.5/front" in detail
    assert client.get("/admin/sources/source/add/").status_code == 403
    assert signed_in(catalog_admin).get("/admin/datasets/load/").status_code == 302  # not staff: to the login


def test_register_an_api_source_with_headers_and_paging(resource, owner) -> None:  # type: ignore[no-untyped-def]
    form = {
        "name": "人口接口",
        "load_mode": "full",
        "url": "https://api.example.gov.cn/population",
        "method": "GET",
        "headers": "X-App: govshare\nAccept: application/json",
        "token": "tok-123",
        "records_path": "$.data.list[*]",
        "paging_mode": "page",
        "paging_options": '{"size": 500}',
    }
    response = owner.post(f"/datasets/resources/{resource.pk}/sources/new/http_api/", form)
    assert response.status_code == 302, response.content.decode()
    source = Source.objects.get(resource=resource)
    assert source.config["headers"] == {"X-App": "govshare", "Accept": "application/json"}
    assert source.config["paging"] == {"size": 500, "mode": "page"}
    assert source.secret == "tok-123"


def test_bad_headers_and_paging_are_explained(resource, owner) -> None:  # type: ignore[no-untyped-def]
    form = {
        "name": "人口接口",
        "load_mode": "full",
        "url": "https://api.example.gov.cn/population",
        "method": "GET",
        "headers": "X-App govshare",
        "records_path": "$.data[*]",
        "paging_mode": "page",
        "paging_options": "{size: 500}",
    }
    html = owner.post(f"/datasets/resources/{resource.pk}/sources/new/http_api/", form).content.decode()
    assert "第 1 行应为“名称: 值”" in html
    assert "分页参数不是有效的 JSON：第 2 个字符附近有误" in html
    assert not Source.objects.exists()

"""The datasets API end to end: sources, mapping, loads run for real, previews and downloads with their audit rows."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pyarrow.parquet as pq
import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.models import Resource
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset, Load
from govshare.sources.models import Source
from govshare.testing.datasets import CSV_TEXT, ITEMS, Api, mapped_file_source, register_file_source

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="常住人口基本信息")


@pytest.fixture
def owner(catalog_admin) -> Api:  # type: ignore[no-untyped-def]
    return Api(catalog_admin)


def loaded(api: Api, resource: Resource, text: str = CSV_TEXT) -> Load:
    """A file source reported and loaded: the first version of the dataset (two valid rows, one rejected)."""
    source_id = mapped_file_source(api, resource)
    response = api.upload(f"/sources/{source_id}/uploads", "人口.csv", text.encode("gbk"))
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    return Load.objects.get(pk=response.json()["id"])


# --- permissions -----------------------------------------------------------------------------------------------------


def test_anonymous_caller_gets_401(resource) -> None:  # type: ignore[no-untyped-def]
    response = Api(None).get(f"/resources/{resource.pk}/sources")
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录或令牌无效"


ANONYMOUS_CALLS = [
    ("get", "/resources/1/sources"),
    ("post", "/resources/1/sources"),
    ("get", "/sources/1"),
    ("put", "/sources/1"),
    ("post", "/sources/1/preview"),
    ("put", "/sources/1/mapping"),
    ("post", "/sources/1/loads"),
    ("post", "/sources/1/uploads"),
    ("get", "/resources/1/loads"),
    ("get", "/loads/1"),
    ("post", "/loads/1/retry"),
    ("get", "/loads/1/rejects"),
    ("get", "/resources/1/dataset"),
    ("get", "/resources/1/dataset/versions"),
    ("get", "/resources/1/dataset/preview"),
    ("get", "/resources/1/dataset/download"),
]


@pytest.mark.parametrize(("method", "path"), ANONYMOUS_CALLS)
def test_every_route_refuses_an_anonymous_caller(method: str, path: str) -> None:
    response = getattr(Client(), method)(f"/api/datasets{path}", content_type="application/json")
    assert response.status_code == 401


def test_the_anonymous_list_covers_every_route() -> None:
    from govshare.datasets.api import router

    declared = {
        (m.lower(), p) for p, view in router.path_operations.items() for op in view.operations for m in op.methods
    }
    normalised = {
        (m, p.replace("{resource_id}", "1").replace("{source_id}", "1").replace("{load_id}", "1")) for m, p in declared
    }
    assert normalised == set(ANONYMOUS_CALLS)


def test_another_department_gets_404_everywhere(resource, owner, outsider) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource)
    other = Api(outsider)
    paths = [
        f"/resources/{resource.pk}/sources",
        f"/sources/{load.source_id}",
        f"/resources/{resource.pk}/loads",
        f"/loads/{load.pk}",
        f"/loads/{load.pk}/rejects",
        f"/resources/{resource.pk}/dataset",
        f"/resources/{resource.pk}/dataset/versions",
        f"/resources/{resource.pk}/dataset/preview",
        f"/resources/{resource.pk}/dataset/download",
    ]
    assert {path: other.get(path).status_code for path in paths} == dict.fromkeys(paths, 404)
    assert other.post(f"/resources/{resource.pk}/sources", {"name": "x", "kind": "file"}).status_code == 404
    assert other.post(f"/loads/{load.pk}/retry").status_code == 404
    assert not AuditLog.objects.filter(actor=outsider, action__startswith="datasets.data.").exists()


def test_platform_admin_reads_any_department_data(resource, owner, platform_admin) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    admin = Api(platform_admin)
    assert admin.get(f"/resources/{resource.pk}/sources").status_code == 200
    assert admin.get(f"/resources/{resource.pk}/dataset/preview").status_code == 200
    assert admin.get(f"/resources/{resource.pk}/dataset/download", format="csv").status_code == 200


def test_a_colleague_without_the_catalogue_role_reads_but_may_not_register(resource, department) -> None:  # type: ignore[no-untyped-def]
    colleague = Api(testing.make_user(Role.CONSUMER, department=department))
    assert colleague.get(f"/resources/{resource.pk}/sources").json() == []
    response = colleague.post(f"/resources/{resource.pk}/sources", {"name": "x", "kind": "file"})
    assert response.status_code == 403
    assert response.json()["detail"] == "只有资源所属部门的目录管理员可以管理数据来源和归集"


# --- sources and mapping ---------------------------------------------------------------------------------------


def test_register_a_database_source_keeps_the_password_out_of_answers(resource, owner) -> None:  # type: ignore[no-untyped-def]
    body = {
        "name": "人口前置库",
        "kind": "database",
        "config": {"url": "postgresql+psycopg://reader:s3cret@10.0.0.5:5432/front", "table": "population"},
    }
    response = owner.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 201, response.content
    assert "s3cret" not in response.content.decode()
    assert response.json()["has_secret"] is True
    assert Source.objects.get(pk=response.json()["id"]).secret == "s3cret"


def test_a_bad_source_config_answers_422_per_field(resource, owner) -> None:  # type: ignore[no-untyped-def]
    body = {"name": "", "kind": "database", "config": {"url": "oracle://x/y"}}
    response = owner.post(f"/resources/{resource.pk}/sources", body)
    assert response.status_code == 422
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert fields["name"] == "请填写数据来源名称"
    assert "不支持的数据库类型“oracle”" in fields["config.url"]
    assert fields["config.table"] == "请填写表名或查询语句（二者选一）"


def test_update_a_source(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    body = {"name": "季度报送", "kind": "file", "config": {"format": "csv", "delimiter": ";"}}
    response = owner.put(f"/sources/{source['id']}", body)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["config"]["delimiter"]) == ("季度报送", ";")


def test_preview_of_an_uploaded_sample_suggests_the_mapping(resource, owner, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    response = owner.upload(f"/sources/{source['id']}/preview", "样例.csv", CSV_TEXT.encode("gbk"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["身份证号", "姓名", "出生日期"]
    assert body["rows"][0] == ["11010519491231002X", "张三", "1949-12-31"]
    assert body["encoding"].upper() in {"GBK", "GB18030"}
    assert [s["item_name"] for s in body["suggestions"]] == ["公民身份号码", "姓名", "出生日期"]
    assert AuditLog.objects.filter(actor=catalog_admin, action="sources.source.preview").count() == 1


def test_preview_of_a_file_source_without_a_file_asks_for_one(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    response = owner.post(f"/sources/{source['id']}/preview")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_preview_of_a_database_source_reads_its_table(resource, owner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "front.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table population (sfzh text, xm text, csrq text)")
        connection.execute("insert into population values ('11010519491231002X', '张三', '1949-12-31')")
    body = {"name": "前置库", "kind": "database", "config": {"url": f"sqlite:///{database}", "table": "population"}}
    source = owner.post(f"/resources/{resource.pk}/sources", body).json()
    response = owner.post(f"/sources/{source['id']}/preview")
    assert response.status_code == 200, response.content
    assert response.json()["columns"] == ["sfzh", "xm", "csrq"]
    assert [s["item_name"] for s in response.json()["suggestions"]] == ["公民身份号码", "姓名", "出生日期"]


def test_a_mapping_with_an_item_twice_answers_422_with_each_problem(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    mapping = [{"column": "a", "item": "姓名"}, {"column": "b", "item": "姓名"}, {"column": "c", "item": "籍贯"}]
    response = owner.put(f"/sources/{source['id']}/mapping", {"mapping": mapping, "columns": ["a", "b"]})
    assert response.status_code == 422
    messages = {(e["field"], e["message"]) for e in response.json()["errors"]}
    assert {e.get("column") for e in response.json()["errors"]} == {"b", "c"}
    assert ("mapping[2]", "信息项“姓名”被映射了两次（另见第 1 行），每个信息项只能对应一个来源字段") in messages
    assert ("mapping[3]", "来源中没有字段“c”") in messages
    assert ("mapping[3]", "“籍贯”不是本资源的信息项") in messages


def test_a_malformed_body_answers_422_not_500(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    response = owner.put(f"/sources/{source['id']}/mapping", {"mapping": "身份证号"})
    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数不符合要求"


# --- loads -----------------------------------------------------------------------------------------------------


def test_an_uploaded_file_is_loaded_to_success(resource, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource)
    body = owner.get(f"/loads/{load.pk}").json()
    assert body["status"] == LoadStatus.SUCCEEDED, body["error"]
    assert (body["rows_read"], body["rows_loaded"], body["rows_rejected"], body["version"]) == (3, 2, 1, 0)
    assert body["input_name"] == "人口.csv"
    assert body["has_rejects"] is True
    assert "开始读取来源" in body["log"]


def test_the_load_list_is_paged_newest_first(resource, owner) -> None:  # type: ignore[no-untyped-def]
    first = loaded(owner, resource)
    second = owner.upload(f"/sources/{first.source_id}/uploads", "第二批.csv", CSV_TEXT.encode()).json()
    page = owner.get(f"/resources/{resource.pk}/loads", page_size=1).json()
    assert (page["total"], page["page_size"], [load["id"] for load in page["items"]]) == (2, 1, [second["id"]])
    assert page["items"][0]["status"] == LoadStatus.QUEUED


def test_a_database_source_is_loaded_through_a_json_request(resource, owner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / "front.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table population (sfzh text, xm text, csrq text)")
        connection.execute("insert into population values ('11010519491231002X', '张三', '1949-12-31')")
    body = {"name": "前置库", "kind": "database", "config": {"url": f"sqlite:///{database}", "table": "population"}}
    source = owner.post(f"/resources/{resource.pk}/sources", body).json()
    mapping = [{"column": "sfzh", "item": "公民身份号码"}, {"column": "xm", "item": "姓名"}]
    assert owner.put(f"/sources/{source['id']}/mapping", {"mapping": mapping}).status_code == 200
    response = owner.post(f"/sources/{source['id']}/loads", {"mode": "full"})
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    detail = owner.get(f"/loads/{response.json()['id']}").json()
    assert (detail["status"], detail["rows_loaded"]) == (LoadStatus.SUCCEEDED, 1)


def test_a_file_source_refuses_a_json_load_request(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    response = owner.post(f"/sources/{source_id}/loads", {})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


def test_a_load_before_the_mapping_is_confirmed_answers_409(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source = register_file_source(owner, resource)
    response = owner.upload(f"/sources/{source['id']}/uploads", "a.csv", CSV_TEXT.encode())
    assert response.status_code == 409
    assert response.json()["detail"] == "请先确认字段映射，再发起归集"


def test_an_unknown_load_mode_answers_422(resource, owner) -> None:  # type: ignore[no-untyped-def]
    source_id = mapped_file_source(owner, resource)
    response = owner.upload(f"/sources/{source_id}/uploads", "a.csv", CSV_TEXT.encode(), mode="sometimes")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mode"


def test_a_failed_load_is_retried(resource, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource, text="身份证号,姓名,出生日期\nx,张,19xx\n")
    assert owner.get(f"/loads/{load.pk}").json()["status"] == LoadStatus.FAILED
    response = owner.post(f"/loads/{load.pk}/retry")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error"]) == (LoadStatus.QUEUED, "")
    assert owner.post(f"/loads/{load.pk}/retry").status_code == 409


def test_the_rejects_file_is_downloaded_and_recorded(resource, owner, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource)
    response = owner.get(f"/loads/{load.pk}/rejects")
    assert response.status_code == 200
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    code = resource.code.replace("/", "-")
    assert response["Content-Disposition"].endswith(quote(f"{code}_归集{load.pk}_拒绝记录.csv"))
    assert lines[0] == "行号,列,原因,原始值"
    assert lines[1].startswith("4,出生日期,")
    assert AuditLog.objects.filter(actor=catalog_admin, action="datasets.rejects.download").exists()


# --- dataset: versions, preview, download ----------------------------------------------------------------------------


def test_dataset_summary_with_fields_versions_and_timeliness(resource, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource)
    body = owner.get(f"/resources/{resource.pk}/dataset").json()
    assert (body["current_version"], body["row_count"], body["timely"]) == (0, 2, True)
    assert [f["name"] for f in body["fields"]] == ["公民身份号码", "姓名", "出生日期"]
    assert body["versions"] == [
        {
            "version": 0,
            "load_id": load.pk,
            "mode": "full",
            "rows_loaded": 2,
            "rows_deleted": 0,
            "created_at": body["versions"][0]["created_at"],
            "is_current": True,
            "available": True,
        }
    ]


def test_a_resource_without_data_answers_404_in_chinese(resource, owner) -> None:  # type: ignore[no-untyped-def]
    response = owner.get(f"/resources/{resource.pk}/dataset/preview")
    assert response.status_code == 404
    assert response.json()["detail"] == "该资源尚无归集数据"


def test_preview_shows_the_first_rows_with_the_field_dictionary(resource, owner, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    response = owner.get(f"/resources/{resource.pk}/dataset/preview", limit=1)
    assert response.status_code == 200
    body = response.json()
    assert body["fields"][2] == {
        "name": "出生日期",
        "data_type": "D",
        "data_type_label": "日期型",
        "length": None,
        "description": "公历",
    }
    assert body["rows"] == [["11010519491231002X", "张三", "1949-12-31"]]
    assert (body["version"], body["total_rows"]) == (0, 2)
    audit = AuditLog.objects.get(actor=catalog_admin, action="datasets.data.preview")
    assert (audit.extra["version"], audit.extra["rows"]) == (0, 1)


def test_a_preview_limit_out_of_range_answers_422(resource, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    response = owner.get(f"/resources/{resource.pk}/dataset/preview", limit=100_000)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def download(api: Api, resource: Resource, file_format: str, **params: Any) -> tuple[Any, bytes]:
    response = api.get(f"/resources/{resource.pk}/dataset/download", format=file_format, **params)
    assert response.status_code == 200, response.content
    return response, b"".join(response.streaming_content)


def test_download_csv(resource, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    response, data = download(owner, resource, "csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    code = resource.code.replace("/", "-")
    assert response["Content-Disposition"] == f'attachment; filename="{code}_v0.csv"'
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["公民身份号码", "姓名", "出生日期"],
        ["11010519491231002X", "张三", "1949-12-31"],
        ["440524188001010014", "李四", "1880-01-01"],
    ]


def test_download_json_xlsx_parquet(resource, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    assert json.loads(download(owner, resource, "json")[1])[0] == {
        "公民身份号码": "11010519491231002X",
        "姓名": "张三",
        "出生日期": "1949-12-31",
    }
    sheet = openpyxl.load_workbook(io.BytesIO(download(owner, resource, "xlsx")[1]))["数据"]
    assert [cell.value for cell in sheet[3]] == ["440524188001010014", "李四", "1880-01-01"]
    table = pq.read_table(io.BytesIO(download(owner, resource, "parquet")[1]))
    assert table.column("姓名").to_pylist() == ["张三", "李四"]


def test_every_download_is_recorded_before_the_first_byte(resource, owner, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    response = owner.get(f"/resources/{resource.pk}/dataset/download", format="xlsx", version=0)
    # Nothing of the body has been read yet: the audit row is already there.
    audit = AuditLog.objects.get(actor=catalog_admin, action="datasets.data.download")
    assert (audit.extra["format"], audit.extra["version"], audit.object_id) == ("xlsx", 0, str(resource.dataset.pk))
    assert b"".join(response.streaming_content).startswith(b"PK")


def test_an_older_version_stays_downloadable(resource, owner) -> None:  # type: ignore[no-untyped-def]
    first = loaded(owner, resource)
    second = owner.upload(
        f"/sources/{first.source_id}/uploads",
        "2.csv",
        "身份证号,姓名,出生日期\n11010519491231002X,张三丰,1949-12-31\n".encode(),
    ).json()
    run_load(second["id"])
    assert json.loads(download(owner, resource, "json")[1]) == [
        {"公民身份号码": "11010519491231002X", "姓名": "张三丰", "出生日期": "1949-12-31"}
    ]
    assert len(json.loads(download(owner, resource, "json", version=0)[1])) == 2
    versions = owner.get(f"/resources/{resource.pk}/dataset/versions").json()
    assert [(v["version"], v["is_current"]) for v in versions] == [(1, True), (0, False)]


def test_a_version_cleaned_up_by_the_retention_policy_answers_404(resource, owner) -> None:  # type: ignore[no-untyped-def]
    first = loaded(owner, resource)
    Dataset.objects.filter(resource=resource).update(keep_versions=1)
    second = owner.upload(f"/sources/{first.source_id}/uploads", "2.csv", CSV_TEXT.encode()).json()
    run_load(second["id"])
    response = owner.get(f"/resources/{resource.pk}/dataset/download", version=0)
    assert (response.status_code, response.json()["detail"]) == (
        404,
        "数据版本 0 已按保留策略（保留最近 1 个版本）清理",
    )
    versions = owner.get(f"/resources/{resource.pk}/dataset/versions").json()
    assert [(v["version"], v["available"]) for v in versions] == [(1, True), (0, False)]


def test_download_bad_format_or_version(resource, owner) -> None:  # type: ignore[no-untyped-def]
    loaded(owner, resource)
    bad_format = owner.get(f"/resources/{resource.pk}/dataset/download", format="pdf")
    assert bad_format.status_code == 422
    assert bad_format.json()["errors"][0]["message"] == "不支持的下载格式“pdf”，可选 csv、xlsx、json、parquet"
    missing = owner.get(f"/resources/{resource.pk}/dataset/download", version=7)
    assert (missing.status_code, missing.json()["detail"]) == (404, "数据版本 7 不存在")


def test_openapi_documents_the_download_formats() -> None:
    from govshare.api import api

    operation = api.get_openapi_schema()["paths"]["/api/datasets/resources/{resource_id}/dataset/download"]["get"]
    responses = {str(code): answer for code, answer in operation["responses"].items()}
    assert set(responses["200"]["content"]) >= {
        "text/csv; charset=utf-8",
        "application/vnd.apache.parquet",
    }


def test_path_of_a_rejects_file_outside_the_data_directory_is_never_served(resource, owner) -> None:  # type: ignore[no-untyped-def]
    load = loaded(owner, resource)
    Load.objects.filter(pk=load.pk).update(rejects_path=str(Path("/etc/passwd")))
    assert owner.get(f"/loads/{load.pk}/rejects").status_code == 404


def test_preview_of_a_database_that_is_down_answers_502_in_chinese(resource, owner) -> None:  # type: ignore[no-untyped-def]
    body = {
        "name": "前置库",
        "kind": "database",
        "config": {"url": "postgresql+psycopg://reader@127.0.0.1:1/front", "table": "population"},
    }
    source = owner.post(f"/resources/{resource.pk}/sources", body).json()
    response = owner.post(f"/sources/{source['id']}/preview")
    assert response.status_code == 502
    assert response.json()["detail"].startswith("无法读取数据来源：")

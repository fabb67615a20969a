"""The import over the API and on the page: same service, same report, size limit before parsing."""

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import importing
from govshare.catalog.models import ImportBatch, Resource
from govshare.testing.api import bearer, upload
from govshare.testing.xlsx_files import item_rows, resource_row, valid_file, xlsx

FIFTY_MB = 50 * 1024 * 1024


# ---------------------------------------------------------------------------------------------- API


@pytest.mark.django_db
def test_api_imports_a_valid_file_and_answers_with_the_batch(catalog_admin, department) -> None:
    response = Client().post(
        "/api/catalog/imports",
        {"file": upload(valid_file(department.code))},
        headers=bearer(catalog_admin, name="导入脚本"),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["batch"]["outcome"] == "imported" and body["batch"]["created_count"] == 2
    assert len(body["created_codes"]) == 2 and body["errors"] == []
    assert Resource.objects.filter(code__in=body["created_codes"]).count() == 2


@pytest.mark.django_db
def test_api_refuses_a_bad_file_with_422_and_the_report(catalog_admin, department) -> None:
    data = xlsx([resource_row(1, department.code, 开放属性="全部开放")], item_rows(1))
    response = Client().post(
        "/api/catalog/imports", {"file": upload(data)}, headers=bearer(catalog_admin, name="导入脚本")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["batch"]["outcome"] == "refused" and body["detail"].startswith("文件未导入：共 1 个问题")
    [error] = body["errors"]
    assert (error["sheet"], error["row"], error["column"], error["header"]) == ("信息资源", 2, "M", "开放属性")
    assert error["message"].startswith("开放属性“全部开放”无效")
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_api_refuses_a_50_mb_upload_naming_the_limit_without_reading_it(catalog_admin) -> None:
    data = b"PK\x03\x04" + bytes(FIFTY_MB)
    response = Client().post(
        "/api/catalog/imports", {"file": upload(data)}, headers=bearer(catalog_admin, name="导入脚本")
    )
    assert response.status_code == 422
    body = response.json()
    assert "导入大小上限 20 MB" in body["errors"][0]["message"]
    batch = ImportBatch.objects.get()
    assert batch.outcome == "refused" and batch.file_size > FIFTY_MB and batch.sha256 == ""


@pytest.mark.django_db
def test_upload_limit_stops_reading_at_the_limit() -> None:
    from django.core.files.uploadhandler import StopUpload

    handler = importing.UploadSizeLimit()
    handler.handle_raw_input(None, {}, 1000, b"x")
    handler.new_file("file", "a.xlsx", "application/octet-stream", 1000)
    limit = handler.limit
    assert handler.receive_data_chunk(b"a" * 1024, limit - 1024) == b"a" * 1024
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"a", limit)
    assert handler.exceeded and handler.size == limit + 1


@pytest.mark.django_db
def test_api_without_a_file_answers_422(catalog_admin) -> None:
    response = Client().post("/api/catalog/imports", {}, headers=bearer(catalog_admin, name="导入脚本"))
    assert response.status_code == 422 and "字段 file" in response.json()["detail"]


@pytest.mark.django_db
def test_api_import_by_a_consumer_is_forbidden(department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    response = Client().post(
        "/api/catalog/imports", {"file": upload(valid_file(department.code))}, headers=bearer(consumer, name="导入脚本")
    )
    assert response.status_code == 403 and response.json()["detail"].startswith("只有部门目录管理员和平台管理员")


@pytest.mark.django_db
def test_api_import_needs_a_signed_in_caller(department) -> None:
    response = Client().post("/api/catalog/imports", {"file": upload(valid_file(department.code))})
    assert response.status_code == 401
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_api_lists_only_my_batches_and_hides_others(catalog_admin, outsider, department) -> None:
    mine = importing.import_catalog(io.BytesIO(b""), file_name="mine.xlsx", actor=catalog_admin).batch
    theirs = importing.import_catalog(io.BytesIO(b""), file_name="theirs.xlsx", actor=outsider).batch
    client = Client()
    body = client.get("/api/catalog/imports", headers=bearer(catalog_admin, name="导入脚本")).json()
    assert body["total"] == 1 and body["items"][0]["file_name"] == "mine.xlsx"
    detail = client.get(f"/api/catalog/imports/{mine.pk}", headers=bearer(catalog_admin, name="导入脚本")).json()
    assert detail["report"][0]["message"].startswith("文件为空")
    assert (
        client.get(f"/api/catalog/imports/{theirs.pk}", headers=bearer(catalog_admin, name="导入脚本")).status_code
        == 404
    )


@pytest.mark.django_db
def test_api_template_download_is_a_workbook_with_my_department(catalog_admin, department) -> None:
    response = Client().get("/api/catalog/import-template", headers=bearer(catalog_admin, name="导入脚本"))
    assert response.status_code == 200 and response["Content-Type"] == importing.XLSX_CONTENT_TYPE
    book = load_workbook(io.BytesIO(response.content))
    assert book["信息资源"]["D2"].value == department.code


# ---------------------------------------------------------------------------------------------- page


@pytest.fixture
def signed_in(catalog_admin) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    return client


@pytest.mark.django_db
def test_import_page_shows_the_form_and_the_template_link(signed_in) -> None:
    response = signed_in.get(reverse("catalog:import"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("catalog:import_template") in html and 'type="file"' in html and "20 MB" in html


@pytest.mark.django_db
def test_import_page_imports_and_lists_the_batch(signed_in, department) -> None:
    response = signed_in.post(reverse("catalog:import"), {"file": upload(valid_file(department.code, 3))})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已导入 3 条信息资源（草稿）" in html and "目录.xlsx" in html
    assert Resource.objects.count() == 3


@pytest.mark.django_db
def test_import_page_shows_the_report_as_a_table(signed_in, department) -> None:
    data = xlsx([resource_row(1, department.code, 共享条件=None)], item_rows(1))
    response = signed_in.post(reverse("catalog:import"), {"file": upload(data)})
    assert response.status_code == 422
    html = response.content.decode()
    assert "文件未导入：发现 1 个问题" in html and "数据库未做任何修改" in html
    assert "<td>信息资源</td><td>2</td><td>共享条件（I列）</td><td>有条件共享的资源必须填写共享条件</td>" in html
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_import_page_refuses_a_50_mb_file_naming_the_limit(signed_in) -> None:
    response = signed_in.post(reverse("catalog:import"), {"file": upload(b"PK\x03\x04" + bytes(FIFTY_MB))})
    assert response.status_code == 422
    assert "文件超过导入大小上限 20 MB" in response.content.decode()
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_import_page_checks_the_csrf_token(catalog_admin, department) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    response = client.post(reverse("catalog:import"), {"file": upload(valid_file(department.code))})
    assert response.status_code == 403
    assert Resource.objects.count() == 0 and ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_import_page_is_forbidden_to_consumers(department) -> None:
    client = Client()
    client.force_login(testing.make_user(Role.CONSUMER, department=department))
    assert client.get(reverse("catalog:import")).status_code == 403


@pytest.mark.django_db
def test_batch_page_shows_the_stored_report_to_its_owner_only(signed_in, outsider, department) -> None:
    data = xlsx([resource_row(1, department.code)], item_rows(9))
    batch = importing.import_catalog(io.BytesIO(data), file_name="a.xlsx", actor=outsider).batch
    assert signed_in.get(reverse("catalog:import_batch", args=[batch.pk])).status_code == 404
    client = Client()
    client.force_login(outsider)
    html = client.get(reverse("catalog:import_batch", args=[batch.pk])).content.decode()
    assert "资源序号“9”在“信息资源”工作表中不存在" in html


@pytest.mark.django_db
def test_template_page_download(signed_in) -> None:
    response = signed_in.get(reverse("catalog:import_template"))
    assert response.status_code == 200 and response["Content-Type"] == importing.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.django_db
def test_api_import_with_the_browser_session_needs_the_csrf_token(catalog_admin, department) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    refused = client.post("/api/catalog/imports", {"file": upload(valid_file(department.code))})
    assert refused.status_code in (401, 403) and Resource.objects.count() == 0
    client.get(reverse("catalog:import"))  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/catalog/imports", {"file": upload(valid_file(department.code))}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.content
    assert Resource.objects.count() == 2

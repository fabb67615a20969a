"""Export of a filtered list: the import template's columns in .xlsx, UTF-8 with BOM in .csv, scoped and streamed."""

import csv
import io

import pytest
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from govshare.catalog import exporting, importing, services
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft
from govshare.testing.api import bearer


def published(user, admin, department, **overrides) -> Resource:  # type: ignore[no-untyped-def]
    resource = services.create_resource(resource_draft(department, **overrides), actor=user)
    services.submit_resource(resource, actor=user)
    return services.publish_resource(resource, actor=admin)


def body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_xlsx_export_uses_the_import_template_columns_with_codes_and_labels(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    response = signed_in(catalog_admin).get(reverse("catalog:export"), {"format": "xlsx"})
    assert response.status_code == 200 and isinstance(response, FileResponse)
    assert response["Content-Type"] == importing.XLSX_CONTENT_TYPE
    book = load_workbook(io.BytesIO(body(response)))
    rows = list(book["信息资源"].iter_rows(values_only=True))
    assert list(rows[0]) == [c.header for c in importing.RESOURCE_COLUMNS]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["信息资源代码"] == resource.code and row["提供方代码"] == department.code
    assert (row["共享属性"], row["更新周期"], row["共享方式类型"]) == ("有条件共享", "每日", "接口")
    items = list(book["信息项"].iter_rows(values_only=True))
    assert items[1][:4] == (1, "公民身份号码", "字符型", 18) and len(items) == 4


@pytest.mark.django_db
def test_exported_xlsx_reads_back_as_the_same_drafts_and_its_codes_are_taken(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    buffer = io.BytesIO()
    exporting.write_xlsx(exporting.export_queryset(catalog_admin, exporting.parse_export_query({})), buffer)
    buffer.seek(0)
    parsed = importing.parse_workbook(buffer)
    assert parsed.problems == []
    [read] = parsed.resources
    assert (read.draft.name, read.draft.code, read.draft.share_type) == (resource.name, resource.code, "conditional")
    assert [(i.name, i.data_type, i.length) for i in read.draft.items] == [
        ("公民身份号码", "C", 18),
        ("姓名", "C", 50),
        ("出生日期", "D", None),
    ]
    # Re-importing the same codes as new entries is refused: codes are never reused.
    [problem] = importing.validate(parsed, actor=catalog_admin).problems
    assert problem.message == f"信息资源代码“{resource.code}”已被平台中的资源使用"


@pytest.mark.django_db
def test_edited_export_without_codes_imports_again(catalog_admin, department) -> None:
    services.create_resource(resource_draft(department), actor=catalog_admin)
    buffer = io.BytesIO()
    exporting.write_xlsx(exporting.export_queryset(catalog_admin, exporting.parse_export_query({})), buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = book["信息资源"]
    sheet.cell(row=2, column=[c.field for c in importing.RESOURCE_COLUMNS].index("code") + 1).value = None
    sheet["B2"] = "常住人口户籍登记信息（区县）"
    edited = io.BytesIO()
    book.save(edited)
    edited.seek(0)
    result = importing.import_catalog(edited, file_name="edited.xlsx", actor=catalog_admin)
    assert result.imported, result.problems
    assert Resource.objects.filter(name="常住人口户籍登记信息（区县）").count() == 1


@pytest.mark.django_db
def test_csv_export_is_utf8_with_bom_one_line_per_resource(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    response = signed_in(catalog_admin).get(reverse("catalog:export"), {"format": "csv"})
    assert isinstance(response, StreamingHttpResponse) and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == exporting.CSV_HEADERS and len(rows) == 2
    line = dict(zip(rows[0], rows[1], strict=True))
    assert line["信息资源代码"] == resource.code and line["提供方"] == department.name
    assert line["审核状态"] == "草稿" and line["信息项"] == "公民身份号码(字符型,18)；姓名(字符型,50)；出生日期(日期型)"


@pytest.mark.django_db
def test_export_holds_only_what_the_user_may_see(catalog_admin, platform_admin, outsider, department) -> None:
    services.create_resource(resource_draft(department, name="本部门草稿"), actor=catalog_admin)
    published(catalog_admin, platform_admin, department, name="已发布资源")
    response = signed_in(outsider).get(reverse("catalog:export"), {"format": "csv"})
    names = [row[1] for row in csv.reader(io.StringIO(body(response).decode("utf-8-sig")))][1:]
    assert names == ["已发布资源"]


@pytest.mark.django_db
def test_export_applies_the_browse_filters_and_tells_the_two_formats_apart(catalog_admin, department) -> None:
    services.create_resource(resource_draft(department, name="数据库资源"), actor=catalog_admin)
    services.create_resource(
        resource_draft(department, name="文件资源", format="file", platform_share_type="file", sub_format="pdf"),
        actor=catalog_admin,
    )
    client = signed_in(catalog_admin)
    response = client.get(reverse("catalog:export") + "?format=file&share_type=conditional&format=csv")
    names = [row[1] for row in csv.reader(io.StringIO(body(response).decode("utf-8-sig")))][1:]
    assert names == ["文件资源"]


@pytest.mark.django_db
def test_export_with_a_query_uses_the_full_text_search(catalog_admin, department) -> None:
    services.create_resource(resource_draft(department, name="婚姻登记信息"), actor=catalog_admin)
    services.create_resource(resource_draft(department, name="机动车登记信息"), actor=catalog_admin)
    response = signed_in(catalog_admin).get(reverse("catalog:export"), {"format": "csv", "q": "婚姻"})
    names = [row[1] for row in csv.reader(io.StringIO(body(response).decode("utf-8-sig")))][1:]
    assert names == ["婚姻登记信息"]


@pytest.mark.django_db
def test_text_that_looks_like_a_formula_is_exported_as_text(catalog_admin, department) -> None:
    services.create_resource(resource_draft(department, name="=HYPERLINK(1)"), actor=catalog_admin)
    xlsx = body(signed_in(catalog_admin).get(reverse("catalog:export")))
    cell = load_workbook(io.BytesIO(xlsx))["信息资源"]["B2"]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"
    csv_data = body(signed_in(catalog_admin).get(reverse("catalog:export"), {"format": "csv"})).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in csv_data


@pytest.mark.django_db
def test_two_export_formats_at_once_are_refused(catalog_admin) -> None:
    response = signed_in(catalog_admin).get(reverse("catalog:export") + "?format=csv&format=xlsx")
    assert response.status_code == 400 and "只能给一个导出格式" in response.content.decode()


@pytest.mark.django_db
def test_api_export_streams_csv_for_token_holders(catalog_admin, department) -> None:
    services.create_resource(
        resource_draft(department, items=[ItemDraft(name="姓名", data_type="C", length=50)]), actor=catalog_admin
    )
    response = Client().get("/api/catalog/export?format=csv", headers=bearer(catalog_admin, scope="read", name="导出"))
    assert response.status_code == 200 and response.streaming
    assert body(response).decode("utf-8-sig").count("\n") == 2


@pytest.mark.django_db
def test_api_export_of_an_unknown_pair_of_formats_is_422(catalog_admin) -> None:
    response = Client().get(
        "/api/catalog/export?format=csv&format=xlsx", headers=bearer(catalog_admin, scope="read", name="导出")
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "format"

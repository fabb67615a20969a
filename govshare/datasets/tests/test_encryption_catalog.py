"""The 静态加密 designation of an information item (Item.at_rest, issue 5 M30) through the catalogue: services, API,
Excel import and export, version differences."""

from __future__ import annotations

import io

import pytest

from govshare import testing
from govshare.accounts.models import Department, User
from govshare.catalog import importing, services
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.errors import ValidationFailed
from govshare.testing.xlsx_files import item_rows, resource_row, xlsx

pytestmark = pytest.mark.django_db


def _draft(department: Department, **at_rest: str) -> ResourceDraft:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18),
        ItemDraft(name="手机号码", data_type="C", length=11, at_rest=at_rest.get("phone", "")),
    ]
    return testing.resource_draft(department, items=items)


def test_a_new_item_is_plain_unless_designated(department: Department, catalog_admin: User) -> None:
    resource = services.create_resource(_draft(department, phone="searchable"), actor=catalog_admin)
    assert dict(resource.items.values_list("name", "at_rest")) == {"公民身份号码": "plain", "手机号码": "searchable"}


def test_an_unknown_designation_is_refused_naming_the_item(department: Department, catalog_admin: User) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_resource(_draft(department, phone="secret"), actor=catalog_admin)
    [problem] = refused.value.problems
    assert problem.field == "items[2].at_rest"
    assert problem.message == "第2个信息项的静态加密“secret”无效，可选：明文、加密、加密可检索"


def test_an_edit_that_leaves_the_designation_blank_keeps_it_and_the_change_is_in_the_version_diff(
    department: Department, catalog_admin: User
) -> None:
    resource = services.create_resource(_draft(department, phone="encrypted"), actor=catalog_admin)
    services.update_resource(resource, _draft(department), actor=catalog_admin)
    assert resource.items.get(name="手机号码").at_rest == "encrypted"
    services.update_resource(resource, _draft(department, phone="searchable"), actor=catalog_admin)
    changes = resource.versions.order_by("-number").first().changes  # type: ignore[union-attr]
    assert {
        "field": "items.at_rest",
        "label": "信息项“手机号码”的静态加密",
        "old": "加密",
        "new": "加密可检索",
    } in changes


def test_the_api_takes_and_shows_the_designation(client, department: Department, catalog_admin: User) -> None:  # type: ignore[no-untyped-def]
    client.force_login(catalog_admin)
    resource = services.create_resource(_draft(department, phone="searchable"), actor=catalog_admin)
    body = client.get(f"/api/catalog/resources/{resource.pk}").json()
    assert [(item["name"], item["at_rest"]) for item in body["items"]] == [
        ("公民身份号码", "plain"),
        ("手机号码", "searchable"),
    ]


def test_the_excel_import_reads_the_column_and_the_export_writes_it(
    department: Department, catalog_admin: User
) -> None:
    rows = [*item_rows(1, "统一社会信用代码"), *item_rows(1, "联系电话", 静态加密="加密可检索")]
    result = importing.import_catalog(
        io.BytesIO(xlsx([resource_row(1, department.code)], rows)), file_name="a.xlsx", actor=catalog_admin
    )
    assert result.imported, result.problems
    resource = Resource.objects.get(name="企业登记基本信息1")
    assert resource.items.get(name="联系电话").at_rest == "searchable"
    header = [column.header for column in importing.ITEM_COLUMNS]
    exported = dict(
        zip(header, importing.item_row_values(resource.items.get(name="联系电话"), 1, resource), strict=True)
    )
    assert exported["静态加密"] == "加密可检索"
    plain = dict(
        zip(header, importing.item_row_values(resource.items.get(name="统一社会信用代码"), 1, resource), strict=True)
    )
    assert plain["静态加密"] is None  # blank: 明文

"""Threat: one imported code exhausts a class's 顺序码 for every department.

Found before the fix: an import may give explicit codes, and the class's sequence was moved past them; one row with
code `…/999999`, imported by any department catalogue administrator, left the sequence at its end, and every later
resource of that class, whatever its department, was refused (409 顺序码已用尽) for good. Codes stay unique and are
never reused (domain.md §3); now explicit codes do not move the sequence, which hands out the smallest number above
its last one that no resource holds or held, so an explicit code, however high, takes only itself.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.catalog import importing, services
from govshare.catalog.models import CodeSequence, Resource, RetiredResourceCode
from govshare.core.errors import Conflict
from govshare.testing import resource_draft
from govshare.testing.api import bearer, upload
from govshare.testing.xlsx_files import item_rows, resource_row, xlsx

pytestmark = pytest.mark.django_db

CLASS = "101"  # 基础-人口: the prefix 101000000


def _import(rows: list[dict[str, object]], actor) -> importing.ImportResult:  # type: ignore[no-untyped-def]
    items = [item for n in range(1, len(rows) + 1) for item in item_rows(n)]
    return importing.import_catalog(io.BytesIO(xlsx(rows, items)), file_name="目录.xlsx", actor=actor)


def test_an_imported_999999_leaves_the_class_open_to_every_department(catalog_admin, department) -> None:
    attack = _import([resource_row(1, department.code, 分类码=CLASS, 信息资源代码="101000000/999999")], catalog_admin)
    assert attack.imported, attack.problems
    same_department = services.create_resource(resource_draft(department), actor=catalog_admin)
    other_department = testing.make_department("市民政局")
    other_admin = testing.make_user(Role.CATALOG_ADMIN, department=other_department)
    other = services.create_resource(resource_draft(other_department, name="婚姻登记信息"), actor=other_admin)
    assert (same_department.code, other.code) == ("101000000/000001", "101000000/000002")
    assert Resource.objects.filter(code="101000000/999999").exists()


def test_the_attack_over_the_api_then_a_new_resource_over_the_api(catalog_admin, department) -> None:
    client, headers = Client(), bearer(catalog_admin, name="导入脚本")
    data = xlsx([resource_row(1, department.code, 分类码=CLASS, 信息资源代码="101000000/999999")], item_rows(1))
    assert client.post("/api/catalog/imports", {"file": upload(data)}, headers=headers).status_code == 200
    payload = {
        "name": "流动人口登记信息",
        "category_code": CLASS,
        "summary": "流动人口的登记信息。",
        "format": "database",
        "share_type": "unconditional",
        "share_method": "platform",
        "platform_share_type": "api",
        "open_type": "not_open",
        "update_cycle": "daily",
        "items": [{"name": "公民身份号码", "data_type": "C", "length": 18}],
    }
    response = client.post("/api/catalog/resources", payload, content_type="application/json", headers=headers)
    assert response.status_code == 201, response.content
    assert response.json()["code"] == "101000000/000001"


def test_the_sequence_skips_an_imported_code_when_it_gets_there(catalog_admin, department) -> None:
    assert _import(
        [resource_row(1, department.code, 分类码=CLASS, 信息资源代码="101000000/000002")], catalog_admin
    ).imported
    codes = [services.create_resource(resource_draft(department), actor=catalog_admin).code for _ in range(3)]
    assert codes == ["101000000/000001", "101000000/000003", "101000000/000004"]


def test_rows_without_a_code_never_get_a_code_given_in_the_same_file(catalog_admin, department) -> None:
    rows = [
        resource_row(1, department.code, 分类码=CLASS),
        resource_row(2, department.code, 分类码=CLASS, 信息资源代码="101000000/000001"),
        resource_row(3, department.code, 分类码=CLASS),
    ]
    result = _import(rows, catalog_admin)
    assert result.imported, result.problems
    assert sorted(r.code for r in result.created) == ["101000000/000001", "101000000/000002", "101000000/000003"]
    assert CodeSequence.objects.get(prefix="101000000").last_value == 3


def test_a_sequence_an_old_import_pushed_to_the_end_hands_out_numbers_never_given(catalog_admin, department) -> None:
    # The state the old code left: 000001 given and then retired, 999999 imported, the sequence at its end.
    first = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.delete_resource(first, actor=catalog_admin)
    assert _import(
        [resource_row(1, department.code, 分类码=CLASS, 信息资源代码="101000000/999999")], catalog_admin
    ).imported
    CodeSequence.objects.filter(prefix="101000000").update(last_value=999_999)
    created = services.create_resource(resource_draft(department), actor=catalog_admin)
    assert created.code == "101000000/000002"  # 000001 is retired: never handed out again
    assert RetiredResourceCode.objects.filter(code="101000000/000001").exists()


def test_a_class_whose_numbers_are_all_used_is_refused_naming_it(catalog_admin, department, monkeypatch) -> None:
    monkeypatch.setattr(services, "_LAST_NUMBER", 3)
    for _ in range(3):
        services.create_resource(resource_draft(department), actor=catalog_admin)
    with pytest.raises(Conflict, match="分类“101000000”下的顺序码已用尽"):
        services.create_resource(resource_draft(department), actor=catalog_admin)


def test_codes_in_full_width_digits_are_refused(catalog_admin, department) -> None:
    code = "１０１００００００/９９９９９９"
    result = _import([resource_row(1, department.code, 分类码=CLASS, 信息资源代码=code)], catalog_admin)
    assert not result.imported
    assert any("格式应为9位分类码/6位顺序码" in p.message for p in result.problems)

import io

import pytest
from openpyxl import load_workbook

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog import importing
from govshare.catalog.models import ImportBatch, Item, Resource, ResourceVersion
from govshare.core.errors import PermissionDenied
from govshare.testing.xlsx_files import (
    RESOURCE_HEADERS,
    item_rows,
    resource_row,
    to_bytes,
    valid_file,
    workbook,
    xlsx,
)


def run(data: bytes, user, name: str = "目录.xlsx") -> importing.ImportResult:  # type: ignore[no-untyped-def]
    return importing.import_catalog(io.BytesIO(data), file_name=name, actor=user)


@pytest.mark.django_db
def test_valid_file_imports_every_resource_as_a_draft_with_its_items(catalog_admin, department) -> None:
    result = run(valid_file(department.code, count=3), catalog_admin)
    assert result.imported, result.problems
    assert Resource.objects.filter(department=department, status="draft").count() == 3
    assert Item.objects.filter(resource__department=department).count() == 6
    assert result.batch.created_count == 3 and result.batch.row_count == 3


@pytest.mark.django_db
def test_chinese_labels_become_choice_values(catalog_admin, department) -> None:
    items = [
        {"资源序号": 1, "信息项名称": "注册资本", "数据类型": "N", "数据长度": 18},
        {"资源序号": 1, "信息项名称": "成立日期", "数据类型": "日期型", "共享属性": "不予共享", "开放属性": "不予开放"},
    ]
    run(xlsx([resource_row(1, department.code)], items), catalog_admin)
    resource = Resource.objects.get()
    assert (resource.format, resource.share_type, resource.update_cycle) == ("database", "conditional", "daily")
    assert (resource.share_method, resource.platform_share_type) == ("platform", "table")
    assert list(resource.items.values_list("data_type", "share_type")) == [("N", "conditional"), ("D", "not_shared")]


@pytest.mark.django_db
def test_every_attempt_is_recorded_as_a_batch_with_an_audit_row(catalog_admin, department) -> None:
    run(valid_file(department.code), catalog_admin)
    run(b"", catalog_admin, name="空.xlsx")
    outcomes = list(ImportBatch.objects.order_by("created_at").values_list("outcome", flat=True))
    assert outcomes == ["imported", "refused"]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"catalog.import.succeed", "catalog.import.refuse", "catalog.resource.import"} <= actions
    assert ResourceVersion.objects.filter(action="import").count() == 2


@pytest.mark.django_db
def test_one_bad_row_refuses_the_whole_file(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code), resource_row(2, department.code, 共享条件=None)]
    result = run(xlsx(resources, item_rows(1) + item_rows(2)), catalog_admin)
    assert not result.imported
    assert Resource.objects.count() == 0
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.header, problem.letter) == ("信息资源", 3, "共享条件", "I")
    assert problem.message == "有条件共享的资源必须填写共享条件"


@pytest.mark.django_db
def test_item_rule_problem_names_the_item_row_and_column(catalog_admin, department) -> None:
    items = [*item_rows(1), {"资源序号": 1, "信息项名称": "备注", "数据类型": "字符型"}]
    result = run(xlsx([resource_row(1, department.code)], items), catalog_admin)
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.header, problem.letter) == ("信息项", 4, "数据长度", "D")
    assert "必须填写数据长度" in problem.message


@pytest.mark.django_db
def test_columns_in_another_order_are_read_and_reported_by_their_own_letters(catalog_admin, department) -> None:
    headers = list(reversed(RESOURCE_HEADERS))
    resources = [resource_row(1, department.code, 更新周期="每小时")]
    result = run(xlsx(resources, item_rows(1), resource_headers=headers), catalog_admin)
    [problem] = result.problems
    assert problem.header == "更新周期" and problem.letter == "C"
    assert "每小时" in problem.message and "每季度" in problem.message


@pytest.mark.django_db
def test_importing_for_another_department_is_refused_per_row(catalog_admin, department, other_department) -> None:
    resources = [resource_row(1, department.code), resource_row(2, other_department.code)]
    result = run(xlsx(resources, item_rows(1) + item_rows(2)), catalog_admin)
    [problem] = result.problems
    assert (problem.row, problem.header) == (3, "提供方代码")
    assert other_department.name in problem.message and "无权" in problem.message
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_platform_administrator_imports_for_several_departments(platform_admin, department, other_department) -> None:
    resources = [resource_row(1, department.code), resource_row(2, other_department.code)]
    result = run(xlsx(resources, item_rows(1) + item_rows(2)), platform_admin)
    assert result.imported
    assert set(Resource.objects.values_list("department__code", flat=True)) == {department.code, other_department.code}


@pytest.mark.django_db
def test_consumer_may_not_import(department) -> None:
    consumer = testing.make_user(Role.CONSUMER, department=department)
    with pytest.raises(PermissionDenied):
        run(valid_file(department.code), consumer)
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_explicit_codes_are_kept(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 信息资源代码="102000000/000500")]
    assert run(xlsx(resources, item_rows(1)), catalog_admin).imported
    assert Resource.objects.get().code == "102000000/000500"


@pytest.mark.django_db
def test_related_codes_are_split_on_chinese_and_latin_separators(catalog_admin, department) -> None:
    related = "101000000/000001、101000000/000002, 101000000/000003"
    assert run(xlsx([resource_row(1, department.code, 关联资源代码=related)], item_rows(1)), catalog_admin).imported
    assert Resource.objects.get().related_codes == ["101000000/000001", "101000000/000002", "101000000/000003"]


@pytest.mark.django_db
def test_blank_rows_between_resources_are_skipped(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code)], item_rows(1) + item_rows(2))
    sheet = book["信息资源"]
    sheet.append(["", "  "])
    sheet.append([resource_row(2, department.code).get(h) for h in RESOURCE_HEADERS])
    assert run(to_bytes(book), catalog_admin).imported
    assert Resource.objects.count() == 2


@pytest.mark.django_db
def test_template_sent_back_unchanged_creates_no_draft_and_says_its_example_is_skipped(
    catalog_admin, department
) -> None:
    data = importing.template_bytes(department_code=department.code)
    result = run(data, catalog_admin, name="模板.xlsx")
    assert not result.imported
    [problem] = result.problems
    assert (problem.sheet, problem.row) == ("信息资源", 2)
    assert "只有模板的示例行" in problem.message and "示例行不会导入" in problem.message
    assert "请从第3行起" in problem.message
    assert Resource.objects.count() == 0


@pytest.mark.django_db
def test_template_has_the_sheets_drop_downs_and_guide() -> None:
    book = load_workbook(io.BytesIO(importing.template_bytes()))
    assert book.sheetnames == ["信息资源", "信息项", "填写说明"]
    headers = [c.value for c in book["信息资源"][1]]
    assert headers[:4] == ["资源序号", "信息资源名称", "分类码", "提供方代码"] and headers[-1] == "信息资源代码"
    formulas = {dv.formula1 for dv in book["信息资源"].data_validations.dataValidation}
    assert '"无条件共享,有条件共享,不予共享"' in formulas
    assert '"实时,每日,每周,每月,每季度,每半年,每年,不定期"' in formulas
    item_formulas = {dv.formula1 for dv in book["信息项"].data_validations.dataValidation}
    assert any("字符型" in f for f in item_formulas)


@pytest.mark.django_db
def test_import_lists_near_duplicates_for_every_row_even_when_names_repeat(
    platform_admin, catalog_admin, department, other_department
) -> None:
    from govshare.catalog import services
    from govshare.catalog.models import DuplicateCandidate
    from govshare.testing import resource_draft

    existing = services.create_resource(
        resource_draft(department, name="婚姻登记信息", category_code="102"), actor=catalog_admin
    )
    count = 60  # above the few entries scanned one by one: the import path (blocking on bigrams)
    names = {"公民身份号码", "姓名", "出生日期"}
    resources = [resource_row(n, other_department.code, 信息资源名称="婚姻登记信息") for n in range(1, count + 1)]
    items = [row for n in range(1, count + 1) for row in item_rows(n, *sorted(names))]
    result = run(xlsx(resources, items), platform_admin)
    assert result.imported, result.problems[:3]
    found = DuplicateCandidate.objects.filter(similar=existing, resource__in=result.created)
    assert found.count() == count


@pytest.mark.django_db
def test_file_saved_with_shared_strings_as_excel_does_imports(catalog_admin, department) -> None:
    from govshare.testing.xlsx_files import with_shared_strings

    data = with_shared_strings(valid_file(department.code, count=2))
    assert b"sharedStrings.xml" in data and b"inlineStr" not in data
    result = run(data, catalog_admin)
    assert result.imported, result.problems
    resource = Resource.objects.order_by("code").first()
    assert resource is not None and resource.name == "企业登记基本信息1" and resource.share_type == "conditional"
    assert resource.items.count() == 2


@pytest.mark.django_db
def test_shared_string_problems_are_reported_like_inline_ones(catalog_admin, department) -> None:
    from govshare.testing.xlsx_files import with_shared_strings

    data = with_shared_strings(xlsx([resource_row(1, department.code, 共享属性="部分共享")], item_rows(1)))
    [problem] = run(data, catalog_admin).problems
    assert (problem.row, problem.letter) == (2, "H") and "“部分共享”无效" in problem.message

"""The Excel template, import and export carry 数据级别 and 敏感级别; files made before them still import."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from govshare.catalog import exporting, importing, services
from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import ItemDraft
from govshare.testing import resource_draft
from govshare.testing.xlsx_files import ITEM_HEADERS, RESOURCE_HEADERS, item_rows, resource_row, xlsx

OLD_RESOURCE_HEADERS = [h for h in RESOURCE_HEADERS if h not in ("数据级别", "敏感级别")]
OLD_ITEM_HEADERS = [h for h in ITEM_HEADERS if h not in ("数据级别", "敏感级别")]


def run(data: bytes, user) -> importing.ImportResult:  # type: ignore[no-untyped-def]
    return importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=user)


@pytest.mark.django_db
def test_a_file_from_before_grading_imports_as_general_l2(catalog_admin, department) -> None:
    data = xlsx(
        [resource_row(1, department.code)],
        item_rows(1),
        resource_headers=OLD_RESOURCE_HEADERS,
        item_headers=OLD_ITEM_HEADERS,
    )
    result = run(data, catalog_admin)
    assert result.imported, result.problems
    resource = Resource.objects.get(department=department)
    assert (resource.grade, resource.data_level) == ("general", "L2")
    assert set(resource.items.values_list("grade", "data_level")) == {("general", "L2")}


@pytest.mark.django_db
def test_grade_columns_are_read_by_label_or_code(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 数据级别="重要", 敏感级别="L3")]
    items = [
        *item_rows(1, "企业名称"),
        *item_rows(1, "法定代表人身份证号", 数据级别="核心", 敏感级别="L4 敏感"),
    ]
    result = run(xlsx(resources, items), catalog_admin)
    assert result.imported, result.problems
    resource = Resource.objects.get(department=department)
    assert (resource.grade, resource.data_level) == ("important", "L3")
    grades = {i.name: (i.grade, i.data_level) for i in Item.objects.filter(resource=resource)}
    assert grades == {"企业名称": ("important", "L3"), "法定代表人身份证号": ("core", "L4")}


@pytest.mark.django_db
def test_an_opened_l4_row_is_reported_at_its_cell(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 敏感级别="L4", 开放属性="有条件开放", 开放条件="依申请")]
    result = run(xlsx(resources, item_rows(1)), catalog_admin)
    assert not result.imported
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.header) == ("信息资源", 2, "开放属性")
    assert problem.message == "资源的敏感级别为“L4 敏感”，开放属性只能为“不予开放”（现为“有条件开放”）"


@pytest.mark.django_db
def test_a_looser_item_level_is_reported_at_its_row(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 敏感级别="L3")]
    items = [*item_rows(1, "企业名称"), *item_rows(1, "注册地址", 敏感级别="L1 不敏感")]
    result = run(xlsx(resources, items), catalog_admin)
    [problem] = result.problems
    assert (problem.sheet, problem.row, problem.header) == ("信息项", 3, "敏感级别")
    assert problem.message == "第2个信息项“注册地址”的敏感级别“L1 不敏感”不能比资源的敏感级别“L3 较敏感”更宽松"


@pytest.mark.django_db
def test_an_unknown_grade_is_reported_with_the_allowed_labels(catalog_admin, department) -> None:
    result = run(xlsx([resource_row(1, department.code, 数据级别="机密")], item_rows(1)), catalog_admin)
    [problem] = result.problems
    assert problem.header == "数据级别" and problem.message == "数据级别“机密”无效，可选值：核心、重要、一般"


@pytest.mark.django_db
def test_template_offers_the_grade_columns_with_drop_downs() -> None:
    book = load_workbook(io.BytesIO(importing.template_bytes()))
    headers = [c.value for c in book["信息资源"][1]]
    assert {"数据级别", "敏感级别"} <= set(headers) and headers[-1] == "信息资源代码"
    formulas = {v.formula1 for v in book["信息资源"].data_validations.dataValidation}
    assert '"核心,重要,一般"' in formulas and '"L4 敏感,L3 较敏感,L2 低敏感,L1 不敏感"' in formulas


@pytest.mark.django_db
def test_export_writes_grades_and_reimports_them(catalog_admin, department) -> None:
    items = [
        *resource_draft(department).items[1:],
        ItemDraft(name="公民身份号码", data_type="C", length=18, data_level="L4"),
    ]
    services.create_resource(
        resource_draft(department, grade="important", data_level="L3", items=items), actor=catalog_admin
    )
    buffer = io.BytesIO()
    exporting.write_xlsx(exporting.export_queryset(catalog_admin, exporting.parse_export_query({})), buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    rows = list(book["信息资源"].iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["数据级别"], row["敏感级别"]) == ("重要", "L3 较敏感")
    exported_items = list(book["信息项"].iter_rows(values_only=True))
    by_name = {r[1]: dict(zip(exported_items[0], r, strict=True)) for r in exported_items[1:]}
    assert by_name["公民身份号码"]["敏感级别"] == "L4 敏感" and by_name["姓名"]["敏感级别"] is None
    parsed = importing.parse_workbook(io.BytesIO(buffer.getvalue()))
    draft = parsed.resources[0].draft
    assert (draft.grade, draft.data_level) == ("important", "L3")
    assert [i.data_level for i in draft.items] == ["", "", "L4"]


@pytest.mark.django_db
def test_csv_export_has_the_grade_columns(catalog_admin, department) -> None:
    services.create_resource(resource_draft(department, grade="important"), actor=catalog_admin)
    lines = list(exporting.csv_lines(exporting.export_queryset(catalog_admin, exporting.parse_export_query({}))))
    header, row = lines[0].lstrip("\ufeff").rstrip().split(","), lines[1].rstrip().split(",")
    values = dict(zip(header, row, strict=False))
    assert (values["数据级别"], values["敏感级别"]) == ("重要", "L2 低敏感")

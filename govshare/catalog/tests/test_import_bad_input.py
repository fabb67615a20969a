"""Bad input gets a clear Chinese answer and changes nothing."""

import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from govshare.catalog import importing, services
from govshare.catalog.models import ImportBatch, Item, Resource, ResourceVersion
from govshare.testing import department_code, resource_draft
from govshare.testing.xlsx_files import (
    ITEM_HEADERS,
    RESOURCE_HEADERS,
    item_rows,
    resource_row,
    to_bytes,
    valid_file,
    workbook,
    xlsx,
)


def refused(data: bytes, user, name: str = "目录.xlsx") -> list[importing.ImportProblem]:  # type: ignore[no-untyped-def]
    """Import and assert that nothing was created; the problems of the refusal."""
    before = (Resource.objects.count(), Item.objects.count(), ResourceVersion.objects.count())
    result = importing.import_catalog(io.BytesIO(data), file_name=name, actor=user)
    assert not result.imported
    assert result.problems
    assert (Resource.objects.count(), Item.objects.count(), ResourceVersion.objects.count()) == before
    batch = ImportBatch.objects.get(pk=result.batch.pk)
    assert batch.outcome == "refused" and batch.created_count == 0 and batch.problem_count == len(result.problems)
    return result.problems


def only(problems: list[importing.ImportProblem]) -> importing.ImportProblem:
    assert len(problems) == 1, problems
    return problems[0]


# ---------------------------------------------------------------------------------------------- headers and sheets


@pytest.mark.django_db
def test_missing_header_is_named(catalog_admin, department) -> None:
    headers = [h for h in RESOURCE_HEADERS if h != "共享属性"]
    problem = only(
        refused(xlsx([resource_row(1, department.code)], item_rows(1), resource_headers=headers), catalog_admin)
    )
    assert problem.sheet == "信息资源" and problem.row == 1
    assert problem.message.startswith("缺少列：共享属性。")


@pytest.mark.django_db
def test_unknown_header_is_named_with_its_column(catalog_admin, department) -> None:
    headers = [*ITEM_HEADERS, "备注"]
    problem = only(refused(xlsx([resource_row(1, department.code)], item_rows(1), item_headers=headers), catalog_admin))
    letter = get_column_letter(len(headers))
    assert (problem.sheet, problem.letter) == ("信息项", letter)
    assert problem.message.startswith(f"未知的列“备注”（{letter}列）：模板中没有这一列")


@pytest.mark.django_db
def test_missing_sheet_is_named(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code)], item_rows(1))
    del book["信息项"]
    problem = only(refused(to_bytes(book), catalog_admin))
    assert problem.message.startswith("缺少工作表“信息项”（文件中的工作表：“信息资源”）")


@pytest.mark.django_db
def test_data_in_a_column_without_header_is_reported(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code)], item_rows(1))
    letter = get_column_letter(len(ITEM_HEADERS) + 1)
    book["信息项"][f"{letter}2"] = "多余的内容"
    problem = only(refused(to_bytes(book), catalog_admin))
    assert (problem.sheet, problem.row, problem.letter) == ("信息项", 2, letter)
    assert "但该列没有表头" in problem.message


# ---------------------------------------------------------------------------------------------- file types


@pytest.mark.django_db
def test_xls_renamed_to_xlsx_is_recognised_by_content(catalog_admin) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096)
    problem = only(refused(ole2, catalog_admin, name="目录.xlsx"))
    assert "Excel 97-2003（.xls）" in problem.message and "只接受 .xlsx" in problem.message


@pytest.mark.django_db
def test_utf8_csv_renamed_to_xlsx_is_refused(catalog_admin, department) -> None:
    csv = f"资源序号,信息资源名称,分类码,提供方代码\n1,企业登记信息,102,{department.code}\n".encode()
    problem = only(refused(csv, catalog_admin, name="目录.xlsx"))
    assert "UTF-8 编码的CSV" in problem.message and "只接受 .xlsx" in problem.message


@pytest.mark.django_db
def test_gbk_csv_is_refused_saying_only_xlsx_is_accepted(catalog_admin, department) -> None:
    csv = f"资源序号,信息资源名称,分类码,提供方代码\r\n1,企业登记信息,102,{department.code}\r\n".encode("gbk")
    problem = only(refused(csv, catalog_admin, name="目录.csv"))
    assert "GBK 编码的CSV" in problem.message and "只接受 .xlsx" in problem.message


@pytest.mark.django_db
def test_empty_file_is_refused(catalog_admin) -> None:
    assert only(refused(b"", catalog_admin)).message.startswith("文件为空（0 字节）")


@pytest.mark.django_db
def test_workbook_with_headers_only_is_refused(catalog_admin) -> None:
    problem = only(refused(xlsx([], []), catalog_admin))
    assert problem.message.startswith("工作表“信息资源”没有数据行")


@pytest.mark.django_db
def test_zip_that_is_not_a_workbook_is_refused(catalog_admin) -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是工作簿")
    assert only(refused(buffer.getvalue(), catalog_admin)).message.startswith("文件不是有效的 Excel 工作簿（.xlsx）")


@pytest.mark.django_db
def test_50_mb_file_is_refused_before_parsing_naming_the_limit(catalog_admin) -> None:
    data = b"PK\x03\x04" + bytes(50 * 1024 * 1024)
    started = time.perf_counter()
    problem = only(refused(data, catalog_admin))
    assert time.perf_counter() - started < 5
    assert "导入大小上限 20 MB" in problem.message and "GOVSHARE_IMPORT_MAX_BYTES" in problem.message


# ---------------------------------------------------------------------------------------------- structure


@pytest.mark.django_db
def test_merged_cells_are_refused_naming_the_range(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code), resource_row(2, department.code)], item_rows(1) + item_rows(2))
    book["信息资源"].merge_cells("M2:M3")
    problem = only(refused(to_bytes(book), catalog_admin))
    assert problem.sheet == "信息资源" and problem.message.startswith("单元格 M2:M3 是合并单元格")


@pytest.mark.django_db
def test_formula_is_refused_naming_the_cell(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code)], item_rows(1))
    book["信息项"]["D3"] = "=D2*2"
    problem = only(refused(to_bytes(book), catalog_admin))
    assert (problem.sheet, problem.row, problem.letter) == ("信息项", 3, "D")
    assert problem.message.startswith("单元格 D3 含公式")


def _tall_file(rows: int, *, write_only: bool) -> bytes:
    book = Workbook(write_only=write_only)
    if write_only:
        sheet = book.create_sheet("信息资源")
    else:
        sheet = book.active
        assert sheet is not None
        sheet.title = "信息资源"
    sheet.append(RESOURCE_HEADERS)
    if write_only:
        for n in range(1, rows + 1):
            sheet.append([n, "资源"])
    else:
        sheet.cell(row=rows + 1, column=1, value=rows)  # the dimension says A1:Q100001
    items = book.create_sheet("信息项")
    items.append(ITEM_HEADERS)
    return to_bytes(book)


@pytest.mark.django_db
def test_100000_row_file_is_refused_at_once_from_its_dimension(catalog_admin) -> None:
    started = time.perf_counter()
    problem = only(refused(_tall_file(100_000, write_only=False), catalog_admin))
    assert time.perf_counter() - started < 2
    assert "100,000 行" in problem.message and "上限 50,000 行" in problem.message
    assert "GOVSHARE_IMPORT_MAX_ROWS" in problem.message


@pytest.mark.django_db
def test_100000_row_file_without_dimension_stops_counting_at_the_limit(catalog_admin) -> None:
    data = _tall_file(100_000, write_only=True)
    started = time.perf_counter()
    problem = only(refused(data, catalog_admin))
    assert time.perf_counter() - started < 30
    assert problem.row == 50_002 and "至少 50,001 行" in problem.message and "上限 50,000 行" in problem.message


# ---------------------------------------------------------------------------------------------- values


@pytest.mark.django_db
def test_unknown_enum_value_lists_the_allowed_labels(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 共享属性="部分共享")]
    problem = only(refused(xlsx(resources, item_rows(1)), catalog_admin))
    assert (problem.row, problem.header, problem.letter) == (2, "共享属性", "H")
    assert problem.message == "共享属性“部分共享”无效，可选值：无条件共享、有条件共享、不予共享"


@pytest.mark.django_db
def test_unknown_data_type_is_reported_on_the_item_row(catalog_admin, department) -> None:
    items = [{"资源序号": 1, "信息项名称": "企业名称", "数据类型": "文本", "数据长度": 10}]
    problem = only(refused(xlsx([resource_row(1, department.code)], items), catalog_admin))
    assert (problem.sheet, problem.row, problem.header) == ("信息项", 2, "数据类型")
    assert "“文本”无效" in problem.message and "字符型(C)" in problem.message


@pytest.mark.django_db
def test_length_that_is_not_a_number_is_reported(catalog_admin, department) -> None:
    items = [{"资源序号": 1, "信息项名称": "企业名称", "数据类型": "字符型", "数据长度": "二十"}]
    problems = refused(xlsx([resource_row(1, department.code)], items), catalog_admin)
    assert any(p.message == "数据长度“二十”不是整数" and p.letter == "D" for p in problems)


@pytest.mark.django_db
def test_duplicate_sequence_numbers_in_the_file(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code), resource_row(1, department.code, 信息资源名称="另一个")]
    problem = only(refused(xlsx(resources, item_rows(1)), catalog_admin))
    assert (problem.row, problem.header, problem.letter) == (3, "资源序号", "A")
    assert problem.message == "资源序号“1”与第2行重复"


@pytest.mark.django_db
def test_duplicate_codes_in_the_file(catalog_admin, department) -> None:
    code = "102000000/000777"
    resources = [
        resource_row(1, department.code, 信息资源代码=code),
        resource_row(2, department.code, 信息资源代码=code),
    ]
    problem = only(refused(xlsx(resources, item_rows(1) + item_rows(2)), catalog_admin))
    letter = get_column_letter(RESOURCE_HEADERS.index("信息资源代码") + 1)
    assert (problem.row, problem.header, problem.letter) == (3, "信息资源代码", letter)
    assert problem.message == f"信息资源代码“{code}”与第2行重复"


@pytest.mark.django_db
def test_code_already_used_in_the_database(catalog_admin, department) -> None:
    existing = services.create_resource(resource_draft(department), actor=catalog_admin)
    resources = [resource_row(1, department.code, 分类码="101", 信息资源代码=existing.code)]
    problem = only(refused(xlsx(resources, item_rows(1)), catalog_admin))
    assert problem.message == f"信息资源代码“{existing.code}”已被平台中的资源使用"
    assert Resource.objects.count() == 1


@pytest.mark.django_db
def test_retired_code_is_never_reused(catalog_admin, department) -> None:
    deleted = services.create_resource(resource_draft(department), actor=catalog_admin)
    code = deleted.code
    services.delete_resource(deleted, actor=catalog_admin)
    resources = [resource_row(1, department.code, 分类码="101", 信息资源代码=code)]
    problem = only(refused(xlsx(resources, item_rows(1)), catalog_admin))
    assert problem.message.startswith(f"信息资源代码“{code}”属于已删除的资源，已注销")


@pytest.mark.django_db
def test_unknown_department_code(catalog_admin) -> None:
    code = department_code(4242)  # a valid code that no department of the platform has
    problem = only(refused(xlsx([resource_row(1, code)], item_rows(1)), catalog_admin))
    assert (problem.header, problem.letter) == ("提供方代码", "D")
    assert problem.message == f"提供方代码“{code}”不是平台中的部门"


@pytest.mark.django_db
def test_a_department_code_with_a_wrong_check_character_says_so(catalog_admin, department) -> None:
    wrong = department.code[:17] + ("0" if department.code[17] != "0" else "1")
    problem = only(refused(xlsx([resource_row(1, wrong)], item_rows(1)), catalog_admin))
    assert problem.message.startswith(f"提供方代码“{wrong}”的校验位（第18位）错误：应为“{department.code[17]}”")
    assert problem.message.endswith(f"“{department.code}”是部门“{department.name}”的代码")


@pytest.mark.django_db
def test_items_of_a_sequence_number_that_does_not_exist(catalog_admin, department) -> None:
    items = item_rows(1) + item_rows(9, "法定代表人")
    problem = only(refused(xlsx([resource_row(1, department.code)], items), catalog_admin))
    assert (problem.sheet, problem.row, problem.header) == ("信息项", 4, "资源序号")
    assert problem.message == "资源序号“9”在“信息资源”工作表中不存在"


@pytest.mark.django_db
def test_resource_without_items(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code), resource_row(2, department.code)]
    problem = only(refused(xlsx(resources, item_rows(1)), catalog_admin))
    assert (problem.sheet, problem.row, problem.header) == ("信息资源", 3, "资源序号")
    assert problem.message == "信息资源至少应包含一个信息项"


@pytest.mark.django_db
def test_every_problem_of_the_file_is_reported_at_once(catalog_admin, department) -> None:
    resources = [
        resource_row(1, department.code, 更新周期="随时"),
        resource_row(2, department.code, 信息资源名称=None),
        resource_row(3, "不存在的部门"),
    ]
    problems = refused(xlsx(resources, item_rows(1) + item_rows(2) + item_rows(3)), catalog_admin)
    assert [(p.row, p.header) for p in problems] == [(2, "更新周期"), (3, "信息资源名称"), (4, "提供方代码")]


@pytest.mark.django_db
def test_valid_file_after_refusals_still_imports(catalog_admin, department) -> None:
    refused(b"", catalog_admin)
    result = importing.import_catalog(io.BytesIO(valid_file(department.code)), file_name="a.xlsx", actor=catalog_admin)
    assert result.imported


# ---------------------------------------------------------------------------------------------- properties


@given(st.binary(max_size=300))
def test_sniffing_never_fails_and_accepts_only_zip_containers(head: bytes) -> None:
    problem = importing.sniff_file(head)
    assert (problem is None) == head.startswith(b"PK\x03\x04")
    if problem is not None:
        assert problem.message


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    share=st.text(max_size=12),
    cycle=st.one_of(st.none(), st.text(max_size=8), st.integers()),
    length=st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
)
def test_any_cell_values_give_an_import_or_a_report_never_an_exception(
    catalog_admin, department, share: str, cycle: object, length: object
) -> None:
    resources = [resource_row(1, department.code, 共享属性=share, 更新周期=cycle)]
    items = [{"资源序号": 1, "信息项名称": "企业名称", "数据类型": "字符型", "数据长度": length}]
    try:
        data = xlsx(resources, items)
    except IllegalCharacterError:  # openpyxl refuses control characters in cells; Excel could not save them either
        return
    result = importing.import_catalog(io.BytesIO(data), file_name="h.xlsx", actor=catalog_admin)
    if result.imported:
        assert Resource.objects.filter(pk__in=[r.pk for r in result.created]).count() == 1
        Resource.objects.all().delete()
    else:
        assert all(p.message and p.sheet in ("信息资源", "信息项") for p in result.problems)


@pytest.mark.django_db
def test_damaged_sheet_inside_the_zip_is_refused_as_damaged(catalog_admin, department) -> None:
    import zipfile

    from govshare.testing.xlsx_files import with_shared_strings

    data = with_shared_strings(valid_file(department.code))
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/sharedStrings.xml":
                content = content.replace(b"<si>", b"", 1).replace(b"</si>", b"", 1)[:200] + b"</sst>"
            out.writestr(info.filename, content)
    problem = only(refused(target.getvalue(), catalog_admin))
    assert problem.message.startswith("文件不是有效的 Excel 工作簿（.xlsx）：可能已损坏")


@pytest.mark.django_db
def test_shared_string_index_out_of_range_is_refused_as_damaged(catalog_admin, department) -> None:
    import zipfile

    from govshare.testing.xlsx_files import with_shared_strings

    data = with_shared_strings(valid_file(department.code))
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<v>0</v>", b"<v>99999</v>", 1)
            out.writestr(info.filename, content)
    problem = only(refused(target.getvalue(), catalog_admin))
    assert problem.sheet == "信息资源" and "文件可能已损坏或不完整" in problem.message


@pytest.mark.django_db
def test_sheet_name_with_a_trailing_space_is_accepted(catalog_admin, department) -> None:
    book = workbook([resource_row(1, department.code)], item_rows(1))
    book["信息项"].title = "信息项 "
    result = importing.import_catalog(io.BytesIO(to_bytes(book)), file_name="a.xlsx", actor=catalog_admin)
    assert result.imported, result.problems


@pytest.mark.django_db
def test_cell_problems_and_rule_problems_come_in_one_report(catalog_admin, department) -> None:
    resources = [resource_row(1, department.code, 共享条件=None)]
    items = [*item_rows(1), {"资源序号": 1, "信息项名称": "注册资本", "数据类型": "数值型", "数据长度": "十八"}]
    items += item_rows(5, "法定代表人")
    problems = refused(xlsx(resources, items), catalog_admin)
    assert [(p.sheet, p.row, p.header) for p in problems] == [
        ("信息资源", 2, "共享条件"),
        ("信息项", 4, "数据长度"),
        ("信息项", 5, "资源序号"),
    ]
    # The length is reported once, as the cell's problem, not again by the rule that a 数值型 needs a length.
    assert problems[1].message == "数据长度“十八”不是整数"

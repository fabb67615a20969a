"""The sheet XML is untrusted: the streamed reader (lxml iterparse) refuses broken XML with a Chinese message and
never expands entities nor fetches anything."""

import io
import time
import zipfile

import pytest

from govshare.catalog import importing
from govshare.catalog.models import Resource
from govshare.testing.xlsx_files import valid_file

BOMB = (
    b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">'.encode() for n in range(9))
    + b"]>"
)


def with_sheet(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(data))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            out.writestr(info.filename, content)
    return target.getvalue()


@pytest.mark.django_db
def test_truncated_sheet_xml_is_refused_as_invalid_xml(catalog_admin, department) -> None:
    data = with_sheet(valid_file(department.code), lambda content: content[: len(content) // 2])
    result = importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=catalog_admin)
    assert not result.imported and not Resource.objects.exists()
    assert [(p.sheet, p.message[:19]) for p in result.problems] == [("信息资源", "工作表内容不是有效的 XML，文件可能")]


@pytest.mark.django_db
def test_entities_in_the_sheet_are_not_expanded(catalog_admin, department) -> None:
    def bomb(content: bytes) -> bytes:
        head, _, rest = content.partition(b"?>")
        return (
            head
            + b"?>"
            + BOMB
            + rest.replace(
                b"<sheetData>", b'<sheetData><row r="1000"><c r="Z1000" t="inlineStr"><is><t>&j;</t></is></c></row>', 1
            )
        )

    data = with_sheet(valid_file(department.code), bomb)
    started = time.perf_counter()
    result = importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=catalog_admin)
    assert time.perf_counter() - started < 5
    assert result.problems or result.imported
    assert all(len(p.message) < 1000 for p in result.problems)


@pytest.mark.django_db
def test_a_cell_text_over_the_parsers_limit_is_reported_in_chinese_on_its_sheet(catalog_admin, department) -> None:
    def huge_cell(content: bytes) -> bytes:
        cell = b'<row r="9"><c r="B9" t="inlineStr"><is><t>' + b"x" * 10_000_001 + b"</t></is></c></row>"
        return content.replace(b"</sheetData>", cell + b"</sheetData>", 1)

    data = with_sheet(valid_file(department.code), huge_cell)
    result = importing.import_catalog(io.BytesIO(data), file_name="目录.xlsx", actor=catalog_admin)
    assert not result.imported and not Resource.objects.exists()
    [problem] = result.problems
    assert problem.sheet == "信息资源"
    assert problem.message.startswith("工作表“信息资源”中有单元格的文本过长：超过 10,000,000 字节")
    assert "XML_PARSE_HUGE" not in problem.message

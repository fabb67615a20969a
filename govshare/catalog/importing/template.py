"""The import template (two data sheets with drop-downs of the Chinese labels, a sample, a guide) and the rows an
export writes in its layout, so that an exported list can be edited and imported again."""

from __future__ import annotations

import io
from typing import IO, Any

from django.conf import settings
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from govshare.catalog.choices import (
    AtRest,
    DataGrade,
    DataLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.catalog.importing.layout import (
    EXAMPLE_SEQ,
    GUIDE_SHEET,
    ITEM_COLUMNS,
    ITEM_SHEET,
    RESOURCE_COLUMNS,
    RESOURCE_SHEET,
    SHEET_COLUMNS,
    choice_label,
)
from govshare.catalog.importing.limits import megabytes
from govshare.catalog.models import Resource


def guide_rows() -> list[tuple[str, str]]:
    limit_rows = settings.GOVSHARE.import_max_rows
    limit_size = megabytes(settings.GOVSHARE.import_max_bytes)
    rows = [
        (
            "用法",
            f"在“{RESOURCE_SHEET}”工作表每行填写一个信息资源，在“{ITEM_SHEET}”工作表每行填写一个信息项，用“资源序号”对应。",
        ),
        (
            "导入规则",
            "文件中只要有一处错误就整份不导入，平台返回逐行的错误报告（工作表、行号、列、问题）；全部正确时一次全部导入为草稿。",
        ),
        (
            "限制",
            f"只接受 .xlsx；文件不超过 {limit_size}，资源不超过 {limit_rows:,} 行；不得有合并单元格和公式。",
        ),
        (
            "示例行",
            f"第2行起资源序号为“{EXAMPLE_SEQ}”的灰色行是示例，导入时跳过（不会成为草稿）。"
            "请在其下方填写，资源序号填 1、2、3…；也可删除示例行。",
        ),
        ("表头", "第1行为表头，请勿删除或改名；列的顺序可以调整。带下拉的列请从下拉中选择。"),
        ("代码", "分类码、提供方代码、信息资源代码请按文本填写，避免 Excel 把它们变成数字。"),
    ]
    for sheet, columns in SHEET_COLUMNS.items():
        for column in columns:
            allowed = ""
            if column.choices:
                allowed = "；可选：" + "、".join(str(label) for label in column.choices.labels)
            rows.append((f"{sheet} · {column.header}", column.note + allowed))
    return rows


_SAMPLE_RESOURCE: dict[str, object] = {
    "seq": EXAMPLE_SEQ,
    "name": "常住人口户籍登记信息",
    "category_code": "101",
    "department_code": "",
    "summary": "全市常住人口的户籍登记信息，包括公民身份号码、姓名、性别、出生日期和户籍地址。",
    "format": "数据库",
    "sub_format": "PostgreSQL",
    "share_type": "有条件共享",
    "share_condition": "用于政务服务身份核验，须经提供部门审核",
    "share_basis": "",
    "share_method": "共享平台方式",
    "platform_share_type": "接口",
    "open_type": "不予开放",
    "open_condition": "",
    "grade": "重要",
    "data_level": "L3 较敏感",
    "update_cycle": "每日",
    "related_codes": "",
    "code": "",
}
_SAMPLE_ITEMS: list[dict[str, object]] = [
    {"seq": EXAMPLE_SEQ, "name": "公民身份号码", "data_type": "字符型", "length": 18, "description": "18位"},
    {"seq": EXAMPLE_SEQ, "name": "姓名", "data_type": "字符型", "length": 50},
    {"seq": EXAMPLE_SEQ, "name": "出生日期", "data_type": "日期型"},
]
_HEADER_FILL = PatternFill("solid", fgColor="1F5FA8")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_EXAMPLE_FILL = PatternFill("solid", fgColor="EEEEEE")
_EXAMPLE_FONT = Font(italic=True, color="777777")
_EXAMPLE_NOTE = f"资源序号为“{EXAMPLE_SEQ}”的行是示例，导入时跳过。请在下方填写，资源序号填 1、2、3…"
VALIDATION_ROWS = 50_000


def write_template(target: IO[bytes], *, department_code: str = "") -> None:
    """The import template: two data sheets with drop-downs of the Chinese labels, grey example rows that the reader
    skips (资源序号 示例), and a guide."""
    workbook = Workbook()
    sheets = [workbook.active, workbook.create_sheet(ITEM_SHEET)]
    sheets[0].title = RESOURCE_SHEET  # type: ignore[union-attr]
    samples = [[{**_SAMPLE_RESOURCE, "department_code": department_code}], _SAMPLE_ITEMS]
    for sheet, columns, rows in zip(sheets, (RESOURCE_COLUMNS, ITEM_COLUMNS), samples, strict=True):
        assert sheet is not None
        for index, column in enumerate(columns, start=1):
            letter = get_column_letter(index)
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.fill, cell.font = _HEADER_FILL, _HEADER_FONT
            cell.alignment = Alignment(horizontal="center")
            cell.comment = Comment(column.note, "govshare")
            sheet.column_dimensions[letter].width = column.width
            if column.text:
                for row in range(2, 202):
                    sheet.cell(row=row, column=index).number_format = "@"
            if column.choices:
                options = ",".join(str(label) for label in column.choices.labels)
                validation = DataValidation(
                    type="list",
                    formula1=f'"{options}"',
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="请从下拉中选择",
                    error=f"{column.header}可选：{options.replace(',', '、')}",
                )
                validation.add(f"{letter}2:{letter}{VALIDATION_ROWS}")
                sheet.add_data_validation(validation)
        for row_index, sample in enumerate(rows, start=2):
            for index, column in enumerate(columns, start=1):
                value = sample.get(column.field)
                cell = sheet.cell(row=row_index, column=index, value=value if value not in (None, "") else None)
                cell.fill, cell.font = _EXAMPLE_FILL, _EXAMPLE_FONT
            sheet.cell(row=row_index, column=1).comment = Comment(_EXAMPLE_NOTE, "govshare")
        sheet.freeze_panes = "B2"
    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.column_dimensions["A"].width = 26
    guide.column_dimensions["B"].width = 100
    guide.append(["项目", "说明"])
    for label, text in guide_rows():
        guide.append([label, text])
    for cell in guide[1]:
        cell.fill, cell.font = _HEADER_FILL, _HEADER_FONT
    workbook.save(target)


def template_bytes(*, department_code: str = "") -> bytes:
    buffer = io.BytesIO()
    write_template(buffer, department_code=department_code)
    return buffer.getvalue()


def resource_row_values(resource: Resource, seq: int) -> list[object]:
    """One resource as a row of the template's 信息资源 sheet (labels, codes): what an export writes."""
    values: dict[str, object] = {
        "seq": seq,
        "name": resource.name,
        "category_code": resource.category.code,
        "department_code": resource.department.code,
        "summary": resource.summary,
        "format": choice_label(ResourceFormat, resource.format),
        "sub_format": resource.sub_format,
        "share_type": choice_label(ShareType, resource.share_type),
        "share_condition": resource.share_condition,
        "share_basis": resource.share_basis,
        "share_method": choice_label(ShareMethod, resource.share_method) if resource.share_method else "",
        "platform_share_type": choice_label(PlatformShareType, resource.platform_share_type)
        if resource.platform_share_type
        else "",
        "open_type": choice_label(OpenType, resource.open_type),
        "open_condition": resource.open_condition,
        "grade": choice_label(DataGrade, resource.grade),
        "data_level": choice_label(DataLevel, resource.data_level),
        "update_cycle": choice_label(UpdateCycle, resource.update_cycle),
        "related_codes": "、".join(resource.related_codes or []),
        "code": resource.code,
    }
    return [values[c.field] or None for c in RESOURCE_COLUMNS]


def item_row_values(item: Any, seq: int, resource: Resource) -> list[object]:
    """One item as a row of the 信息项 sheet; attributes equal to the resource's are left blank (同资源)."""
    values: dict[str, object] = {
        "seq": seq,
        "name": item.name,
        "data_type": choice_label(ItemDataType, item.data_type),
        "length": item.length,
        "share_type": "" if item.share_type == resource.share_type else choice_label(ShareType, item.share_type),
        "open_type": "" if item.open_type == resource.open_type else choice_label(OpenType, item.open_type),
        "grade": "" if item.grade == resource.grade else choice_label(DataGrade, item.grade),
        "data_level": "" if item.data_level == resource.data_level else choice_label(DataLevel, item.data_level),
        "description": item.description,
        "at_rest": "" if item.at_rest == AtRest.PLAIN else choice_label(AtRest, item.at_rest),
    }
    return [values[c.field] if values[c.field] not in ("", None) else None for c in ITEM_COLUMNS]

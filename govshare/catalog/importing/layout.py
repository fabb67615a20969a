"""The import template's layout: its sheets and columns (header, field, note, choices, width), shared by the
template, the reader and the export, and the choice lookups (a cell may hold a label or a value)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models

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

RESOURCE_SHEET = "信息资源"
ITEM_SHEET = "信息项"
GUIDE_SHEET = "填写说明"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_FILE_NAME = "政务信息资源目录导入模板.xlsx"
# The 资源序号 of the template's example rows: the reader skips them (and says so), so that an example left in the
# file never becomes a draft.
EXAMPLE_SEQ = "示例"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    note: str
    required_header: bool = True
    choices: type[models.TextChoices] | None = None
    width: int = 14
    text: bool = False  # the cell is formatted as text (codes must not turn into numbers)


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "seq", "本文件内资源的序号（1、2、3…），信息项工作表用它指明所属资源；必填且不得重复", width=10),
    Column("信息资源名称", "name", "必填，不超过200个字符", width=28),
    Column("分类码", "category_code", "必填，至少到“项”一级，如 101（基础-人口）、302（部门-经济管理）", text=True),
    Column(
        "提供方代码",
        "department_code",
        "必填，提供部门的代码（统一社会信用代码），须为您可编目的部门",
        width=22,
        text=True,
    ),
    Column("信息资源摘要", "summary", "必填，说明资源的内容", width=40),
    Column("信息资源格式", "format", "必填，下拉选择", choices=ResourceFormat),
    Column("格式细类", "sub_format", "选填，如 xlsx、csv、json、pdf、PostgreSQL"),
    Column("共享属性", "share_type", "必填，下拉选择", choices=ShareType),
    Column("共享条件", "share_condition", "有条件共享时必填", width=24),
    Column("不予共享依据", "share_basis", "不予共享时必填：法律、行政法规或国家政策依据", width=24),
    Column("共享方式", "share_method", "可共享的资源必填，下拉选择", choices=ShareMethod),
    Column(
        "共享方式类型",
        "platform_share_type",
        "共享平台方式时必填：接口、库表或文件（文件类资源用文件，数据库用库表或接口）",
        choices=PlatformShareType,
    ),
    Column("开放属性", "open_type", "必填，下拉选择；不予共享的资源只能不予开放", choices=OpenType),
    Column("开放条件", "open_condition", "有条件开放时必填", width=24),
    Column(
        "数据级别",
        "grade",
        "选填，留空为一般；核心数据只能不予开放，重要数据共享须经安全管理员会签（GB/T 43697）",
        required_header=False,
        choices=DataGrade,
    ),
    Column(
        "敏感级别",
        "data_level",
        "选填，留空为 L2（无条件开放的资源为 L1）；L4 只能不予开放，L3、L2 只能有条件开放（依申请、脱敏）",
        required_header=False,
        choices=DataLevel,
    ),
    Column("更新周期", "update_cycle", "必填，下拉选择", choices=UpdateCycle),
    Column("关联资源代码", "related_codes", "选填，多个代码用逗号或顿号分隔，如 101000000/000001", width=22, text=True),
    Column(
        "信息资源代码",
        "code",
        "选填：留空由平台按分类生成；填写时须为未使用过的代码，如 101000000/000123",
        required_header=False,
        width=20,
        text=True,
    ),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源序号", "seq", "必填，对应“信息资源”工作表中的资源序号", width=10),
    Column("信息项名称", "name", "必填，同一资源内不得重复，不超过100个字符", width=24),
    Column("数据类型", "data_type", "必填，下拉选择，也可填代码（C、N、Y、D、T、L、M、B）", choices=ItemDataType),
    Column("数据长度", "length", "字符型、数值型、货币型必填，正整数"),
    Column("共享属性", "share_type", "选填，留空同资源；不得比资源更宽松", choices=ShareType),
    Column("开放属性", "open_type", "选填，留空同资源；不得比资源更宽松", choices=OpenType),
    Column("数据级别", "grade", "选填，留空同资源；不得比资源更宽松", required_header=False, choices=DataGrade),
    Column("敏感级别", "data_level", "选填，留空同资源；不得比资源更宽松", required_header=False, choices=DataLevel),
    Column("说明", "description", "选填，不超过500个字符", width=30),
    Column(
        "静态加密",
        "at_rest",
        "选填，留空为明文（更新已有资源时留空则不变）；加密：归集数据以 SM4 加密存储；"
        "加密可检索：另存 HMAC-SM3，可按等值查询。数据来源的主键信息项须为明文",
        required_header=False,
        choices=AtRest,
    ),
)
SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {RESOURCE_SHEET: RESOURCE_COLUMNS, ITEM_SHEET: ITEM_COLUMNS}
RESOURCE_BY_FIELD = {c.field: c for c in RESOURCE_COLUMNS}
ITEM_BY_FIELD = {c.field: c for c in ITEM_COLUMNS}


def _choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Label → value, and value → value (a cell may hold 有条件共享 or conditional; 字符型 or C)."""
    lookup = {str(label): str(value) for value, label in choices.choices}
    lookup.update({str(value): str(value) for value in choices.values})
    lookup.update({str(value).lower(): str(value) for value in choices.values})
    return lookup


CHOICE_LOOKUPS: dict[str, dict[str, str]] = {
    c.header + ":" + c.field: _choice_lookup(c.choices) for c in (*RESOURCE_COLUMNS, *ITEM_COLUMNS) if c.choices
}


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def header_row(columns: Iterable[Column]) -> list[str]:
    return [c.header for c in columns]

"""The catalogue's consistency rules, in one place for the API, the pages and the Excel import.

`check_resource_draft` never touches the database: callers pass the departments and categories the draft
refers to, so that an import of 20,000 rows validates with two queries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from django.db import models

from govshare.accounts.models import Department
from govshare.catalog.choices import (
    FORMAT_ALLOWED_PLATFORM_TYPES,
    LENGTH_REQUIRED_TYPES,
    OPEN_STRICTNESS,
    SHARE_STRICTNESS,
    CategoryLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.catalog.models import Category
from govshare.core.errors import FieldProblem

RESOURCE_CODE_RE = re.compile(r"^\d{9}/\d{6}$")
MAX_ITEM_LENGTH = 1_000_000
MAX_ITEMS = 500

FIELD_LABELS: dict[str, str] = {
    "code": "信息资源代码",
    "name": "信息资源名称",
    "category_code": "信息资源分类",
    "department_code": "提供方代码",
    "summary": "信息资源摘要",
    "format": "信息资源格式",
    "sub_format": "格式细类",
    "share_type": "共享属性",
    "share_condition": "共享条件",
    "share_basis": "不予共享依据",
    "share_method": "共享方式",
    "platform_share_type": "共享方式类型",
    "open_type": "开放属性",
    "open_condition": "开放条件",
    "update_cycle": "更新周期",
    "related_codes": "关联资源代码",
    "items": "信息项",
}


@dataclass
class ItemDraft:
    name: str
    data_type: str
    length: int | None = None
    share_type: str = ""
    open_type: str = ""
    description: str = ""


@dataclass
class ResourceDraft:
    """Plain values of a resource as a user entered them (choice values, department and class codes)."""

    name: str
    category_code: str
    department_code: str
    summary: str
    format: str
    share_type: str
    open_type: str
    update_cycle: str
    items: list[ItemDraft]
    sub_format: str = ""
    share_condition: str = ""
    share_basis: str = ""
    share_method: str = ""
    platform_share_type: str = ""
    open_condition: str = ""
    related_codes: list[str] = field(default_factory=list)
    extension: dict[str, object] = field(default_factory=dict)
    code: str = ""


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def _required(value: str) -> bool:
    return bool(value and value.strip())


@cache
def _values(choices: type[models.TextChoices]) -> frozenset[str]:
    """The values of a choices class (Django rebuilds `.values` as a list on every access: 10 µs a check)."""
    return frozenset(choices.values)


def _choice_problem(name: str, value: str, choices: type[models.TextChoices]) -> FieldProblem | None:
    if value not in _values(choices):
        allowed = "、".join(str(label) for label in choices.labels)
        return FieldProblem(name, f"{_label(name)}“{value}”无效，可选值：{allowed}")
    return None


def check_resource_draft(
    draft: ResourceDraft,
    *,
    departments: Mapping[str, Department],
    categories: Mapping[str, Category],
) -> list[FieldProblem]:
    """Every problem with the draft, each naming its field in Chinese; an empty list means it is consistent."""
    problems: list[FieldProblem] = []
    add = problems.append

    for name in (
        "name",
        "category_code",
        "department_code",
        "summary",
        "format",
        "share_type",
        "open_type",
        "update_cycle",
    ):
        if not _required(getattr(draft, name)):
            add(FieldProblem(name, f"{_label(name)}为必填项"))
    if len(draft.name) > 200:
        add(FieldProblem("name", "信息资源名称不能超过200个字符"))
    if len(draft.sub_format) > 30:
        add(FieldProblem("sub_format", "格式细类不能超过30个字符"))

    for name, enum in (
        ("format", ResourceFormat),
        ("share_type", ShareType),
        ("open_type", OpenType),
        ("update_cycle", UpdateCycle),
    ):
        value = getattr(draft, name)
        if _required(value) and (problem := _choice_problem(name, value, enum)):
            add(problem)

    if _required(draft.category_code):
        category = categories.get(draft.category_code)
        if category is None or not category.is_active:
            add(FieldProblem("category_code", f"信息资源分类“{draft.category_code}”不存在或已停用"))
        elif category.level < CategoryLevel.ITEM:
            add(FieldProblem("category_code", "信息资源分类至少应选到“项”一级（如 101 人口）"))
        elif draft.code and RESOURCE_CODE_RE.match(draft.code) and not draft.code.startswith(category.code_prefix):
            add(FieldProblem("code", f"信息资源代码“{draft.code}”的前段码应为分类“{category.code_prefix}”"))
    if _required(draft.department_code):
        department = departments.get(draft.department_code)
        if department is None or not department.is_active:
            add(FieldProblem("department_code", f"提供方代码“{draft.department_code}”不是平台中的部门"))

    if draft.code and not RESOURCE_CODE_RE.match(draft.code):
        add(FieldProblem("code", f"信息资源代码“{draft.code}”格式应为9位分类码/6位顺序码，如 101001000/000001"))
    for related in draft.related_codes:
        if not RESOURCE_CODE_RE.match(related):
            add(FieldProblem("related_codes", f"关联资源代码“{related}”格式应为 101001000/000001"))

    # Share and open attributes (1272 guideline; 不予共享 needs a legal basis and implies 不予开放).
    if draft.share_type == ShareType.CONDITIONAL and not _required(draft.share_condition):
        add(FieldProblem("share_condition", "有条件共享的资源必须填写共享条件"))
    if draft.share_type == ShareType.NOT_SHARED:
        if not _required(draft.share_basis):
            add(FieldProblem("share_basis", "不予共享的资源必须填写法律、行政法规或国家政策依据"))
        if draft.open_type and draft.open_type != OpenType.NOT_OPEN:
            add(FieldProblem("open_type", "不予共享的资源只能为不予开放"))
    if draft.open_type == OpenType.CONDITIONAL and not _required(draft.open_condition):
        add(FieldProblem("open_condition", "有条件开放的资源必须填写开放条件"))

    problems.extend(_share_method_problems(draft))
    problems.extend(_item_problems(draft))
    return problems


def _share_method_problems(draft: ResourceDraft) -> list[FieldProblem]:
    if not draft.share_method:
        if draft.share_type and draft.share_type != ShareType.NOT_SHARED:
            return [FieldProblem("share_method", "可共享的资源必须填写共享方式")]
        return []
    if problem := _choice_problem("share_method", draft.share_method, ShareMethod):
        return [problem]
    if draft.share_method == ShareMethod.OFFLINE:
        if draft.platform_share_type:
            return [FieldProblem("platform_share_type", "邮件/介质方式不需要填写共享方式类型（接口/库表/文件）")]
        return []
    if not draft.platform_share_type:
        return [FieldProblem("platform_share_type", "共享平台方式必须填写共享方式类型：接口、库表或文件")]
    if problem := _choice_problem("platform_share_type", draft.platform_share_type, PlatformShareType):
        return [problem]
    allowed = FORMAT_ALLOWED_PLATFORM_TYPES.get(draft.format)
    if allowed is not None and draft.platform_share_type not in allowed:
        fmt = ResourceFormat(draft.format).label
        kinds = "或".join(PlatformShareType(v).label for v in sorted(allowed))
        got = PlatformShareType(draft.platform_share_type).label
        return [FieldProblem("platform_share_type", f"{fmt}格式的资源应以{kinds}方式共享，不能用{got}")]
    return []


def _item_problems(draft: ResourceDraft) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not draft.items:
        return [FieldProblem("items", "信息资源至少应包含一个信息项")]
    if len(draft.items) > MAX_ITEMS:
        return [FieldProblem("items", f"一个信息资源最多 {MAX_ITEMS} 个信息项")]
    seen: set[str] = set()
    for index, item in enumerate(draft.items, start=1):
        where = f"第{index}个信息项"
        name = item.name.strip()
        if not name:
            problems.append(FieldProblem(f"items[{index}].name", f"{where}的名称为必填项"))
        elif len(name) > 100:
            problems.append(FieldProblem(f"items[{index}].name", f"{where}的名称不能超过100个字符"))
        elif name in seen:
            problems.append(FieldProblem(f"items[{index}].name", f"信息项“{name}”重复"))
        seen.add(name)
        if item.data_type not in _values(ItemDataType):
            allowed = "、".join(f"{c.label}({c.value})" for c in ItemDataType)
            problems.append(
                FieldProblem(f"items[{index}].data_type", f"{where}的数据类型“{item.data_type}”无效，可选：{allowed}")
            )
        elif item.data_type in LENGTH_REQUIRED_TYPES and not item.length:
            label = ItemDataType(item.data_type).label
            problems.append(FieldProblem(f"items[{index}].length", f"{where}为{label}，必须填写数据长度"))
        if item.length is not None and not 0 < item.length <= MAX_ITEM_LENGTH:
            problems.append(
                FieldProblem(f"items[{index}].length", f"{where}的数据长度应为 1 到 {MAX_ITEM_LENGTH} 之间的整数")
            )
        if item.share_type:
            if item.share_type not in _values(ShareType):
                problems.append(FieldProblem(f"items[{index}].share_type", f"{where}的共享属性“{item.share_type}”无效"))
            elif draft.share_type in _values(ShareType) and (
                SHARE_STRICTNESS[ShareType(item.share_type)] < SHARE_STRICTNESS[ShareType(draft.share_type)]
            ):
                problems.append(
                    FieldProblem(f"items[{index}].share_type", f"{where}的共享属性不能比资源的共享属性更宽松")
                )
        if item.open_type:
            if item.open_type not in _values(OpenType):
                problems.append(FieldProblem(f"items[{index}].open_type", f"{where}的开放属性“{item.open_type}”无效"))
            elif draft.open_type in _values(OpenType) and (
                OPEN_STRICTNESS[OpenType(item.open_type)] < OPEN_STRICTNESS[OpenType(draft.open_type)]
            ):
                problems.append(
                    FieldProblem(f"items[{index}].open_type", f"{where}的开放属性不能比资源的开放属性更宽松")
                )
    return problems

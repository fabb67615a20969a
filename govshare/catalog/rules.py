"""The catalogue's consistency rules, in one place for the API, the pages and the Excel import.

`check_resource_draft` never touches the database: callers pass the departments and categories the draft
refers to, so that an import of 20,000 rows validates with two queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from govshare.accounts.models import Department
from govshare.catalog.choices import (
    DEFAULT_GRADE,
    DEFAULT_LEVEL,
    FORMAT_ALLOWED_PLATFORM_TYPES,
    GRADE_STRICTNESS,
    LENGTH_REQUIRED_TYPES,
    LEVEL_STRICTNESS,
    OPEN_STRICTNESS,
    SHARE_STRICTNESS,
    AtRest,
    CategoryLevel,
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
from govshare.catalog.models import Category, Item, Resource
from govshare.core.errors import FieldProblem
from govshare.core.identifiers import uscc_check_char, uscc_problem

# ASCII digits only: \d would take full-width and other Unicode digits ("１０１…"), codes that look like others.
RESOURCE_CODE_RE = re.compile(r"^[0-9]{9}/[0-9]{6}$")
MAX_ITEM_LENGTH = 1_000_000
MAX_ITEMS = 500

FIELD_LABELS: dict[str, str] = {
    "code": gettext_noop("信息资源代码"),
    "name": gettext_noop("信息资源名称"),
    "category_code": gettext_noop("信息资源分类"),
    "department_code": gettext_noop("提供方代码"),
    "summary": gettext_noop("信息资源摘要"),
    "format": gettext_noop("信息资源格式"),
    "sub_format": gettext_noop("格式细类"),
    "share_type": gettext_noop("共享属性"),
    "share_condition": gettext_noop("共享条件"),
    "share_basis": gettext_noop("不予共享依据"),
    "share_method": gettext_noop("共享方式"),
    "platform_share_type": gettext_noop("共享方式类型"),
    "open_type": gettext_noop("开放属性"),
    "open_condition": gettext_noop("开放条件"),
    "grade": gettext_noop("数据级别"),
    "data_level": gettext_noop("敏感级别"),
    "update_cycle": gettext_noop("更新周期"),
    "related_codes": gettext_noop("关联资源代码"),
    "items": gettext_noop("信息项"),
}


@dataclass
class ItemDraft:
    name: str
    data_type: str
    length: int | None = None
    share_type: str = ""
    open_type: str = ""
    description: str = ""
    grade: str = ""  # blank: same as the resource
    data_level: str = ""  # blank: same as the resource
    at_rest: str = ""  # blank: 明文 for a new item, unchanged for an existing one


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
    grade: str = ""  # blank: 一般
    data_level: str = ""  # blank: L2, or L1 for an entry declared 无条件开放 (see `effective_level`)


def _label(name: str) -> str:
    """A field's name in the reader's language (rules run while a request is answered, in its language)."""
    return _(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def _tr(label: object) -> str:
    """A choice label (Chinese in the models: the guideline's terms) in the reader's language."""
    return _(str(label))


def _allowed(choices: type[models.TextChoices]) -> str:
    """The allowed values as a reader can type them: the Chinese labels (which the API, the pages and the import
    take), or for a reader in another language the translated label with the value it stands for."""
    shown = []
    for value, label in choices.choices:
        translated = _tr(label)
        shown.append(translated if translated == str(label) else f"{translated} ({value})")
    return _("、").join(shown)


def _required(value: str) -> bool:
    return bool(value and value.strip())


@cache
def _values(choices: type[models.TextChoices]) -> frozenset[str]:
    """The values of a choices class (Django rebuilds `.values` as a list on every access: 10 µs a check)."""
    return frozenset(choices.values)


def _choice_problem(name: str, value: str, choices: type[models.TextChoices]) -> FieldProblem | None:
    if value not in _values(choices):
        allowed = _allowed(choices)
        return FieldProblem(
            name,
            _("%(field)s“%(value)s”无效，可选值：%(allowed)s")
            % {"field": _label(name), "value": value, "allowed": allowed},
        )
    return None


def with_right_check_char(code: str) -> str | None:
    """The 统一社会信用代码 `code` with its check character (the 18th) corrected, when that character is all that is
    wrong with it; None otherwise (a valid code, or other mistakes)."""
    if len(code) != 18:
        return None
    try:
        fixed = code[:17] + uscc_check_char(code[:17])
    except ValueError:
        return None
    return fixed if fixed != code and uscc_problem(fixed) is None else None


def provider_code_problem(code: str, departments: Mapping[str, Department]) -> str:
    """Why `code` names no active department of the platform: a mistyped check character is said as such (and the
    department whose code it would then be named), an invalid code says why, a disabled department says so.

    `departments` holds the departments of the codes looked up, corrected codes included (`codes_to_look_up`)."""
    department = departments.get(code)
    if department is not None:
        return _("提供方代码“%(code)s”是部门“%(department)s”的代码，该部门已停用") % {
            "code": code,
            "department": department.name,
        }
    corrected = with_right_check_char(code)
    if corrected is not None:
        message = _("提供方代码“%(code)s”的校验位（第18位）错误：应为“%(right)s”，实际为“%(wrong)s”") % {
            "code": code,
            "right": corrected[17],
            "wrong": code[17],
        }
        meant = departments.get(corrected)
        if meant is not None and meant.is_active:
            message += _("；“%(code)s”是部门“%(department)s”的代码") % {"code": corrected, "department": meant.name}
        return message
    if problem := uscc_problem(code):
        return _("提供方代码“%(code)s”不是有效的统一社会信用代码：%(problem)s") % {"code": code, "problem": problem}
    return _("提供方代码“%(code)s”不是平台中的部门") % {"code": code}


def codes_to_look_up(codes: Iterable[str]) -> set[str]:
    """The department codes to fetch for checking drafts naming `codes`: those, and each with its check character
    corrected (so that a mistyped one names the department meant)."""
    found = set(codes)
    return found | {fixed for code in found if (fixed := with_right_check_char(code))}


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
            add(FieldProblem(name, _("%(field)s为必填项") % {"field": _label(name)}))
    if len(draft.name) > 200:
        add(FieldProblem("name", _("信息资源名称不能超过200个字符")))
    if len(draft.sub_format) > 30:
        add(FieldProblem("sub_format", _("格式细类不能超过30个字符")))

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
            add(
                FieldProblem("category_code", _("信息资源分类“%(code)s”不存在或已停用") % {"code": draft.category_code})
            )
        elif category.level < CategoryLevel.ITEM:
            add(FieldProblem("category_code", _("信息资源分类至少应选到“项”一级（如 101 人口）")))
        elif draft.code and RESOURCE_CODE_RE.match(draft.code) and not draft.code.startswith(category.code_prefix):
            add(
                FieldProblem(
                    "code",
                    _("信息资源代码“%(code)s”的前段码应为分类“%(prefix)s”")
                    % {"code": draft.code, "prefix": category.code_prefix},
                )
            )
    if _required(draft.department_code):
        department = departments.get(draft.department_code)
        if department is None or not department.is_active:
            add(FieldProblem("department_code", provider_code_problem(draft.department_code, departments)))

    if draft.code and not RESOURCE_CODE_RE.match(draft.code):
        add(
            FieldProblem(
                "code",
                _("信息资源代码“%(code)s”格式应为9位分类码/6位顺序码，如 101001000/000001") % {"code": draft.code},
            )
        )
    for related in draft.related_codes:
        if not RESOURCE_CODE_RE.match(related):
            add(FieldProblem("related_codes", _("关联资源代码“%(code)s”格式应为 101001000/000001") % {"code": related}))

    # Share and open attributes (1272 guideline; 不予共享 needs a legal basis and implies 不予开放).
    if draft.share_type == ShareType.CONDITIONAL and not _required(draft.share_condition):
        add(FieldProblem("share_condition", _("有条件共享的资源必须填写共享条件")))
    if draft.share_type == ShareType.NOT_SHARED:
        if not _required(draft.share_basis):
            add(FieldProblem("share_basis", _("不予共享的资源必须填写法律、行政法规或国家政策依据")))
        if draft.open_type and draft.open_type != OpenType.NOT_OPEN:
            add(FieldProblem("open_type", _("不予共享的资源只能为不予开放")))
    if draft.open_type == OpenType.CONDITIONAL and not _required(draft.open_condition):
        add(FieldProblem("open_condition", _("有条件开放的资源必须填写开放条件")))

    problems.extend(_grading_problems(draft))
    problems.extend(_share_method_problems(draft))
    problems.extend(_item_problems(draft))
    return problems


# ---------------------------------------------------------------------------------------------- grading


def effective_grade(grade: str, parent: str = "") -> str:
    """A blank grade is the resource's (for an item) or 一般 (for a resource)."""
    return grade or parent or DEFAULT_GRADE


def effective_level(level: str, open_type: str, parent: str = "") -> str:
    """A blank level is the resource's (for an item); for a resource it is L2, or L1 when the entry is declared
    无条件开放: only L1 may be opened without condition, so an entry (or a file, or an API client) from before
    grading that opens its data freely keeps doing so, and the security officer may regrade it."""
    if level:
        return level
    if parent:
        return parent
    return DataLevel.L1 if open_type == OpenType.UNCONDITIONAL else DEFAULT_LEVEL


def grading_open_problem(grade: str, level: str, open_type: str, *, subject: str = "") -> str | None:
    """What is wrong with this open attribute for this grade and level (GB/T 43697, DB33/T 2350), or None.

    核心 or L4 data is never opened; L3 and L2 data is opened only on application (有条件开放), after masking.
    """
    if open_type not in _values(OpenType):
        return None
    subject = subject or _("资源")
    current = _tr(OpenType(open_type).label)
    if open_type != OpenType.NOT_OPEN:
        if grade == DataGrade.CORE:
            return _("%(subject)s的数据级别为“核心”，开放属性只能为“不予开放”（现为“%(current)s”）") % {
                "subject": subject,
                "current": current,
            }
        if level == DataLevel.L4:
            return _("%(subject)s的敏感级别为“L4 敏感”，开放属性只能为“不予开放”（现为“%(current)s”）") % {
                "subject": subject,
                "current": current,
            }
    if open_type == OpenType.UNCONDITIONAL and level in (DataLevel.L3, DataLevel.L2):
        return _(
            "%(subject)s的敏感级别为“%(level)s”，不能“无条件开放”："
            "L3、L2 级数据只能依申请开放（有条件开放），并经脱敏后提供"
        ) % {"subject": subject, "level": _tr(DataLevel(level).label)}
    return None


CO_APPROVAL_GRADES = frozenset({DataGrade.IMPORTANT, DataGrade.CORE})


def needs_security_co_approval(resource: Resource, items: Iterable[Item] | None = None) -> bool:
    """Does sharing this resource need the security officer's co-approval (重要 data, GB/T 43697; 核心 even more)?

    `items` are the items a share request asks for (all of the resource's when None): a 一般 resource with one
    重要 item needs the co-approval only for requests that include that item.
    """
    if resource.grade in CO_APPROVAL_GRADES:
        return True
    if items is None:
        return resource.items.filter(grade__in=CO_APPROVAL_GRADES).exists()
    return any(item.grade in CO_APPROVAL_GRADES for item in items)


def tightened_open_type(open_type: str, grade: str, level: str) -> str:
    """The loosest open attribute at most as open as `open_type` that the grade and level allow."""
    if grade == DataGrade.CORE or level == DataLevel.L4:
        return OpenType.NOT_OPEN
    if open_type == OpenType.UNCONDITIONAL and level in (DataLevel.L3, DataLevel.L2):
        return OpenType.CONDITIONAL
    return open_type


def is_looser_grade(grade: str, than: str) -> bool:
    return GRADE_STRICTNESS[DataGrade(grade)] < GRADE_STRICTNESS[DataGrade(than)]


def is_looser_level(level: str, than: str) -> bool:
    return LEVEL_STRICTNESS[DataLevel(level)] < LEVEL_STRICTNESS[DataLevel(than)]


def _grading_problems(draft: ResourceDraft) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for name, enum in (("grade", DataGrade), ("data_level", DataLevel)):
        value = getattr(draft, name)
        if value and (problem := _choice_problem(name, value, enum)):
            problems.append(problem)
    if problems:
        return problems
    message = grading_open_problem(
        effective_grade(draft.grade), effective_level(draft.data_level, draft.open_type), draft.open_type
    )
    if message:
        problems.append(FieldProblem("open_type", message))
    return problems


def _item_grading_problems(draft: ResourceDraft, item: ItemDraft, index: int) -> list[FieldProblem]:
    """An item's grade and level: valid, never looser than the resource's, and consistent with its open attribute."""
    where = (
        _("第%(n)d个信息项“%(name)s”") % {"n": index, "name": item.name.strip()}
        if item.name.strip()
        else _("第%(n)d个信息项") % {"n": index}
    )
    problems: list[FieldProblem] = []
    if item.grade and item.grade not in _values(DataGrade):
        problems.append(
            FieldProblem(
                f"items[{index}].grade",
                _("%(where)s的数据级别“%(value)s”无效，可选值：%(allowed)s")
                % {"where": where, "value": item.grade, "allowed": _allowed(DataGrade)},
            )
        )
    if item.data_level and item.data_level not in _values(DataLevel):
        problems.append(
            FieldProblem(
                f"items[{index}].data_level",
                _("%(where)s的敏感级别“%(value)s”无效，可选值：%(allowed)s")
                % {"where": where, "value": item.data_level, "allowed": _allowed(DataLevel)},
            )
        )
    if problems or (draft.grade and draft.grade not in _values(DataGrade)):
        return problems
    if draft.data_level and draft.data_level not in _values(DataLevel):
        return problems
    resource_grade = effective_grade(draft.grade)
    resource_level = effective_level(draft.data_level, draft.open_type)
    grade = effective_grade(item.grade, resource_grade)
    level = effective_level(item.data_level, item.open_type or draft.open_type, resource_level)
    if is_looser_grade(grade, resource_grade):
        problems.append(
            FieldProblem(
                f"items[{index}].grade",
                _("%(where)s的数据级别“%(own)s”不能比资源的数据级别“%(resource)s”更宽松")
                % {
                    "where": where,
                    "own": _tr(DataGrade(grade).label),
                    "resource": _tr(DataGrade(resource_grade).label),
                },
            )
        )
    if is_looser_level(level, resource_level):
        problems.append(
            FieldProblem(
                f"items[{index}].data_level",
                _("%(where)s的敏感级别“%(own)s”不能比资源的敏感级别“%(resource)s”更宽松")
                % {
                    "where": where,
                    "own": _tr(DataLevel(level).label),
                    "resource": _tr(DataLevel(resource_level).label),
                },
            )
        )
    inherited = (grade, level, item.open_type or draft.open_type) == (resource_grade, resource_level, draft.open_type)
    if not problems and not inherited:  # an item that only follows its resource shares the resource's problem
        message = grading_open_problem(grade, level, item.open_type or draft.open_type, subject=where)
        if message:
            problems.append(FieldProblem(f"items[{index}].open_type", message))
    return problems


def _share_method_problems(draft: ResourceDraft) -> list[FieldProblem]:
    if not draft.share_method:
        if draft.share_type and draft.share_type != ShareType.NOT_SHARED:
            return [FieldProblem("share_method", _("可共享的资源必须填写共享方式"))]
        return []
    if problem := _choice_problem("share_method", draft.share_method, ShareMethod):
        return [problem]
    if draft.share_method == ShareMethod.OFFLINE:
        if draft.platform_share_type:
            return [FieldProblem("platform_share_type", _("邮件/介质方式不需要填写共享方式类型（接口/库表/文件）"))]
        return []
    if not draft.platform_share_type:
        return [FieldProblem("platform_share_type", _("共享平台方式必须填写共享方式类型：接口、库表或文件"))]
    if problem := _choice_problem("platform_share_type", draft.platform_share_type, PlatformShareType):
        return [problem]
    allowed = FORMAT_ALLOWED_PLATFORM_TYPES.get(draft.format)
    if allowed is not None and draft.platform_share_type not in allowed:
        fmt = _tr(ResourceFormat(draft.format).label)
        kinds = _("或").join(_tr(PlatformShareType(v).label) for v in sorted(allowed))
        got = _tr(PlatformShareType(draft.platform_share_type).label)
        return [
            FieldProblem(
                "platform_share_type",
                _("%(format)s格式的资源应以%(kinds)s方式共享，不能用%(got)s")
                % {"format": fmt, "kinds": kinds, "got": got},
            )
        ]
    return []


def _item_problems(draft: ResourceDraft) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not draft.items:
        return [FieldProblem("items", _("信息资源至少应包含一个信息项"))]
    if len(draft.items) > MAX_ITEMS:
        return [FieldProblem("items", _("一个信息资源最多 %(n)d 个信息项") % {"n": MAX_ITEMS})]
    seen: set[str] = set()
    for index, item in enumerate(draft.items, start=1):
        where = _("第%(n)d个信息项") % {"n": index}
        name = item.name.strip()
        if not name:
            problems.append(FieldProblem(f"items[{index}].name", _("%(where)s的名称为必填项") % {"where": where}))
        elif len(name) > 100:
            problems.append(
                FieldProblem(f"items[{index}].name", _("%(where)s的名称不能超过100个字符") % {"where": where})
            )
        elif name in seen:
            problems.append(FieldProblem(f"items[{index}].name", _("信息项“%(name)s”重复") % {"name": name}))
        seen.add(name)
        if item.data_type not in _values(ItemDataType):
            allowed = _("、").join(f"{_tr(c.label)}({c.value})" for c in ItemDataType)
            problems.append(
                FieldProblem(
                    f"items[{index}].data_type",
                    _("%(where)s的数据类型“%(value)s”无效，可选：%(allowed)s")
                    % {"where": where, "value": item.data_type, "allowed": allowed},
                )
            )
        elif item.data_type in LENGTH_REQUIRED_TYPES and not item.length:
            label = _tr(ItemDataType(item.data_type).label)
            problems.append(
                FieldProblem(
                    f"items[{index}].length",
                    _("%(where)s为%(type)s，必须填写数据长度") % {"where": where, "type": label},
                )
            )
        if item.length is not None and not 0 < item.length <= MAX_ITEM_LENGTH:
            problems.append(
                FieldProblem(
                    f"items[{index}].length",
                    _("%(where)s的数据长度应为 1 到 %(max)d 之间的整数") % {"where": where, "max": MAX_ITEM_LENGTH},
                )
            )
        if item.share_type:
            if item.share_type not in _values(ShareType):
                problems.append(
                    FieldProblem(
                        f"items[{index}].share_type",
                        _("%(where)s的共享属性“%(value)s”无效") % {"where": where, "value": item.share_type},
                    )
                )
            elif draft.share_type in _values(ShareType) and (
                SHARE_STRICTNESS[ShareType(item.share_type)] < SHARE_STRICTNESS[ShareType(draft.share_type)]
            ):
                problems.append(
                    FieldProblem(
                        f"items[{index}].share_type",
                        _("%(where)s的共享属性不能比资源的共享属性更宽松") % {"where": where},
                    )
                )
        if item.open_type:
            if item.open_type not in _values(OpenType):
                problems.append(
                    FieldProblem(
                        f"items[{index}].open_type",
                        _("%(where)s的开放属性“%(value)s”无效") % {"where": where, "value": item.open_type},
                    )
                )
            elif draft.open_type in _values(OpenType) and (
                OPEN_STRICTNESS[OpenType(item.open_type)] < OPEN_STRICTNESS[OpenType(draft.open_type)]
            ):
                problems.append(
                    FieldProblem(
                        f"items[{index}].open_type",
                        _("%(where)s的开放属性不能比资源的开放属性更宽松") % {"where": where},
                    )
                )
        problems.extend(_item_grading_problems(draft, item, index))
        if item.at_rest and item.at_rest not in _values(AtRest):
            problems.append(
                FieldProblem(
                    f"items[{index}].at_rest",
                    _("%(where)s的静态加密“%(value)s”无效，可选：%(allowed)s")
                    % {"where": where, "value": item.at_rest, "allowed": _allowed(AtRest)},
                )
            )
    return problems


GRADING_BY_PROPOSAL = gettext_noop("请在资源页面提交“分级调整申请”，由安全管理员审核后生效")


def grading_edit_problems(resource: Resource, items: Iterable[Item], draft: ResourceDraft) -> list[FieldProblem]:
    """Edits of a once-published entry may not change its grades or levels: those go through a grading change
    reviewed by the security officer. Items added by the edit get their first grade with the edit."""
    if resource.published_on is None:
        return []
    problems: list[FieldProblem] = []
    grade = effective_grade(draft.grade)
    level = effective_level(draft.data_level, draft.open_type)
    if grade != resource.grade:
        problems.append(
            FieldProblem(
                "grade",
                _("资源已发布过，数据级别不能直接从“%(before)s”改为“%(after)s”：%(how)s")
                % {
                    "before": _tr(resource.get_grade_display()),
                    "after": _tr(_choice_label(DataGrade, grade)),
                    "how": _(GRADING_BY_PROPOSAL),
                },
            )
        )
    if level != resource.data_level:
        problems.append(
            FieldProblem(
                "data_level",
                _("资源已发布过，敏感级别不能直接从“%(before)s”改为“%(after)s”：%(how)s")
                % {
                    "before": _tr(resource.get_data_level_display()),
                    "after": _tr(_choice_label(DataLevel, level)),
                    "how": _(GRADING_BY_PROPOSAL),
                },
            )
        )
    current = {item.name: item for item in items}
    for index, item in enumerate(draft.items, start=1):
        existing = current.get(item.name.strip())
        if existing is None or not (item.grade or item.data_level):
            continue  # a new item, or one that follows the resource (whose own change is reported above)
        item_grade = effective_grade(item.grade, grade)
        item_level = effective_level(item.data_level, item.open_type or draft.open_type, level)
        if item_grade != existing.grade or item_level != existing.data_level:
            problems.append(
                FieldProblem(
                    f"items[{index}].grade" if item_grade != existing.grade else f"items[{index}].data_level",
                    _("信息项“%(name)s”已发布过，其数据级别、敏感级别不能直接修改：%(how)s")
                    % {"name": existing.name, "how": _(GRADING_BY_PROPOSAL)},
                )
            )
    return problems


def _choice_label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value

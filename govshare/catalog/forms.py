"""Page forms of the catalogue. They only parse input into a `ResourceDraft`; the rules (and their Chinese
messages) live in `govshare.catalog.rules` and are applied by the services, whose `FieldProblem`s are put
back next to the field or item row they name."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from govshare.accounts.models import Department, User
from govshare.catalog.choices import (
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
from govshare.catalog.item_hints import ItemHint, hint_for_item, hints_for_script
from govshare.catalog.models import Category, Resource
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.errors import FieldProblem
from govshare.core.formfields import mark_required, show_when

# The fields `rules.check_resource_draft` requires of every entry, marked * on the form before it is sent (a test
# holds the two lists together).
RULES_REQUIRED = (
    "name",
    "category_code",
    "department_code",
    "summary",
    "format",
    "share_type",
    "open_type",
    "update_cycle",
)
# Fields that apply only while another field has one of some values, and are then required: (field, controller,
# values). The script hides them otherwise (a field showing an error stays visible).
CONDITIONAL_FIELDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("share_condition", "share_type", (ShareType.CONDITIONAL,)),
    ("share_basis", "share_type", (ShareType.NOT_SHARED,)),
    ("open_condition", "open_type", (OpenType.CONDITIONAL,)),
    ("platform_share_type", "share_method", (ShareMethod.PLATFORM,)),
)
_ITEM_PROBLEM_RE = re.compile(r"^items\[(\d+)\]\.(\w+)$")
_CODE_SPLIT_RE = re.compile(r"[\s,，、;；]+")
BLANK = ("", "---------")


def _choices(enum: Any, blank: Any = "") -> list[tuple[str, Any]]:
    return [("", blank or "---------"), *((str(c.value), _(str(c.label))) for c in enum)]


def category_choices() -> list[tuple[str, str]]:
    """Active classes from 项 down, indented by level so that the tree reads in a plain select."""
    rows = Category.objects.filter(is_active=True, level__gte=CategoryLevel.ITEM).order_by("code")
    return [BLANK, *((c.code, "\u3000" * (c.level - 2) + f"{c.code} {c.name}") for c in rows)]


def parse_extension(text: str) -> dict[str, str]:
    """Extension metadata typed as one “名称=值” per line (blank lines ignored)."""
    result: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(_("第%(n)d行应为“名称=值”") % {"n": number})
        result[key.strip()] = value.strip()
    return result


def format_extension(extension: dict[str, object]) -> str:
    return "\n".join(f"{key}={value}" for key, value in extension.items())


class ResourceForm(forms.Form):
    """Every core metadata field of the 1272 guideline. Fields are optional here: the rules say what is
    required, in the same words as the API and the Excel import."""

    name = forms.CharField(label=_("信息资源名称"), required=False, max_length=200)
    # Their options are names kept in the database (categories, departments): content in Chinese (see |content).
    category_code = forms.ChoiceField(
        label=_("信息资源分类"), required=False, widget=forms.Select(attrs={"lang": "zh-Hans"})
    )
    department_code = forms.ChoiceField(
        label=_("信息资源提供方"), required=False, widget=forms.Select(attrs={"lang": "zh-Hans"})
    )
    summary = forms.CharField(label=_("信息资源摘要"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    format = forms.ChoiceField(label=_("信息资源格式"), required=False, choices=_choices(ResourceFormat))
    sub_format = forms.CharField(
        label=_("格式细类"), required=False, max_length=30, help_text=_("如 xlsx、csv、json、pdf")
    )
    share_type = forms.ChoiceField(label=_("共享属性"), required=False, choices=_choices(ShareType))
    share_condition = forms.CharField(
        label=_("共享条件"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("有条件共享必填")
    )
    share_basis = forms.CharField(
        label=_("不予共享依据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不予共享必填：法律、行政法规或国家政策依据"),
    )
    share_method = forms.ChoiceField(label=_("共享方式"), required=False, choices=_choices(ShareMethod))
    platform_share_type = forms.ChoiceField(
        label=_("共享方式类型"),
        required=False,
        choices=_choices(PlatformShareType),
        help_text=_("共享平台方式时填写：接口、库表或文件"),
    )
    open_type = forms.ChoiceField(label=_("开放属性"), required=False, choices=_choices(OpenType))
    open_condition = forms.CharField(
        label=_("开放条件"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("有条件开放必填")
    )
    grade = forms.ChoiceField(
        label=_("数据级别"),
        required=False,
        choices=_choices(DataGrade, _("一般（默认）")),
        help_text=_("GB/T 43697：核心数据不予开放；重要数据共享须经安全管理员会签"),
    )
    data_level = forms.ChoiceField(
        label=_("敏感级别"),
        required=False,
        choices=_choices(DataLevel, _("默认（L2；无条件开放的为 L1）")),
        help_text=_("L4 不予开放；L3、L2 只能依申请（有条件）开放并脱敏；L1 可无条件开放"),
    )
    update_cycle = forms.ChoiceField(label=_("更新周期"), required=False, choices=_choices(UpdateCycle))
    related_codes = forms.CharField(
        label=_("关联资源代码"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("可选；多个代码以空格、逗号或换行分隔，如 101001000/000001"),
    )
    extension = forms.CharField(
        label=_("扩展元数据"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("可选；每行一项，格式为“名称=值”"),
    )

    def __init__(self, *args: Any, user: User, resource: Resource | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.resource = resource
        self.fields["category_code"].choices = category_choices()  # type: ignore[attr-defined]
        departments = Department.objects.filter(is_active=True).order_by("code")
        if not user.is_platform_admin:
            departments = departments.filter(pk=user.department_id or 0)
        self.fields["department_code"].choices = [(d.code, f"{d.name}（{d.code}）") for d in departments]  # type: ignore[attr-defined]
        if resource is not None:
            # The class decides the code and the department owns the entry: both are fixed once created.
            for name in ("category_code", "department_code"):
                self.fields[name].disabled = True
            if resource.published_on is not None:
                # Grades of a once-published entry change only through a grading change (security officer).
                for name in ("grade", "data_level"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("已发布过的资源请在资源页面提交分级调整申请")
        elif not user.is_platform_admin:
            # A department catalogues for itself only.
            self.fields["department_code"].disabled = True
        mark_required(self, RULES_REQUIRED)
        for name, controller, values in CONDITIONAL_FIELDS:
            show_when(self, name, controller, values, required=True)

    def clean_extension(self) -> dict[str, str]:
        return parse_extension(self.cleaned_data.get("extension", ""))

    def clean_related_codes(self) -> list[str]:
        return [code for code in _CODE_SPLIT_RE.split(self.cleaned_data.get("related_codes", "")) if code]

    def to_draft(self, items: list[ItemDraft]) -> ResourceDraft:
        data = self.cleaned_data
        return ResourceDraft(
            name=data["name"],
            category_code=data["category_code"],
            department_code=data["department_code"],
            summary=data["summary"],
            format=data["format"],
            sub_format=data["sub_format"],
            share_type=data["share_type"],
            share_condition=data["share_condition"],
            share_basis=data["share_basis"],
            share_method=data["share_method"],
            platform_share_type=data["platform_share_type"],
            open_type=data["open_type"],
            open_condition=data["open_condition"],
            grade=data["grade"],
            data_level=data["data_level"],
            update_cycle=data["update_cycle"],
            related_codes=data["related_codes"],
            extension=dict(data["extension"]),
            items=items,
        )

    @staticmethod
    def initial_for(resource: Resource) -> dict[str, object]:
        return {
            "name": resource.name,
            "category_code": resource.category.code,
            "department_code": resource.department.code,
            "summary": resource.summary,
            "format": resource.format,
            "sub_format": resource.sub_format,
            "share_type": resource.share_type,
            "share_condition": resource.share_condition,
            "share_basis": resource.share_basis,
            "share_method": resource.share_method,
            "platform_share_type": resource.platform_share_type,
            "open_type": resource.open_type,
            "open_condition": resource.open_condition,
            "grade": resource.grade,
            "data_level": resource.data_level,
            "update_cycle": resource.update_cycle,
            "related_codes": "\n".join(resource.related_codes or []),
            "extension": format_extension(resource.extension or {}),
        }


class ItemForm(forms.Form):
    name = forms.CharField(label=_("信息项名称"), required=False, max_length=100)
    data_type = forms.ChoiceField(
        label=_("数据类型"),
        required=False,
        choices=[
            ("", "---------"),
            *((c.value, format_lazy("{}（{}）", _(str(c.label)), c.value)) for c in ItemDataType),
        ],
    )
    length = forms.IntegerField(label=_("数据长度"), required=False, min_value=1)
    share_type = forms.ChoiceField(label=_("共享属性"), required=False, choices=_choices(ShareType, _("同资源")))
    open_type = forms.ChoiceField(label=_("开放属性"), required=False, choices=_choices(OpenType, _("同资源")))
    grade = forms.ChoiceField(label=_("数据级别"), required=False, choices=_choices(DataGrade, _("同资源")))
    data_level = forms.ChoiceField(label=_("敏感级别"), required=False, choices=_choices(DataLevel, _("同资源")))
    description = forms.CharField(label=_("说明"), required=False, max_length=500)
    at_rest = forms.ChoiceField(
        label=_("静态加密"),
        required=False,
        choices=[(str(c.value), _(str(c.label))) for c in AtRest],
        initial=AtRest.PLAIN,
        help_text=_("加密：归集数据以 SM4 加密存储；加密可检索：另存 HMAC-SM3，可按等值查询；数据来源的主键须为明文"),
    )

    def hint(self) -> ItemHint | None:
        """The sensitivity and masking suggestion for the row's name, shown next to it (`catalog.item_hints`)."""
        name = self.data.get(self.add_prefix("name"), "") if self.is_bound else self.initial.get("name", "")
        return hint_for_item(str(name or ""))

    def hint_is_looser(self) -> bool:
        """Whether the row's own 敏感级别 is below the suggestion (blank is 同资源: not known to the row)."""
        hint = self.hint()
        return hint is not None and hint.is_looser(str(self["data_level"].value() or ""))

    @staticmethod
    def hints_json() -> str:
        """The suggestions for the form's static script, which suggests while a name is typed."""
        return hints_for_script()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("name", "data_type", "length", "description"))

    def to_item(self) -> ItemDraft:
        data = self.cleaned_data
        return ItemDraft(
            name=data["name"],
            data_type=data["data_type"],
            length=data["length"],
            share_type=data["share_type"],
            open_type=data["open_type"],
            description=data["description"],
            grade=data["grade"],
            data_level=data["data_level"],
            at_rest=data["at_rest"],
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=1, can_delete=True, max_num=500, absolute_max=500)


def item_initial(resource: Resource) -> list[dict[str, object]]:
    return [
        {
            "name": item.name,
            "data_type": item.data_type,
            "length": item.length,
            "share_type": item.share_type if item.share_type != resource.share_type else "",
            "open_type": item.open_type if item.open_type != resource.open_type else "",
            "grade": item.grade if item.grade != resource.grade else "",
            "data_level": item.data_level if item.data_level != resource.data_level else "",
            "description": item.description,
            "at_rest": item.at_rest,
        }
        for item in resource.items.all()
    ]


def kept_item_forms(formset: forms.BaseFormSet) -> list[ItemForm]:
    """The rows that become items, in order: not marked for deletion and not left blank."""
    return [
        form
        for form in formset.forms
        if not formset._should_delete_form(form) and not form.is_blank()  # type: ignore[attr-defined]
    ]


def place_problems(
    problems: list[FieldProblem], form: ResourceForm, item_forms: list[ItemForm], formset: forms.BaseFormSet
) -> None:
    """Put each problem next to the field it names; item problems next to their row (numbered from 1)."""
    for problem in problems:
        match = _ITEM_PROBLEM_RE.match(problem.field)
        if match:
            index, name = int(match.group(1)), match.group(2)
            if 1 <= index <= len(item_forms) and name in item_forms[index - 1].fields:
                item_forms[index - 1].add_error(name, problem.message)
                continue
        if problem.field == "items":
            formset.non_form_errors().append(problem.message)
            continue
        if problem.field in form.fields and not form.fields[problem.field].disabled:
            form.add_error(problem.field, problem.message)
        else:
            form.add_error(None, problem.message)


def content_initial(content: dict[str, Any]) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The form's and the items' initial values from a change request's content (a version snapshot), as
    `ResourceForm.initial_for` and `item_initial` give them from an entry."""
    initial: dict[str, object] = {
        name: content.get(name, "")
        for name in (
            "name",
            "summary",
            "format",
            "sub_format",
            "share_type",
            "share_condition",
            "share_basis",
            "share_method",
            "platform_share_type",
            "open_type",
            "open_condition",
            "grade",
            "data_level",
            "update_cycle",
        )
    }
    initial["category_code"] = content.get("category", "")
    initial["department_code"] = content.get("department", "")
    initial["related_codes"] = "\n".join(content.get("related_codes") or [])
    initial["extension"] = format_extension(content.get("extension") or {})
    items = [
        {
            "name": item["name"],
            "data_type": item["data_type"],
            "length": item.get("length"),
            "share_type": item["share_type"] if item["share_type"] != content["share_type"] else "",
            "open_type": item["open_type"] if item["open_type"] != content["open_type"] else "",
            "grade": item["grade"] if item["grade"] != content.get("grade") else "",
            "data_level": item["data_level"] if item["data_level"] != content.get("data_level") else "",
            "description": item.get("description", ""),
            "at_rest": item.get("at_rest", ""),
        }
        for item in content.get("items", [])
    ]
    return initial, items

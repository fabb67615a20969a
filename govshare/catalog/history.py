"""Snapshots of a resource and readable field-by-field differences between two of them."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext, gettext_noop, pgettext

from govshare.catalog.choices import (
    AtRest,
    DataGrade,
    DataLevel,
    ItemDataType,
    OpenType,
    PlatformShareType,
    ResourceFormat,
    ReviewStatus,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from govshare.catalog.models import Item, Resource
from govshare.catalog.rules import FIELD_LABELS
from govshare.jobs.logs import sentence

# The notes the platform writes on a version: stored as written (the platform's language: the catalogue message
# itself, never translated, so that a batch's entries are found by their note) and shown in the reader's language.
BATCH_NOTE = gettext_noop("批量导入 #%(batch)d：%(file)s")
REVISION_NOTE_REVIEWED = gettext_noop("变更申请 #%(revision)d（%(author)s）；审核意见：%(note)s")
REVISION_NOTE = gettext_noop("变更申请 #%(revision)d（%(author)s）")
GRADING_NOTE_REVIEWED = gettext_noop("分级调整申请 #%(change)d（%(proposer)s）：%(reason)s；审核意见：%(note)s")
GRADING_NOTE = gettext_noop("分级调整申请 #%(change)d（%(proposer)s）：%(reason)s")
_NOTES = [
    sentence(message)[:2]
    for message in (BATCH_NOTE, REVISION_NOTE_REVIEWED, REVISION_NOTE, GRADING_NOTE_REVIEWED, GRADING_NOTE)
]


def readable_note(note: str) -> str:
    """A version's note in the reader's language when the platform wrote it (its values as they are); a note a
    person wrote (a withdrawal's reason) as written."""
    for pattern, message in _NOTES:
        if match := pattern.fullmatch(note):
            return gettext(message).replace(")d", ")s") % match.groupdict()
    return note


_SNAPSHOT_FIELDS = (
    "code",
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
    "related_codes",
    "extension",
    "status",
)
_DISPLAY_CHOICES: dict[str, Any] = {
    "format": ResourceFormat,
    "share_type": ShareType,
    "share_method": ShareMethod,
    "platform_share_type": PlatformShareType,
    "open_type": OpenType,
    "update_cycle": UpdateCycle,
    "status": ReviewStatus,
    "grade": DataGrade,
    "data_level": DataLevel,
    "at_rest": AtRest,
}
# Diffs are stored in Chinese (the platform's language) and read in the reader's (`readable`).
_LABELS = {
    **FIELD_LABELS,
    "status": gettext_noop("审核状态"),
    "extension": gettext_noop("扩展元数据"),
    "category": gettext_noop("信息资源分类"),
    "department": gettext_noop("信息资源提供方"),
    "published_on": gettext_noop("发布日期"),
}
_ITEM_FIELDS = {
    "data_type": gettext_noop("数据类型"),
    "length": gettext_noop("数据长度"),
    "share_type": gettext_noop("共享属性"),
    "open_type": gettext_noop("开放属性"),
    "grade": gettext_noop("数据级别"),
    "data_level": gettext_noop("敏感级别"),
    "at_rest": gettext_noop("静态加密"),
    "description": gettext_noop("说明"),
}
# The words a diff uses for an item added or removed and for no value (`diff`): translated in their own context
# (删除 here is "Removed", not the button's "Delete").
_DIFF_WORDS = frozenset({"（空）", "（无）", "新增", "存在", "删除"})
_ITEM_LABEL = re.compile(r"信息项“(?P<name>.*)”(?:的(?P<field>.+))?", re.DOTALL)


def snapshot(resource: Resource, items: list[Item]) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(resource, name) for name in _SNAPSHOT_FIELDS}
    data["category"] = resource.category.code if resource.category_id else ""
    data["department"] = resource.department.code if resource.department_id else ""
    data["published_on"] = resource.published_on.isoformat() if resource.published_on else None
    data["items"] = [
        {
            "name": item.name,
            "data_type": item.data_type,
            "length": item.length,
            "share_type": item.share_type,
            "open_type": item.open_type,
            "description": item.description,
            "grade": item.grade,
            "data_level": item.data_level,
            "at_rest": item.at_rest,
        }
        for item in items
    ]
    return data


def _display(name: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return "（空）"
    enum = _DISPLAY_CHOICES.get(name) or (ItemDataType if name == "data_type" else None)
    if name in ("share_type", "open_type") or enum is not None:
        enum = enum or ShareType
        try:
            return str(enum(value).label)
        except ValueError:
            return str(value)
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, str]]:
    """Changes as rows of {字段, 原值, 新值}, items compared by name."""
    if before is None:
        return []
    changes: list[dict[str, str]] = []
    for name, label in _LABELS.items():
        if name not in after or name == "items":
            continue
        if name not in before:
            continue  # the older snapshot predates the field (数据级别 and 敏感级别 came with grading)
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append({"field": name, "label": label, "old": _display(name, old), "new": _display(name, new)})
    old_items = {i["name"]: i for i in before.get("items", [])}
    new_items = {i["name"]: i for i in after.get("items", [])}
    for name in new_items.keys() - old_items.keys():
        changes.append({"field": "items", "label": f"信息项“{name}”", "old": "（无）", "new": "新增"})
    for name in old_items.keys() - new_items.keys():
        changes.append({"field": "items", "label": f"信息项“{name}”", "old": "存在", "new": "删除"})
    for name in sorted(old_items.keys() & new_items.keys()):
        for key, label in _ITEM_FIELDS.items():
            if key not in old_items[name]:
                continue
            old, new = old_items[name].get(key), new_items[name].get(key)
            if old != new:
                changes.append(
                    {
                        "field": f"items.{key}",
                        "label": f"信息项“{name}”的{label}",
                        "old": _display(key, old),
                        "new": _display(key, new),
                    }
                )
    return changes


def readable(changes: list[dict[str, str]]) -> list[dict[str, str]]:
    """A diff (as `diff` makes and versions keep it, in Chinese) in the reader's language: the field's label from its
    key, an item's by its name, and the words and choice labels of the values; other values are the entry's own."""
    shown = []
    for change in changes:
        field, label = change.get("field", ""), change.get("label", "")
        name = {}
        if field in _LABELS and field != "items":
            label = gettext(_LABELS[field])
        elif (field == "items" or field.startswith("items.")) and (match := _ITEM_LABEL.fullmatch(label)):
            name = {"name": match["name"]}  # the item's name in the label, for pages that mark it as content
            key = field.removeprefix("items.")
            if key in _ITEM_FIELDS:
                label = gettext("信息项“%(name)s”的%(field)s") % {
                    "name": match["name"],
                    "field": gettext(_ITEM_FIELDS[key]),
                }
            else:
                label = gettext("信息项“%(name)s”") % {"name": match["name"]}
        shown.append(
            {
                **change,
                **name,
                "label": label,
                "old": _readable_value(change.get("old")),
                "new": _readable_value(change.get("new")),
            }
        )
    return shown


def _readable_value(value: object) -> str:
    text = "" if value is None else str(value)
    if text in _DIFF_WORDS:
        return pgettext("版本差异", text)
    return gettext(text) if text else text

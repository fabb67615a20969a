"""Snapshots of a resource and readable field-by-field differences between two of them."""

from __future__ import annotations

from typing import Any

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
_LABELS = {
    **FIELD_LABELS,
    "status": "审核状态",
    "extension": "扩展元数据",
    "category": "信息资源分类",
    "department": "信息资源提供方",
    "published_on": "发布日期",
}
_ITEM_FIELDS = {
    "data_type": "数据类型",
    "length": "数据长度",
    "share_type": "共享属性",
    "open_type": "开放属性",
    "grade": "数据级别",
    "data_level": "敏感级别",
    "at_rest": "静态加密",
    "description": "说明",
}


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

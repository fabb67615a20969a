"""What a change request (变更) would break before it is approved: apps above the catalogue (sources' mappings,
datasets' columns, and later sharing grants and open-data listings) register a finder from their AppConfig.ready;
the catalogue asks every finder, without knowing the apps, which of their objects name an item the revision removes
or retypes. A finder reads its own app's rows for the entry and answers readable effects (Chinese sentences)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govshare.catalog.choices import ItemDataType
from govshare.catalog.models import Resource


@dataclass(frozen=True)
class ItemChanges:
    """The items a revision removes, and those whose data type it changes (name → (old, new) type code)."""

    removed: frozenset[str] = frozenset()
    retyped: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.removed or self.retyped)

    def affects(self, item_name: str) -> str:
        """How the revision changes this item, in words; "" when it keeps it as it is (for the finders' sentences)."""
        if item_name in self.removed:
            return "将被删除"
        if item_name in self.retyped:
            old, new = self.retyped[item_name]
            return f"的数据类型将由“{_type_label(old)}”改为“{_type_label(new)}”"
        return ""


@dataclass(frozen=True)
class Effect:
    """One object of another app that uses a removed or retyped item."""

    kind: str  # what the object is, e.g. 数据来源映射, 数据集字段
    subject: str  # which object, e.g. the source's name
    item: str  # the item it names
    message: str  # the whole sentence shown to the department and the reviewer


EffectFinder = Callable[[Resource, ItemChanges], list[Effect]]
_finders: dict[str, EffectFinder] = {}


def register_effect_finder(key: str, finder: EffectFinder) -> None:
    """Register an app's finder (from its AppConfig.ready). The same finder again changes nothing; another finder
    under a key already taken is refused."""
    known = _finders.get(key)
    if known is not None and known is not finder:
        raise ValueError(f"an effect finder {key!r} is already registered")
    _finders[key] = finder


def registered_finders() -> list[str]:
    return sorted(_finders)


def _type_label(code: str) -> str:
    try:
        return str(ItemDataType(code).label)
    except ValueError:
        return code


def item_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> ItemChanges:
    """Items of the `before` snapshot that `after` removes or gives another data type (items compared by name)."""
    old = {item["name"]: item for item in before.get("items", [])}
    new = {item["name"]: item for item in after.get("items", [])}
    retyped = {
        name: (old[name]["data_type"], new[name]["data_type"])
        for name in sorted(old.keys() & new.keys())
        if old[name]["data_type"] != new[name]["data_type"]
    }
    return ItemChanges(removed=frozenset(old.keys() - new.keys()), retyped=retyped)


def effects_of(resource: Resource, changes: ItemChanges) -> list[Effect]:
    """Every registered finder's effects of these item changes on the entry, by finder key."""
    if not changes:
        return []
    return [effect for key in sorted(_finders) for effect in _finders[key](resource, changes)]

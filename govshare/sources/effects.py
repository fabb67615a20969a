"""The sources' part of a change request's effects (govshare.catalog.effects): mappings and key items that name an
item the revision removes or retypes."""

from __future__ import annotations

from govshare.catalog.effects import Effect, ItemChanges, register_effect_finder
from govshare.catalog.models import Resource
from govshare.sources.models import Source


def source_effects(resource: Resource, changes: ItemChanges) -> list[Effect]:
    effects: list[Effect] = []
    for source in Source.objects.filter(resource=resource).order_by("pk"):
        for entry in source.mapping:
            item = str(entry.get("item", ""))
            if how := changes.affects(item):
                effects.append(
                    Effect(
                        kind="数据来源映射",
                        subject=source.name,
                        item=item,
                        message=f"数据来源“{source.name}”把列“{entry.get('column', '')}”映射到信息项“{item}”，"
                        f"该信息项{how}：通过后须重新确认映射，否则归集会失败",
                    )
                )
        for item in source.key_items:
            if how := changes.affects(str(item)):
                effects.append(
                    Effect(
                        kind="数据来源主键",
                        subject=source.name,
                        item=str(item),
                        message=f"数据来源“{source.name}”以信息项“{item}”为主键，该信息项{how}",
                    )
                )
    return effects


def register() -> None:
    register_effect_finder("sources", source_effects)

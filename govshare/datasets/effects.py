"""The datasets' part of a change request's effects (govshare.catalog.effects): columns of the entry's loaded data
that hold an item the revision removes or retypes."""

from __future__ import annotations

from govshare.catalog.effects import Effect, ItemChanges, register_effect_finder
from govshare.catalog.models import Resource
from govshare.datasets.models import Dataset


def dataset_effects(resource: Resource, changes: ItemChanges) -> list[Effect]:
    dataset = Dataset.objects.filter(resource=resource).first()
    if dataset is None:
        return []
    effects: list[Effect] = []
    for column in dataset.columns:
        name = str(column.get("name", ""))
        if how := changes.affects(name):
            effects.append(
                Effect(
                    kind="数据集字段",
                    subject=resource.name,
                    item=name,
                    message=f"已归集的数据（{dataset.row_count} 条）有字段“{name}”，该信息项{how}："
                    "使用方的预览、下载和接口将随下一次归集改变",
                )
            )
    return effects


def register() -> None:
    register_effect_finder("datasets", dataset_effects)

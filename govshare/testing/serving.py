"""Datasets with a key index, as the serving tests make them: a resource's file source mapped one column per item
(optionally with key items), and CSV reports loaded through it in this process."""

from __future__ import annotations

from pathlib import Path

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.datasets import services
from govshare.datasets.choices import LoadStatus
from govshare.datasets.loading import run_load
from govshare.datasets.models import Dataset
from govshare.sources import services as source_services
from govshare.sources.choices import SourceKind
from govshare.sources.models import Source


def file_source(resource: Resource, owner: User, *, key_items: list[str] | None = None) -> Source:
    """A CSV file source of the resource whose columns are its items' names."""
    names = list(resource.items.order_by("position").values_list("name", flat=True))
    source = source_services.register_source(
        resource,
        source_services.SourceInput(
            name="报送", kind=SourceKind.FILE, config={"format": "csv"}, key_items=key_items or []
        ),
        actor=owner,
    )
    return source_services.set_mapping(source, [source_services.MappingEntry(n, n) for n in names], actor=owner)


def load_rows(source: Source, owner: User, path: Path, rows: list[list[str]]) -> Dataset:
    """Load the rows (a CSV with the items' names as header) as a new version; the dataset after the load."""
    header = list(source.resource.items.order_by("position").values_list("name", flat=True))
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    load = services.request_load(source, actor=owner, file_path=path, enqueue=False)
    run_load(load.pk)
    load.refresh_from_db()
    assert load.status == LoadStatus.SUCCEEDED, load.error
    return Dataset.objects.get(pk=load.dataset_id)

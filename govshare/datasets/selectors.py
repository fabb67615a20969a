"""Reads of datasets and loads, scoped to what the user may see (404 outside it); sources' are in
govshare.sources.selectors."""

from __future__ import annotations

from django.db.models import QuerySet

from govshare.accounts.models import User
from govshare.catalog.models import Item, Resource
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.datasets.models import Dataset, Load
from govshare.sources.selectors import require_data_access


def dataset_of(user: User, resource: Resource) -> Dataset | None:
    require_data_access(user, resource)
    return Dataset.objects.filter(resource=resource).first()


def loads_of(user: User, resource: Resource) -> QuerySet[Load]:
    require_data_access(user, resource)
    return Load.objects.filter(dataset__resource=resource).select_related("source", "requested_by", "dataset")


def get_load(user: User, pk: int) -> Load:
    loads = Load.objects.select_related("dataset", "dataset__resource", "source", "requested_by")
    load = restrict(loads, user).filter(pk=pk).first()
    if load is None:
        raise NotFound("归集任务不存在或无权访问")
    return load


def field_dictionary(resource: Resource) -> list[Item]:
    """The resource's items in order: the data's field dictionary shown with previews."""
    return list(Item.objects.filter(resource=resource).order_by("position"))

"""Reads of sources, datasets and loads, scoped to what the user may see (404 outside it)."""

from __future__ import annotations

from django.db.models import QuerySet

from govshare.accounts.models import User
from govshare.catalog.models import Item, Resource
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.datasets.access import can_read_data, require_source_manager
from govshare.datasets.models import Dataset, Load, Source


def _require_data_access(user: User, resource: Resource) -> None:
    if not can_read_data(user, resource):
        raise NotFound("信息资源不存在或无权访问其数据")


def sources_of(user: User, resource: Resource) -> QuerySet[Source]:
    _require_data_access(user, resource)
    return Source.objects.filter(resource=resource).select_related("resource", "created_by")


def get_source(user: User, pk: int) -> Source:
    source = restrict(Source.objects.select_related("resource", "resource__department"), user).filter(pk=pk).first()
    if source is None:
        raise NotFound("数据来源不存在或无权访问")
    return source


def get_managed_source(user: User, pk: int) -> Source:
    """A source the user may preview, map and load: 404 outside the owning department (the platform administrator
    of another department included), 403 for a colleague whose role may only read the data."""
    source = get_source(user, pk)
    require_source_manager(user, source.resource)
    return source


def dataset_of(user: User, resource: Resource) -> Dataset | None:
    _require_data_access(user, resource)
    return Dataset.objects.filter(resource=resource).first()


def loads_of(user: User, resource: Resource) -> QuerySet[Load]:
    _require_data_access(user, resource)
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

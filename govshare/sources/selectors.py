"""Reads of sources, scoped to what the user may see (404 outside it)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_noop

from govshare.accounts.models import User
from govshare.catalog.models import Resource
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.sources.access import can_read_data, require_source_manager
from govshare.sources.models import Source


def require_data_access(user: User, resource: Resource) -> None:
    """404 for anyone who may not read the resource's data (the same answer as a missing resource)."""
    if not can_read_data(user, resource):
        raise NotFound(gettext_noop("信息资源不存在或无权访问其数据"))


def sources_of(user: User, resource: Resource) -> QuerySet[Source]:
    require_data_access(user, resource)
    return Source.objects.filter(resource=resource).select_related("resource", "created_by")


def get_source(user: User, pk: int) -> Source:
    source = restrict(Source.objects.select_related("resource", "resource__department"), user).filter(pk=pk).first()
    if source is None:
        raise NotFound(gettext_noop("数据来源不存在或无权访问"))
    return source


def get_managed_source(user: User, pk: int) -> Source:
    """A source the user may preview, map and load: 404 outside the owning department (the platform administrator
    of another department included), 403 for a colleague whose role may only read the data."""
    source = get_source(user, pk)
    require_source_manager(user, source.resource)
    return source

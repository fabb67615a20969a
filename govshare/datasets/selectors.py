"""Reads of datasets and loads, scoped to what the user may see (404 outside it); sources' are in
govshare.sources.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from govshare.accounts.models import User
from govshare.catalog.models import Item, Resource
from govshare.core.authz import restrict
from govshare.core.errors import NotFound
from govshare.datasets.choices import LoadStatus
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
        raise NotFound(gettext_noop("归集任务不存在或无权访问"))
    return load


def field_dictionary(resource: Resource) -> list[Item]:
    """The resource's items in order: the data's field dictionary shown with previews."""
    return list(Item.objects.filter(resource=resource).order_by("position"))


# ---------------------------------------------------------------------------------------------- the home's figures


def failed_loads(user: User) -> QuerySet[Load]:
    """The user's department's loads that failed and were not followed by a later load of the same dataset (a
    retry reuses the load; a new load supersedes it), newest first; nothing for a user without a department."""
    if user.department_id is None:
        return Load.objects.none()
    later = Load.objects.filter(dataset_id=OuterRef("dataset_id"), created_at__gt=OuterRef("created_at"))
    return (
        restrict(Load.objects.all(), user)
        .filter(status=LoadStatus.FAILED, dataset__resource__department_id=user.department_id)
        .filter(~Exists(later))
        .order_by("-created_at", "-pk")
    )


# Freshness: the age of a dataset's latest loaded version, in these bands (upper bounds in days).
FRESHNESS_BANDS: tuple[tuple[str, int | None], ...] = (
    ("1 天内", 1),
    ("7 天内", 7),
    ("30 天内", 30),
    ("90 天内", 90),
    ("90 天以上", None),
)


@dataclass(frozen=True)
class DatasetFigures:
    datasets: int  # datasets that exist (a source was attached)
    loaded: int  # of which hold a loaded version
    rows: int  # records in the current versions
    freshness: list[tuple[str, int]]  # (band, datasets whose latest successful load is that old)


def dataset_figures(user: User, now: datetime | None = None) -> DatasetFigures:
    """The datasets the user may see, in one aggregate query."""
    now = now or timezone.now()
    bands: dict[str, Any] = {}
    lower: int | None = None
    for index, (_, upper) in enumerate(FRESHNESS_BANDS):
        condition = Q(last_success_at__isnull=False)
        if lower is not None:
            condition &= Q(last_success_at__lt=now - timedelta(days=lower))
        if upper is not None:
            condition &= Q(last_success_at__gte=now - timedelta(days=upper))
        bands[f"band{index}"] = Count("pk", filter=condition)
        lower = upper
    totals = restrict(Dataset.objects.all(), user).aggregate(
        datasets=Count("pk"),
        loaded=Count("pk", filter=Q(current_version__isnull=False)),
        rows=Sum("row_count", filter=Q(current_version__isnull=False)),
        **bands,
    )
    return DatasetFigures(
        datasets=totals["datasets"],
        loaded=totals["loaded"],
        rows=totals["rows"] or 0,
        freshness=[(label, totals[f"band{index}"]) for index, (label, _) in enumerate(FRESHNESS_BANDS)],
    )


def dataset_id_of(resource_id: int) -> int | None:
    """The id of the resource's dataset (None: no data yet). Unscoped: for the gateway, whose caller's grant has
    been checked."""
    return Dataset.objects.filter(resource_id=resource_id).values_list("pk", flat=True).first()

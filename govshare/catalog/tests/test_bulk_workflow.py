"""Bulk submit and publish (used by the demo loader): same rules, versions and audit rows as one at a time."""

import datetime as dt

import pytest
from django.utils import timezone

from govshare.audit.models import AuditLog
from govshare.catalog import services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.testing import resource_draft


def _drafts(department, actor, count: int = 3) -> list[Resource]:
    return [
        services.create_resource(resource_draft(department, name=f"户籍迁入信息{n}"), actor=actor) for n in range(count)
    ]


@pytest.mark.django_db
def test_bulk_submit_and_publish_write_a_version_and_audit_row_each(catalog_admin, platform_admin, department) -> None:
    resources = _drafts(department, catalog_admin)
    services.submit_resources(resources, actor=catalog_admin)
    services.publish_resources(resources, actor=platform_admin)
    for resource in resources:
        resource.refresh_from_db()
        assert resource.status == ReviewStatus.PUBLISHED and resource.version == 3
        assert resource.published_on is not None
        actions = list(resource.versions.order_by("number").values_list("action", flat=True))
        assert actions == ["create", "submit", "publish"]
        assert resource.versions.get(number=3).changes[0]["field"] == "status"
    assert AuditLog.objects.filter(action="catalog.resource.publish").count() == 3


@pytest.mark.django_db
def test_bulk_publish_is_all_or_nothing(catalog_admin, platform_admin, department) -> None:
    resources = _drafts(department, catalog_admin)
    services.submit_resources(resources[:2], actor=catalog_admin)
    with pytest.raises(Conflict, match=resources[2].code):
        services.publish_resources(resources, actor=platform_admin)
    assert not Resource.objects.filter(status=ReviewStatus.PUBLISHED).exists()


@pytest.mark.django_db
def test_department_administrator_cannot_bulk_publish(catalog_admin, department) -> None:
    resources = _drafts(department, catalog_admin, 1)
    services.submit_resources(resources, actor=catalog_admin)
    with pytest.raises(PermissionDenied):
        services.publish_resources(resources, actor=catalog_admin)


@pytest.mark.django_db
def test_bulk_submit_of_another_departments_draft_is_not_found(catalog_admin, outsider, department) -> None:
    resources = _drafts(department, catalog_admin, 1)
    with pytest.raises(NotFound):
        services.submit_resources(resources, actor=outsider)
    resources[0].refresh_from_db()
    assert resources[0].status == ReviewStatus.DRAFT


@pytest.mark.django_db
def test_bulk_publish_keeps_an_earlier_publication_date(catalog_admin, platform_admin, department) -> None:
    resources = _drafts(department, catalog_admin, 1)
    services.submit_resources(resources, actor=catalog_admin)
    services.publish_resources(resources, actor=platform_admin, published_on=dt.date(2023, 5, 4))
    resources[0].refresh_from_db()
    assert resources[0].published_on == dt.date(2023, 5, 4)


@pytest.mark.django_db
def test_bulk_publish_refuses_a_publication_date_in_the_future(catalog_admin, platform_admin, department) -> None:
    resources = _drafts(department, catalog_admin, 1)
    services.submit_resources(resources, actor=catalog_admin)
    with pytest.raises(ValidationFailed):
        services.publish_resources(resources, actor=platform_admin, published_on=timezone.localdate() + dt.timedelta(1))
    resources[0].refresh_from_db()
    assert resources[0].status == ReviewStatus.SUBMITTED

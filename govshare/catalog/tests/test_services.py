import pytest

from govshare.audit.models import AuditLog
from govshare.catalog import services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import RetiredResourceCode
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, PermissionDenied, ValidationFailed
from govshare.testing import resource_draft


@pytest.mark.django_db
def test_created_resource_gets_a_code_from_its_class_and_sequence(catalog_admin, department) -> None:
    first = services.create_resource(resource_draft(department), actor=catalog_admin)
    second = services.create_resource(resource_draft(department, name="流动人口登记信息"), actor=catalog_admin)
    assert first.code == "101000000/000001"
    assert second.code == "101000000/000002"


@pytest.mark.django_db
def test_deleted_code_is_never_reused(catalog_admin, department) -> None:
    first = services.create_resource(resource_draft(department), actor=catalog_admin)
    code = first.code
    services.delete_resource(first, actor=catalog_admin)
    again = services.create_resource(resource_draft(department), actor=catalog_admin)
    assert again.code != code
    assert RetiredResourceCode.objects.filter(code=code).exists()
    with pytest.raises(Conflict):
        services.create_resource(resource_draft(department, code=code), actor=catalog_admin)


@pytest.mark.django_db
def test_review_workflow_from_draft_to_withdrawn(catalog_admin, platform_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    services.publish_resource(resource, actor=platform_admin)
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.PUBLISHED and resource.published_on is not None
    services.withdraw_resource(resource, reason="数据源停用", actor=platform_admin)
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.WITHDRAWN
    actions = list(resource.versions.order_by("number").values_list("action", flat=True))
    assert actions == ["create", "submit", "publish", "withdraw"]


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_returns_to_draft(catalog_admin, platform_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    with pytest.raises(ValidationFailed):
        services.reject_resource(resource, reason="  ", actor=platform_admin)
    services.reject_resource(resource, reason="摘要过于简单", actor=platform_admin)
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.DRAFT and resource.rejection_reason == "摘要过于简单"


@pytest.mark.django_db
def test_department_administrator_cannot_publish(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    with pytest.raises(PermissionDenied):
        services.publish_resource(resource, actor=catalog_admin)


@pytest.mark.django_db
def test_publishing_a_draft_is_refused(catalog_admin, platform_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    with pytest.raises(Conflict):
        services.publish_resource(resource, actor=platform_admin)


@pytest.mark.django_db
def test_cannot_catalogue_for_another_department(outsider, department) -> None:
    with pytest.raises(PermissionDenied):
        services.create_resource(resource_draft(department), actor=outsider)


@pytest.mark.django_db
def test_update_records_a_readable_field_by_field_diff(catalog_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    draft = resource_draft(
        department,
        update_cycle="weekly",
        items=[
            ItemDraft(name="公民身份号码", data_type="C", length=18),
            ItemDraft(name="性别", data_type="C", length=2),
        ],
    )
    services.update_resource(resource, draft, actor=catalog_admin)
    latest = resource.versions.order_by("-number").first()
    assert latest is not None and latest.actor_name == "gaj_admin"
    rows = {(c["label"], c["old"], c["new"]) for c in latest.changes}
    assert ("更新周期", "每日", "每周") in rows
    assert ("信息项“性别”", "（无）", "新增") in rows
    assert ("信息项“姓名”", "存在", "删除") in rows


@pytest.mark.django_db
def test_every_change_writes_an_audit_row(catalog_admin, platform_admin, department) -> None:
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    services.publish_resource(resource, actor=platform_admin)
    actions = list(
        AuditLog.objects.filter(object_id=str(resource.pk), object_type="catalog.resource")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["catalog.resource.create", "catalog.resource.submit", "catalog.resource.publish"]


@pytest.mark.django_db
def test_category_segments_follow_the_documented_widths(platform_admin) -> None:
    from govshare.catalog.models import Category

    population = Category.objects.get(code="101")
    child = services.create_category(parent=population, segment="001", name="户籍人口", actor=platform_admin)
    assert child.code == "101001" and child.code_prefix == "101001000"
    with pytest.raises(ValidationFailed):
        services.create_category(parent=population, segment="01", name="错误", actor=platform_admin)

"""Change requests (变更) of published entries: the published entry stays as it is until the revision is approved,
then the revision replaces it as one version with its diff; grades change only through the security officer."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog import revisions, selectors
from govshare.catalog.choices import ReviewStatus, RevisionState, VersionAction
from govshare.catalog.models import Resource, ResourceRevision
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.grading import services as grading_services
from govshare.testing import make_published_resource, make_user, resource_draft

ITEMS = [
    ItemDraft(name="公民身份号码", data_type="C", length=18),
    ItemDraft(name="姓名", data_type="C", length=50),
    ItemDraft(name="出生日期", data_type="D"),
]
WITH_ADDRESS = [*ITEMS, ItemDraft(name="户籍地址", data_type="C", length=200)]


@pytest.fixture
def published(department) -> Resource:  # type: ignore[no-untyped-def]
    return make_published_resource(department, items=list(ITEMS))


def _edit(department, **overrides):  # type: ignore[no-untyped-def]
    return resource_draft(department, **{"items": list(WITH_ADDRESS), **overrides})


@pytest.mark.django_db
def test_a_saved_revision_leaves_the_published_entry_unchanged_and_visible(
    published, catalog_admin, department, other_department
):
    revisions.save_revision(published, _edit(department, name="常住人口户籍登记信息（新）"), actor=catalog_admin)
    consumer = make_user(Role.CONSUMER, department=other_department)
    seen = selectors.get_resource(consumer, published.pk)
    assert seen.status == ReviewStatus.PUBLISHED
    assert seen.name == "常住人口户籍登记信息"
    assert [item.name for item in seen.items.all()] == ["公民身份号码", "姓名", "出生日期"]


@pytest.mark.django_db
def test_approval_replaces_the_entry_with_one_change_version_carrying_the_diff(
    published, catalog_admin, platform_admin, department
):
    before = published.version
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    revisions.approve_revision(published, actor=platform_admin)
    published.refresh_from_db()
    assert published.status == ReviewStatus.PUBLISHED
    assert published.version == before + 1
    assert [item.name for item in published.items.all()] == [i.name for i in WITH_ADDRESS]
    version = published.versions.order_by("-number").first()
    assert version is not None and version.action == VersionAction.CHANGE
    assert {"field": "items", "label": "信息项“户籍地址”", "old": "（无）", "new": "新增"} in version.changes
    assert ResourceRevision.objects.get(resource=published).state == RevisionState.APPROVED


@pytest.mark.django_db
def test_rejection_keeps_the_published_entry_and_the_revision_can_be_edited_again(
    published, catalog_admin, platform_admin, department
):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    revisions.reject_revision(published, reason="户籍地址须说明口径", actor=platform_admin)
    published.refresh_from_db()
    assert published.items.count() == 3
    revision = ResourceRevision.objects.get(resource=published)
    assert (revision.state, revision.reason) == (RevisionState.REJECTED, "户籍地址须说明口径")
    again = revisions.save_revision(
        published, _edit(department, summary="补充了户籍地址的口径说明。"), actor=catalog_admin
    )
    assert again.pk == revision.pk and again.state == RevisionState.DRAFT


@pytest.mark.django_db
def test_rejection_needs_a_reason(published, catalog_admin, platform_admin, department):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    with pytest.raises(ValidationFailed):
        revisions.reject_revision(published, reason=" ", actor=platform_admin)


@pytest.mark.django_db
def test_a_withdrawn_revision_closes_and_a_new_one_may_be_opened(published, catalog_admin, department):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    revisions.withdraw_revision(published, actor=catalog_admin)
    assert ResourceRevision.objects.get(resource=published).state == RevisionState.WITHDRAWN
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    assert ResourceRevision.objects.filter(resource=published).count() == 2


@pytest.mark.django_db
def test_the_database_holds_at_most_one_open_revision_per_resource(published, catalog_admin, department):
    revision = revisions.save_revision(published, _edit(department), actor=catalog_admin)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceRevision.objects.create(
            resource=published, content=revision.content, base_version=1, author_name="x", state=RevisionState.SUBMITTED
        )


@pytest.mark.django_db
def test_a_submitted_revision_cannot_be_edited_until_withdrawn(published, catalog_admin, department):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    with pytest.raises(Conflict):
        revisions.save_revision(published, _edit(department, name="再改"), actor=catalog_admin)


@pytest.mark.django_db
def test_a_revision_equal_to_the_published_entry_is_not_submitted(published, catalog_admin, department):
    revisions.save_revision(published, resource_draft(department, items=list(ITEMS)), actor=catalog_admin)
    with pytest.raises(ValidationFailed):
        revisions.submit_revision(published, actor=catalog_admin)


@pytest.mark.django_db
def test_only_a_published_entry_takes_a_revision(catalog_admin, department):
    from govshare.catalog import services

    draft = services.create_resource(resource_draft(department), actor=catalog_admin)
    with pytest.raises(Conflict):
        revisions.save_revision(draft, _edit(department), actor=catalog_admin)


@pytest.mark.django_db
def test_each_step_writes_an_audit_row(published, catalog_admin, platform_admin, department):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    revisions.approve_revision(published, actor=platform_admin)
    actions = set(AuditLog.objects.filter(action__startswith="catalog.revision.").values_list("action", flat=True))
    assert actions == {"catalog.revision.create", "catalog.revision.submit", "catalog.revision.approve"}


# --- attacks ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_attack_another_department_cannot_open_a_revision_and_is_told_nothing(published, department, outsider):
    with pytest.raises(NotFound):
        revisions.save_revision(published, _edit(department), actor=outsider)


@pytest.mark.django_db
def test_attack_a_consumer_of_the_department_cannot_open_a_revision(published, department):
    consumer = make_user(Role.CONSUMER, department=department)
    with pytest.raises(PermissionDenied):
        revisions.save_revision(published, _edit(department), actor=consumer)


@pytest.mark.django_db
def test_attack_the_department_cannot_approve_its_own_revision(published, catalog_admin, department):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    with pytest.raises(PermissionDenied):
        revisions.approve_revision(published, actor=catalog_admin)
    assert published.items.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(("grade", "level"), [("important", "L3"), ("general", "L1")])
def test_attack_a_revision_cannot_change_an_items_grade(published, catalog_admin, department, grade, level):
    items = [ItemDraft(name="公民身份号码", data_type="C", length=18, grade=grade, data_level=level), *ITEMS[1:]]
    with pytest.raises(ValidationFailed) as refused:
        revisions.save_revision(published, resource_draft(department, items=items), actor=catalog_admin)
    assert "分级调整" in str(refused.value.problems)
    item = published.items.get(name="公民身份号码")
    assert (item.grade, item.data_level) == ("general", "L2")


@pytest.mark.django_db
def test_attack_a_revision_cannot_change_the_entrys_grade(published, catalog_admin, department):
    with pytest.raises(ValidationFailed):
        revisions.save_revision(published, _edit(department, grade="core", data_level="L4"), actor=catalog_admin)


@pytest.mark.django_db
def test_attack_a_stale_revision_does_not_undo_the_security_officers_grading(
    published, catalog_admin, platform_admin, department
):
    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    officer = make_user(Role.SECURITY_OFFICER)
    change = grading_services.propose_grading_change(
        published, item_name="公民身份号码", to_grade="important", to_level="L3", reason="个人信息", actor=catalog_admin
    )
    grading_services.approve_grading_change(change, actor=officer)
    revisions.approve_revision(published, actor=platform_admin)
    item = published.items.get(name="公民身份号码")
    assert (item.grade, item.data_level) == ("important", "L3")


@pytest.mark.django_db
def test_search_finds_the_published_entry_until_approval_then_the_revised_one(
    published, catalog_admin, platform_admin, department, other_department
):
    from govshare.catalog import search

    consumer = make_user(Role.CONSUMER, department=other_department)
    revisions.save_revision(published, _edit(department, name="人口户籍底册信息"), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    assert [r.pk for r in search.search_resources(consumer, q="户籍登记").items] == [published.pk]
    assert search.search_resources(consumer, q="底册").items == []
    revisions.approve_revision(published, actor=platform_admin)
    assert [r.pk for r in search.search_resources(consumer, q="底册").items] == [published.pk]


@pytest.mark.django_db
def test_a_revision_older_than_a_later_edit_of_the_entry_is_not_approved(
    published, catalog_admin, platform_admin, department
):
    from govshare.catalog import services

    revisions.save_revision(published, _edit(department), actor=catalog_admin)
    revisions.submit_revision(published, actor=catalog_admin)
    services.withdraw_resource(published, reason="暂停", actor=catalog_admin)
    services.reopen_resource(published, actor=catalog_admin)
    services.update_resource(published, resource_draft(department, name="重新编辑后的名称"), actor=catalog_admin)
    services.submit_resource(published, actor=catalog_admin)
    services.publish_resource(published, actor=platform_admin)
    with pytest.raises(Conflict, match="请驳回"):
        revisions.approve_revision(published, actor=platform_admin)
    published.refresh_from_db()
    assert published.name == "重新编辑后的名称"

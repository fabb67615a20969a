"""Grading changes: proposed by the department's catalogue administrator, decided by the security officer only,
applied in one transaction with a catalogue version and audit rows."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog import services as catalog_services
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from govshare.grading import selectors, services
from govshare.grading.services import AUTOMATIC_OPEN_CONDITION


def propose(resource, actor, **values):  # type: ignore[no-untyped-def]
    values = {"to_grade": "important", "to_level": "L3", "reason": "含公民身份号码，按重要数据管理", **values}
    return services.propose_grading_change(resource, actor=actor, **values)


@pytest.mark.django_db
def test_the_departments_catalogue_admin_proposes_a_change(catalog_admin, published) -> None:
    change = propose(published, catalog_admin)
    assert (change.status, change.from_grade, change.from_level) == ("pending", "general", "L2")
    assert (change.to_grade, change.to_level, change.proposer) == ("important", "L3", catalog_admin)
    audit = AuditLog.objects.get(action="grading.change.propose")
    assert audit.actor == catalog_admin and audit.extra["resource"] == published.code
    assert audit.extra["before"] == "一般 / L2 低敏感" and audit.extra["after"] == "重要 / L3 较敏感"


@pytest.mark.django_db
def test_a_proposal_changes_nothing_until_approved(catalog_admin, published) -> None:
    propose(published, catalog_admin)
    published.refresh_from_db()
    assert (published.grade, published.data_level) == ("general", "L2")


@pytest.mark.django_db
def test_a_draft_never_published_is_graded_in_the_draft(catalog_admin, department) -> None:
    draft = catalog_services.create_resource(testing.resource_draft(department), actor=catalog_admin)
    with pytest.raises(Conflict, match="草稿的数据级别和敏感级别直接在草稿中修改"):
        propose(draft, catalog_admin)


@pytest.mark.django_db
def test_another_departments_admin_may_not_propose(outsider, published) -> None:
    with pytest.raises(PermissionDenied, match="只有资源所属部门的目录管理员可以申请调整分级"):
        propose(published, outsider)


@pytest.mark.django_db
def test_another_departments_draft_is_not_found(outsider, catalog_admin, department) -> None:
    draft = catalog_services.create_resource(testing.resource_draft(department), actor=catalog_admin)
    with pytest.raises(NotFound):
        propose(draft, outsider)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SECURITY_OFFICER, Role.PLATFORM_ADMIN, Role.CONSUMER])
def test_other_roles_may_not_propose(published, department, role) -> None:
    user = testing.make_user(role, department=None if role != Role.CONSUMER else department)
    with pytest.raises(PermissionDenied):
        propose(published, user)


@pytest.mark.django_db
def test_an_unchanged_grade_is_refused(catalog_admin, published) -> None:
    with pytest.raises(ValidationFailed) as caught:
        propose(published, catalog_admin, to_grade="general", to_level="L2")
    assert caught.value.problems[0].message == "新的数据级别和敏感级别与现有的相同（一般 / L2 低敏感），无需调整"


@pytest.mark.django_db
def test_invalid_values_and_a_missing_reason_are_named(catalog_admin, published) -> None:
    with pytest.raises(ValidationFailed) as caught:
        propose(published, catalog_admin, to_grade="secret", to_level="L9", reason=" ")
    assert {p.field: p.message for p in caught.value.problems} == {
        "to_grade": "新数据级别“secret”无效，可选值：核心、重要、一般",
        "to_level": "新敏感级别“L9”无效，可选值：L4 敏感、L3 较敏感、L2 低敏感、L1 不敏感",
        "reason": "必须填写调整理由",
    }


@pytest.mark.django_db
def test_an_item_may_not_become_looser_than_its_resource(catalog_admin, published) -> None:
    with pytest.raises(ValidationFailed) as caught:
        propose(published, catalog_admin, item_name="姓名", to_grade="general", to_level="L1")
    assert caught.value.problems[0].message == (
        "信息项“姓名”的敏感级别不能比资源的敏感级别“L2 低敏感”更宽松（申请为“L1 不敏感”）"
    )


@pytest.mark.django_db
def test_an_unknown_item_is_named(catalog_admin, published) -> None:
    with pytest.raises(ValidationFailed, match="没有名为“手机号码”的信息项"):
        propose(published, catalog_admin, item_name="手机号码")


@pytest.mark.django_db
def test_one_pending_proposal_per_target(catalog_admin, published) -> None:
    propose(published, catalog_admin)
    with pytest.raises(Conflict, match="该资源已有一份待审核的分级调整申请"):
        propose(published, catalog_admin, to_level="L4", to_grade="core")
    propose(published, catalog_admin, item_name="公民身份号码", to_grade="core", to_level="L4")


@pytest.mark.django_db
def test_the_security_officer_approves_and_the_grade_applies_with_a_version(
    catalog_admin, security_officer, published
) -> None:
    change = propose(published, catalog_admin)
    version_before = published.version
    services.approve_grading_change(change, note="同意", actor=security_officer)
    resource = Resource.objects.get(pk=published.pk)
    assert (resource.grade, resource.data_level, resource.version) == ("important", "L3", version_before + 1)
    assert set(resource.items.values_list("grade", "data_level")) == {("important", "L3")}
    version = resource.versions.order_by("-number")[0]
    assert version.action == "regrade" and version.actor == security_officer
    assert {c["label"]: c["new"] for c in version.changes}["数据级别"] == "重要"
    assert "含公民身份号码" in version.note and "审核意见：同意" in version.note
    change.refresh_from_db()
    assert (change.status, change.reviewer, change.review_note) == ("approved", security_officer, "同意")
    assert change.decided_at is not None
    assert AuditLog.objects.filter(action="grading.change.approve", actor=security_officer).count() == 1


@pytest.mark.django_db
def test_a_stricter_level_closes_what_it_may_not_open(catalog_admin, security_officer, open_resource) -> None:
    change = propose(open_resource, catalog_admin, to_grade="general", to_level="L3")
    services.approve_grading_change(change, actor=security_officer)
    resource = Resource.objects.get(pk=open_resource.pk)
    assert (resource.open_type, resource.open_condition) == ("conditional", AUTOMATIC_OPEN_CONDITION)
    items = {i.name: (i.data_level, i.open_type) for i in resource.items.all()}
    assert items == {"事项名称": ("L3", "conditional"), "联系电话": ("L3", "not_open")}


@pytest.mark.django_db
def test_core_data_is_closed_on_approval(catalog_admin, security_officer, open_resource) -> None:
    change = propose(open_resource, catalog_admin, to_grade="core", to_level="L2")
    services.approve_grading_change(change, actor=security_officer)
    resource = Resource.objects.get(pk=open_resource.pk)
    assert resource.open_type == "not_open"
    assert set(resource.items.values_list("grade", "open_type")) == {("core", "not_open")}


@pytest.mark.django_db
def test_a_looser_resource_grade_keeps_its_stricter_items(catalog_admin, security_officer, department) -> None:
    items = [
        ItemDraft(name="公民身份号码", data_type="C", length=18, grade="core", data_level="L4"),
        ItemDraft(name="户籍类别", data_type="C", length=10),
    ]
    resource = testing.make_published_resource(department, items=items, grade="important", data_level="L3")
    change = propose(resource, catalog_admin, to_grade="general", to_level="L2")
    services.approve_grading_change(change, actor=security_officer)
    grades = {i.name: (i.grade, i.data_level) for i in resource.items.all()}
    assert grades == {"公民身份号码": ("core", "L4"), "户籍类别": ("general", "L2")}


@pytest.mark.django_db
def test_an_item_change_applies_to_that_item_only(catalog_admin, security_officer, published) -> None:
    change = propose(published, catalog_admin, item_name="公民身份号码", to_grade="important", to_level="L4")
    services.approve_grading_change(change, actor=security_officer)
    grades = {i.name: (i.grade, i.data_level) for i in published.items.all()}
    assert grades["公民身份号码"] == ("important", "L4") and grades["姓名"] == ("general", "L2")


@pytest.mark.django_db
def test_only_the_security_officer_decides(catalog_admin, platform_admin, outsider, published) -> None:
    change = propose(published, catalog_admin)
    with pytest.raises(PermissionDenied, match="只有安全管理员可以审核分级调整"):
        services.approve_grading_change(change, actor=catalog_admin)
    with pytest.raises(NotFound):
        services.approve_grading_change(change, actor=platform_admin)
    with pytest.raises(NotFound):
        services.reject_grading_change(change, reason="不同意", actor=outsider)
    change.refresh_from_db()
    assert change.status == "pending"


@pytest.mark.django_db
def test_the_security_officer_rejects_with_a_reason(catalog_admin, security_officer, published) -> None:
    change = propose(published, catalog_admin)
    with pytest.raises(ValidationFailed, match="驳回必须填写理由"):
        services.reject_grading_change(change, reason="", actor=security_officer)
    services.reject_grading_change(change, reason="未说明数据来源", actor=security_officer)
    change.refresh_from_db()
    published.refresh_from_db()
    assert (change.status, change.review_note) == ("rejected", "未说明数据来源")
    assert (published.grade, published.data_level) == ("general", "L2")
    assert AuditLog.objects.get(action="grading.change.reject").extra["reason"] == "未说明数据来源"


@pytest.mark.django_db
def test_a_decided_change_is_not_decided_again(catalog_admin, security_officer, published) -> None:
    change = propose(published, catalog_admin)
    services.reject_grading_change(change, reason="不同意", actor=security_officer)
    with pytest.raises(Conflict, match="该申请已审核（已驳回），不能再次审核"):
        services.approve_grading_change(change, actor=security_officer)


@pytest.mark.django_db
def test_a_stale_proposal_is_refused(catalog_admin, security_officer, published) -> None:
    on_item = propose(published, catalog_admin, item_name="姓名", to_grade="important", to_level="L2")
    on_resource = propose(published, catalog_admin)
    services.approve_grading_change(on_resource, actor=security_officer)
    with pytest.raises(Conflict, match="此申请已过时，请驳回"):
        services.approve_grading_change(on_item, actor=security_officer)


@pytest.mark.django_db
def test_the_proposer_sees_the_outcome(catalog_admin, security_officer, published) -> None:
    change = propose(published, catalog_admin)
    services.reject_grading_change(change, reason="请补充依据", actor=security_officer)
    [seen] = selectors.change_list(catalog_admin)
    assert (seen.status, seen.review_note, seen.reviewer_name) == ("rejected", "请补充依据", "security_officer")


@pytest.mark.django_db
def test_other_departments_and_the_platform_admin_see_no_changes(
    catalog_admin, outsider, platform_admin, security_officer, published
) -> None:
    propose(published, catalog_admin)
    assert not selectors.change_list(outsider).exists()
    assert not selectors.change_list(platform_admin).exists()
    assert selectors.review_queue(security_officer).count() == 1
    assert not selectors.review_queue(catalog_admin).exists()

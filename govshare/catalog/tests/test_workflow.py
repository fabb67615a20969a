"""The review workflow's table: the actions it allows each user in each state, taken one at a time or in bulk, and
grading decisions applied through the catalogue."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction

from govshare.accounts.models import User
from govshare.catalog import services, workflow
from govshare.catalog.choices import DataGrade, DataLevel, ReviewStatus, VersionAction
from govshare.catalog.models import Item, Resource
from govshare.core.errors import Conflict, ValidationFailed
from govshare.testing import resource_draft

pytestmark = pytest.mark.django_db


def _draft(actor: User) -> Resource:
    assert actor.department is not None
    return services.create_resource(resource_draft(actor.department), actor=actor)


def test_the_actions_each_user_may_take_in_each_state(
    catalog_admin: User, platform_admin: User, outsider: User
) -> None:
    resource = _draft(catalog_admin)
    seen: dict[str, list[list[str]]] = {}
    for step in (
        lambda: None,
        lambda: services.submit_resource(resource, actor=catalog_admin),
        lambda: services.publish_resource(resource, actor=platform_admin),
        lambda: services.withdraw_resource(resource, reason="数据源停用", actor=catalog_admin),
    ):
        step()
        resource.refresh_from_db()
        seen[resource.status] = [
            workflow.allowed_actions(resource, user) for user in (catalog_admin, platform_admin, outsider)
        ]
    assert seen == {
        ReviewStatus.DRAFT: [["submit"], ["submit"], []],
        ReviewStatus.SUBMITTED: [["recall"], ["recall", "publish", "reject"], []],
        ReviewStatus.PUBLISHED: [["withdraw"], ["withdraw"], []],
        ReviewStatus.WITHDRAWN: [["reopen"], ["reopen"], []],
    }


def test_a_bulk_action_that_needs_a_reason_refuses_a_blank_one(catalog_admin: User, platform_admin: User) -> None:
    resources = [_draft(catalog_admin)]
    services.submit_resources(resources, actor=catalog_admin)
    with pytest.raises(ValidationFailed, match="驳回必须填写理由"):
        services.take_action_many(VersionAction.REJECT, resources, actor=platform_admin, reason="  ")
    rejected = services.take_action_many(VersionAction.REJECT, resources, actor=platform_admin, reason=" 缺少说明 ")
    assert rejected[0].status == ReviewStatus.DRAFT and rejected[0].rejection_reason == "缺少说明"
    assert rejected[0].versions.get(number=3).note == "缺少说明"


@dataclass
class _Decision:
    resource: dict[str, str] = field(default_factory=dict)
    items: dict[str, dict[str, str]] = field(default_factory=dict)


def test_a_grading_decision_is_written_with_a_regrade_version(catalog_admin: User, platform_admin: User) -> None:
    resource = _draft(catalog_admin)
    item = resource.items.order_by("position").first()
    assert item is not None
    decision = _Decision({"grade": DataGrade.IMPORTANT}, {item.name: {"data_level": DataLevel.L3}})
    with transaction.atomic():
        regraded, answered = services.apply_grading(
            resource.pk, lambda r, items: decision, note="分级调整申请 #1", actor=platform_admin
        )
    assert answered is decision and regraded.grade == DataGrade.IMPORTANT
    resource.refresh_from_db()
    assert (resource.grade, resource.version) == (DataGrade.IMPORTANT, 2)
    assert Item.objects.get(pk=item.pk).data_level == DataLevel.L3
    version = resource.versions.get(number=2)
    assert (version.action, version.note, version.actor) == (VersionAction.REGRADE, "分级调整申请 #1", platform_admin)


def test_a_refused_grading_decision_changes_nothing(catalog_admin: User, platform_admin: User) -> None:
    resource = _draft(catalog_admin)

    def refuse(resource: Resource, items: list[Item]) -> _Decision:
        raise Conflict("此申请已过时")

    with pytest.raises(Conflict), transaction.atomic():
        services.apply_grading(resource.pk, refuse, note="", actor=platform_admin)
    resource.refresh_from_db()
    assert resource.version == 1 and resource.versions.count() == 1

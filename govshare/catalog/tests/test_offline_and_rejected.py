"""Withdrawn entries (the reason as a banner, 该资源已下线 for a bookmark of those who could see it), 下线 behind a
confirmation, 撤回提交 of a submission not yet reviewed, and rejected drafts findable as 已驳回."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from govshare.accounts.choices import Role
from govshare.catalog import effects, revisions, search, services
from govshare.catalog.choices import ReviewStatus
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft
from govshare.catalog.selectors import ResourceFilters
from govshare.datasets import services as dataset_services
from govshare.datasets.loading import run_load
from govshare.sources import services as source_services
from govshare.testing import make_published_resource, make_user, resource_draft

pytestmark = pytest.mark.django_db

REASON = "数据源已停用，由“人口综合信息”替代"


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def consumer(other_department):  # type: ignore[no-untyped-def]
    return make_user(Role.CONSUMER, department=other_department)


@pytest.fixture
def withdrawn(department, catalog_admin, consumer) -> Resource:  # type: ignore[no-untyped-def]
    """A published entry the consumer (an account older than the withdrawal) could see, then withdrawn."""
    resource = make_published_resource(department, name="流动人口居住登记信息")
    return services.withdraw_resource(resource, reason=REASON, actor=catalog_admin)


# --- withdrawn entries ----------------------------------------------------------------------------------------------


def test_a_withdrawn_entry_shows_its_department_the_reason_as_a_banner(withdrawn, catalog_admin):
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[withdrawn.pk])).content.decode()
    assert "withdrawn-banner" in page and REASON in page


def test_a_bookmark_of_a_withdrawn_entry_tells_a_former_reader_it_is_offline_with_410(withdrawn, consumer):
    answer = client_for(consumer).get(reverse("catalog:detail", args=[withdrawn.pk]))
    assert answer.status_code == 410
    page = answer.content.decode()
    assert "该资源已下线" in page and "流动人口居住登记信息" in page and REASON in page


def test_a_reopened_entry_still_answers_a_former_reader_that_it_is_offline(withdrawn, catalog_admin, consumer):
    services.reopen_resource(withdrawn, actor=catalog_admin)
    assert client_for(consumer).get(reverse("catalog:detail", args=[withdrawn.pk])).status_code == 410


def test_attack_an_account_created_after_the_withdrawal_gets_404_without_the_name(withdrawn, other_department):
    newcomer = make_user(Role.CONSUMER, department=other_department)
    answer = client_for(newcomer).get(reverse("catalog:detail", args=[withdrawn.pk]))
    assert answer.status_code == 404
    assert "流动人口居住登记信息" not in answer.content.decode() and REASON not in answer.content.decode()


def test_attack_a_never_published_draft_of_another_department_stays_404(catalog_admin, department, consumer):
    draft = services.create_resource(resource_draft(department, name="内部草稿"), actor=catalog_admin)
    answer = client_for(consumer).get(reverse("catalog:detail", args=[draft.pk]))
    assert answer.status_code == 404 and "内部草稿" not in answer.content.decode()


def test_attack_a_missing_entry_answers_404_like_a_hidden_one(consumer):
    assert client_for(consumer).get(reverse("catalog:detail", args=[987654])).status_code == 404


# --- 下线 behind a confirmation ---


def test_the_published_entry_page_has_no_withdraw_form_only_a_link_to_its_confirmation(department, catalog_admin):
    resource = make_published_resource(department)
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert f'action="{reverse("catalog:action", args=[resource.pk, "withdraw"])}"' not in page
    assert reverse("catalog:withdraw_confirm", args=[resource.pk]) in page


def test_the_confirmation_page_posts_the_reason_to_the_withdraw_action(department, catalog_admin):
    resource = make_published_resource(department)
    page = client_for(catalog_admin).get(reverse("catalog:withdraw_confirm", args=[resource.pk])).content.decode()
    assert f'action="{reverse("catalog:action", args=[resource.pk, "withdraw"])}"' in page
    assert 'name="reason"' in page and "确认下线" in page


def test_withdrawing_takes_a_post_never_a_get(department, catalog_admin):
    resource = make_published_resource(department)
    answer = client_for(catalog_admin).get(reverse("catalog:action", args=[resource.pk, "withdraw"]))
    assert answer.status_code == 405
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.PUBLISHED


# --- 撤回提交 ---


def test_a_submission_not_yet_reviewed_offers_its_department_撤回提交(department, catalog_admin):
    resource = services.submit_resource(
        services.create_resource(resource_draft(department), actor=catalog_admin), actor=catalog_admin
    )
    page = client_for(catalog_admin).get(reverse("catalog:detail", args=[resource.pk])).content.decode()
    assert reverse("catalog:action", args=[resource.pk, "recall"]) in page and "撤回提交" in page


def test_撤回提交_returns_the_entry_to_draft_with_a_version(department, catalog_admin):
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    client_for(catalog_admin).post(reverse("catalog:action", args=[resource.pk, "recall"]))
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.DRAFT
    assert resource.versions.order_by("-number").values_list("action", flat=True)[0] == "recall"


def test_attack_another_department_cannot_recall_a_submission(department, catalog_admin, outsider):
    resource = services.create_resource(resource_draft(department), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    answer = client_for(outsider).post(reverse("catalog:action", args=[resource.pk, "recall"]))
    assert answer.status_code == 404
    resource.refresh_from_db()
    assert resource.status == ReviewStatus.SUBMITTED


# --- 已驳回 ---


def _rejected(department, catalog_admin, platform_admin) -> Resource:  # type: ignore[no-untyped-def]
    resource = services.create_resource(resource_draft(department, name="被驳回的资源"), actor=catalog_admin)
    services.submit_resource(resource, actor=catalog_admin)
    return services.reject_resource(resource, reason="摘要不完整", actor=platform_admin)


def test_a_rejected_entry_is_found_under_已驳回_and_not_under_草稿(department, catalog_admin, platform_admin):
    rejected = _rejected(department, catalog_admin, platform_admin)
    services.create_resource(resource_draft(department, name="普通草稿"), actor=catalog_admin)
    found = search.search_resources(catalog_admin, filters=ResourceFilters(status="rejected"))
    assert [r.pk for r in found.items] == [rejected.pk]
    statuses = {o.value: (o.label, o.count) for f in found.facets if f.key == "status" for o in f.options}
    assert statuses["rejected"] == ("已驳回", 1) and statuses["draft"][1] == 1


def test_a_resubmitted_entry_leaves_已驳回(department, catalog_admin, platform_admin):
    rejected = _rejected(department, catalog_admin, platform_admin)
    services.submit_resource(rejected, actor=catalog_admin)
    found = search.search_resources(catalog_admin, filters=ResourceFilters(status="rejected"))
    assert found.items == []


def test_the_browse_page_marks_a_rejected_entry_已驳回(department, catalog_admin, platform_admin):
    _rejected(department, catalog_admin, platform_admin)
    page = client_for(catalog_admin).get(reverse("catalog:browse"), {"status": "rejected"}).content.decode()
    assert "被驳回的资源" in page and "status-rejected" in page


# --- the effects registry ---------------------------------------------------------------------------------------------


def test_sources_and_datasets_register_their_effect_finders() -> None:
    assert {"sources", "datasets"} <= set(effects.registered_finders())


def test_another_finder_under_a_taken_key_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        effects.register_effect_finder("sources", lambda resource, changes: [])


def test_a_revision_removing_a_loaded_column_names_the_dataset_field(department, catalog_admin):
    items = [ItemDraft(name="公民身份号码", data_type="C", length=18), ItemDraft(name="姓名", data_type="C", length=50)]
    resource = make_published_resource(department, items=items)
    source = source_services.register_source(
        resource,
        source_services.SourceInput(name="线下报送", kind="file", config={"format": "csv"}),
        actor=catalog_admin,
    )
    mapping = [
        source_services.MappingEntry(column="身份证号", item="公民身份号码"),
        source_services.MappingEntry(column="姓名", item="姓名"),
    ]
    source = source_services.set_mapping(source, mapping, actor=catalog_admin, columns=None)
    csv = "身份证号,姓名\n11010519491231002X,张三\n".encode("gbk")
    load = dataset_services.request_load(source, actor=catalog_admin, upload=SimpleUploadedFile("人口.csv", csv))
    run_load(load.pk)
    revisions.save_revision(resource, resource_draft(department, items=items[:1]), actor=catalog_admin)
    found = revisions.revision_effects(resource.revisions.get())
    assert {(e.kind, e.item) for e in found} == {("数据来源映射", "姓名"), ("数据集字段", "姓名")}

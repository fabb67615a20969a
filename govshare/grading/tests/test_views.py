"""Grading pages: the proposal form on the resource page, the security officer's queue and decision."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from govshare.grading import services
from govshare.grading.models import GradingChange


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def pending(resource, user) -> GradingChange:  # type: ignore[no-untyped-def]
    return services.propose_grading_change(
        resource, to_grade="important", to_level="L3", reason="含个人信息", actor=user
    )


@pytest.mark.django_db
def test_the_resource_page_offers_the_proposal_form_to_its_catalogue_admin(catalog_admin, published) -> None:
    page = signed_in(catalog_admin).get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert "提交分级调整申请" in page and reverse("grading:propose", args=[published.pk]) in page
    assert "数据级别" in page and "L2 低敏感" in page


@pytest.mark.django_db
def test_others_get_no_proposal_form(outsider, published) -> None:
    page = signed_in(outsider).get(reverse("catalog:detail", args=[published.pk])).content.decode()
    assert "提交分级调整申请" not in page


@pytest.mark.django_db
def test_proposing_from_the_resource_page(catalog_admin, published) -> None:
    response = signed_in(catalog_admin).post(
        reverse("grading:propose", args=[published.pk]),
        {"item_name": "公民身份号码", "to_grade": "core", "to_level": "L4", "reason": "身份号码"},
        follow=True,
    )
    change = GradingChange.objects.get()
    assert (change.item_name, change.to_grade, change.status) == ("公民身份号码", "core", "pending")
    assert "已提交分级调整申请" in response.content.decode()


@pytest.mark.django_db
def test_a_refused_proposal_is_explained_on_the_page(catalog_admin, published) -> None:
    response = signed_in(catalog_admin).post(
        reverse("grading:propose", args=[published.pk]),
        {"to_grade": "general", "to_level": "L2", "reason": "无"},
        follow=True,
    )
    assert "新的数据级别和敏感级别与现有的相同" in response.content.decode()
    assert not GradingChange.objects.exists()


@pytest.mark.django_db
def test_the_security_officers_queue_lists_pending_changes(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    page = signed_in(security_officer).get(reverse("grading:queue")).content.decode()
    assert published.code in page and reverse("grading:change", args=[change.pk]) in page


@pytest.mark.django_db
def test_the_security_officer_approves_on_the_page(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    client = signed_in(security_officer)
    detail = client.get(reverse("grading:change", args=[change.pk])).content.decode()
    assert "批准" in detail and "驳回理由（必填）" in detail
    client.post(reverse("grading:decide", args=[change.pk, "approve"]), {"note": "同意"})
    change.refresh_from_db()
    published.refresh_from_db()
    assert change.status == "approved" and published.grade == "important"


@pytest.mark.django_db
def test_the_proposer_sees_no_decision_forms_and_cannot_decide(catalog_admin, published) -> None:
    change = pending(published, catalog_admin)
    client = signed_in(catalog_admin)
    assert "驳回理由（必填）" not in client.get(reverse("grading:change", args=[change.pk])).content.decode()
    response = client.post(reverse("grading:decide", args=[change.pk, "approve"]), follow=True)
    assert "只有安全管理员可以审核分级调整" in response.content.decode()
    change.refresh_from_db()
    assert change.status == "pending"


@pytest.mark.django_db
def test_a_change_outside_the_users_view_is_404(catalog_admin, outsider, published) -> None:
    change = pending(published, catalog_admin)
    client = signed_in(outsider)
    assert client.get(reverse("grading:change", args=[change.pk])).status_code == 404
    assert client.post(reverse("grading:decide", args=[change.pk, "reject"]), {"reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_the_approval_page_lists_what_else_changes(catalog_admin, security_officer, open_resource) -> None:
    change = services.propose_grading_change(
        open_resource, to_grade="general", to_level="L3", reason="含联系电话", actor=catalog_admin
    )
    page = signed_in(security_officer).get(reverse("grading:change", args=[change.pk])).content.decode()
    assert "资源的开放属性将改为“有条件开放”" in page


@pytest.mark.django_db
def test_the_proposer_sees_the_outcome_on_the_grading_page(catalog_admin, security_officer, published) -> None:
    change = pending(published, catalog_admin)
    services.reject_grading_change(change, reason="请补充数据来源说明", actor=security_officer)
    page = signed_in(catalog_admin).get(reverse("grading:queue"), {"resource": published.pk}).content.decode()
    assert "已驳回" in page and "请补充数据来源说明" in page


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(published) -> None:
    response = Client().get(reverse("grading:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    response = Client().post(reverse("grading:propose", args=[published.pk]), {"to_grade": "core"})
    assert response.status_code == 302 and not GradingChange.objects.exists()


@pytest.mark.django_db
def test_the_navigation_links_grading_for_the_security_officer_only_among_the_separated_roles(
    security_officer, platform_admin
) -> None:
    grading = f'href="{reverse("grading:queue")}"'
    assert grading in signed_in(security_officer).get(reverse("catalog:browse")).content.decode()
    assert grading not in signed_in(platform_admin).get(reverse("catalog:browse")).content.decode()


@pytest.mark.django_db
def test_ids_beyond_any_database_integer_are_not_found(catalog_admin) -> None:
    client = signed_in(catalog_admin)
    too_big = 2**64
    assert client.get(reverse("grading:queue"), {"resource": too_big}).status_code == 200
    assert client.get(reverse("grading:change", args=[too_big])).status_code == 404
    assert client.post(reverse("grading:propose", args=[too_big]), {"to_grade": "core"}).status_code == 404

"""The share request pages as each party uses them: the 申请共享 button on a catalogue entry, the cart and its
submission, the provider's item-by-item approval issuing the grant, a refusal's reason, a stale page, the review
queue by urgency, the coordinator's overdue list and review stages."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.identity.models import InformationSystem
from govshare.sharing import demands
from govshare.sharing import requests as share_requests
from govshare.sharing.choices import LineStatus, RequestStatus, StageReviewer
from govshare.sharing.models import Grant, ReviewStage, Scenario, ShareRequest, ShareRequestLine
from govshare.testing.sharing import TODAY

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _line(share_request: ShareRequest) -> ShareRequestLine:
    return ShareRequestLine.objects.get(request=share_request)


def _act(client: Client, line: ShareRequestLine, action: str, data: dict[str, object]) -> Response:
    url = reverse("sharing:request_line_action", args=[line.request_id, line.pk, action])
    return client.post(url, data)


# ------------------------------------------------------------------------------------------ 申请共享


def test_a_consumer_of_another_department_sees_the_button_on_a_published_entry(
    applicant: User, requested_resource: Resource
) -> None:
    page = _client(applicant).get(reverse("catalog:detail", args=[requested_resource.pk])).content.decode()

    assert 'id="request-add"' in page
    assert reverse("sharing:request_add", args=[requested_resource.pk]) in page


def test_the_button_is_not_shown_on_the_own_department_entry_nor_to_a_non_consumer(
    provider: Department, requested_resource: Resource, provider_reviewer: User
) -> None:
    own_consumer = testing.make_user(Role.CONSUMER, department=provider)
    elsewhere_admin = testing.make_user(Role.CATALOG_ADMIN, department=testing.make_department("市民政局"))

    for user in (own_consumer, provider_reviewer, elsewhere_admin):
        page = _client(user).get(reverse("catalog:detail", args=[requested_resource.pk])).content.decode()
        assert 'id="resource-request"' not in page, user


def test_a_not_shared_entry_shows_its_basis_instead_of_the_button(applicant: User, provider: Department) -> None:
    closed = testing.make_published_resource(
        provider,
        name="在逃人员信息",
        share_type="not_shared",
        share_condition="",
        share_method="",
        platform_share_type="",
        share_basis="《中华人民共和国保守国家秘密法》第九条",
    )

    page = _client(applicant).get(reverse("catalog:detail", args=[closed.pk])).content.decode()

    assert 'id="request-add"' not in page
    assert "不予共享" in page and "《中华人民共和国保守国家秘密法》第九条" in page


def test_a_demand_answered_with_a_resource_offers_its_department_s_consumer_the_button(
    applicant: User, requested_resource: Resource, coordinator: User
) -> None:
    demand = demands.create_demand(demands.DemandInput(title="参保人身份核验", description="核验身份"), actor=applicant)
    demands.answer_demand(demand, resource=requested_resource, actor=coordinator)
    url = reverse("sharing:demand_detail", args=[demand.pk])

    assert 'id="demand-request-form"' in _client(applicant).get(url).content.decode()
    assert 'id="demand-request-form"' not in _client(coordinator).get(url).content.decode()


# ------------------------------------------------------------------------------------------ the cart


def test_a_resource_added_from_the_catalogue_is_submitted_from_the_cart(
    applicant: User,
    requested_resource: Resource,
    applicant_scenario: Scenario,
    applicant_system: InformationSystem,
) -> None:
    client = _client(applicant)

    added = client.post(reverse("sharing:request_add", args=[requested_resource.pk]))
    assert added.status_code == 302 and added["Location"] == reverse("sharing:request_cart")
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    line = _line(cart)
    assert requested_resource.name in client.get(reverse("sharing:request_cart")).content.decode()

    submitted = client.post(
        reverse("sharing:request_cart"),
        {
            "action": "submit",
            f"items-{line.pk}": ["公民身份号码", "姓名"],
            f"delivery-{line.pk}": "api",
            "scenario_id": applicant_scenario.pk,
            "system_id": applicant_system.pk,
            "purpose": "参保登记时核验参保人身份",
            "valid_from": (TODAY + dt.timedelta(days=1)).isoformat(),
            "valid_until": (TODAY + dt.timedelta(days=365)).isoformat(),
        },
    )

    cart.refresh_from_db()
    assert submitted.status_code == 302 and submitted["Location"] == reverse("sharing:request_detail", args=[cart.pk])
    assert cart.status == RequestStatus.IN_REVIEW
    assert _line(cart).items == ["公民身份号码", "姓名"]


def test_a_cart_with_problems_says_each_next_to_its_field_and_keeps_what_was_typed(
    applicant: User, requested_resource: Resource, applicant_scenario: Scenario
) -> None:
    client = _client(applicant)
    client.post(reverse("sharing:request_add", args=[requested_resource.pk]))
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    line = _line(cart)

    response = client.post(
        reverse("sharing:request_cart"),
        {
            "action": "submit",
            f"items-{line.pk}": ["姓名"],
            f"delivery-{line.pk}": "file",
            "scenario_id": applicant_scenario.pk,
            "purpose": "参保登记核验",
            "valid_from": "2026-13-01",
        },
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "起始日期应为日期" in page
    assert 'value="2026-13-01"' in page and "参保登记核验" in page
    assert 'value="file" selected' in page
    cart.refresh_from_db()
    assert cart.status == RequestStatus.DRAFT and cart.purpose == ""


# ------------------------------------------------------------------------------------------ decisions


def test_the_provider_reviewer_approves_a_part_and_the_grant_is_issued(
    submitted_request: ShareRequest, provider_reviewer: User
) -> None:
    line = _line(submitted_request)

    response = _act(
        _client(provider_reviewer),
        line,
        "approve",
        {"stage_index": 0, "items": ["姓名"], "reason": "公民身份号码超出核验所需", "daily_quota": "500"},
    )

    line.refresh_from_db()
    assert response.status_code == 302
    assert line.status == LineStatus.PARTIAL and line.approved_items == ["姓名"]
    assert line.grant_id is not None
    grant = Grant.objects.get(pk=line.grant_id)
    assert grant.items == ["姓名"] and grant.daily_quota == 500
    assert grant.department_id == submitted_request.department_id


def test_a_refusal_without_a_reason_is_refused_with_a_message_and_the_line_stays_in_review(
    submitted_request: ShareRequest, provider_reviewer: User
) -> None:
    line = _line(submitted_request)

    response = _act(_client(provider_reviewer), line, "refuse", {"stage_index": 0, "reason": "  "})

    line.refresh_from_db()
    assert response.status_code == 422
    assert "请填写拒绝理由" in _messages(response)
    assert line.status == LineStatus.IN_REVIEW
    assert f'id="refuse-{line.pk}"' in response.content.decode()


def test_a_decision_from_a_page_of_an_earlier_stage_gets_the_conflict_message(
    applicant: User, requested_resource: Resource, request_details: share_requests.RequestInput
) -> None:
    coordinator = testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))
    share_requests.set_review_stages(
        coordinator,
        [
            share_requests.StageInput("合规审查", StageReviewer.COORDINATOR, 3),
            share_requests.StageInput("合规复核", StageReviewer.COORDINATOR, 3),
            share_requests.StageInput("提供部门审核", StageReviewer.PROVIDER, 10),
        ],
    )
    share_requests.add_to_request(applicant, requested_resource.pk)
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    share_requests.update_request(applicant, cart, request_details)
    line = _line(share_requests.submit_request(applicant, cart, today=TODAY))
    client = _client(coordinator)
    assert _act(client, line, "pass", {"stage_index": 0}).status_code == 302

    stale = _act(client, line, "pass", {"stage_index": 0, "note": "同意"})

    line.refresh_from_db()
    assert "该申请已进入下一环节，请刷新后再办理" in _messages(stale)
    assert line.stage_index == 1


def test_someone_of_an_unconcerned_department_gets_404_on_a_request(submitted_request: ShareRequest) -> None:
    outsider = testing.make_user(Role.CONSUMER, Role.DEPT_REVIEWER, department=testing.make_department("市民政局"))
    client = _client(outsider)
    line = _line(submitted_request)

    assert client.get(reverse("sharing:request_detail", args=[submitted_request.pk])).status_code == 404
    assert _act(client, line, "refuse", {"reason": "不需要"}).status_code == 404


# ------------------------------------------------------------------------------------------ queues and settings


def test_the_review_queue_lists_the_most_urgent_line_first(
    applicant: User,
    provider: Department,
    provider_reviewer: User,
    request_details: share_requests.RequestInput,
) -> None:
    numbers = []
    for name, submitted_on in (("后到期资源", TODAY), ("先到期资源", TODAY - dt.timedelta(days=7))):
        resource = testing.make_published_resource(provider, name=name)
        share_requests.add_to_request(applicant, resource.pk)
        cart = share_requests.cart_of(applicant)
        assert cart is not None
        share_requests.update_request(applicant, cart, request_details)
        numbers.append(share_requests.submit_request(applicant, cart, today=submitted_on).number)

    page = _client(provider_reviewer).get(reverse("sharing:request_review_queue")).content.decode()

    assert re.findall(r"GX\d{14}", page) == [numbers[1], numbers[0]]
    assert page.index("先到期资源") < page.index("后到期资源")


def test_only_the_coordinator_has_the_overdue_list(
    applicant: User,
    requested_resource: Resource,
    request_details: share_requests.RequestInput,
    provider_reviewer: User,
    platform_admin: User,
) -> None:
    share_requests.add_to_request(applicant, requested_resource.pk)
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    share_requests.update_request(applicant, cart, request_details)
    late = share_requests.submit_request(applicant, cart, today=TODAY - dt.timedelta(days=40))
    coordinator = testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))

    for user in (applicant, provider_reviewer, platform_admin):
        assert _client(user).get(reverse("sharing:request_overdue")).status_code == 404, user
    page = _client(coordinator).get(reverse("sharing:request_overdue")).content.decode()
    assert str(late.number) in page and "已逾期" in page


def test_only_the_coordinator_changes_the_review_stages(platform_admin: User, applicant: User) -> None:
    coordinator = testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))
    form = {
        "name-0": "合规审查",
        "reviewer-0": StageReviewer.COORDINATOR,
        "days-0": "3",
        "name-1": "提供部门审核",
        "reviewer-1": StageReviewer.PROVIDER,
        "days-1": "10",
    }
    url = reverse("sharing:request_stages")

    assert _client(applicant).post(url, form).status_code == 404
    read_only = _client(platform_admin)
    assert 'id="stages-form"' not in read_only.get(url).content.decode()
    assert "只有共享协调员可以设置审核环节" in _messages(read_only.post(url, form))
    assert not ReviewStage.objects.filter(name="合规审查").exists()

    _client(coordinator).post(url, form)

    assert list(ReviewStage.objects.order_by("position").values_list("name", "reviewer", "working_days")) == [
        ("合规审查", StageReviewer.COORDINATOR, 3),
        ("提供部门审核", StageReviewer.PROVIDER, 10),
    ]

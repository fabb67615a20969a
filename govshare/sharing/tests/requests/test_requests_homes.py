"""The share requests on each role's home (工作台): the reviewer's and the coordinator's lines to decide (most urgent
first, an unknown deadline standing out), the coordinator's overdue and disputed lines, the consumer department's
requests in review and its cart."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.identity.models import InformationSystem
from govshare.sharing import requests as share_requests
from govshare.sharing.choices import StageReviewer
from govshare.sharing.models import ShareRequest, ShareRequestLine
from govshare.testing.sharing import TODAY, make_scenario

pytestmark = pytest.mark.django_db


def home(user: User) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, anchor: str) -> str:
    """The text of one section of the home (by its id), or "" when it is not shown."""
    match = re.search(rf'<section class="card home-section[^"]*" id="{anchor}">(.*?)</section>', page, re.S)
    return match.group(1) if match else ""


def badge(text: str) -> str:
    match = re.search(r'<span class="badge[^"]*">(\d+)</span>', text)
    assert match, "no count in the heading"
    return match.group(1)


def submit(applicant: User, resource: Resource, details: share_requests.RequestInput, on: dt.date) -> ShareRequest:
    share_requests.add_to_request(applicant, resource.pk)
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    share_requests.update_request(applicant, cart, details)
    return share_requests.submit_request(applicant, cart, today=on)


def details_of(department: Department) -> share_requests.RequestInput:
    """What a department's consumer fills in on its cart: its approved scenario and system, a year's use."""
    system = InformationSystem.objects.create(
        code=f"sys-{department.pk}", department=department, name="业务系统", purpose="业务办理"
    )
    scenario = make_scenario(department)
    scenario.systems.add(system)
    return share_requests.RequestInput(
        scenario_id=scenario.pk,
        system_id=system.pk,
        purpose="业务办理时核验身份",
        valid_from=TODAY + dt.timedelta(days=1),
        valid_until=TODAY + dt.timedelta(days=365),
    )


@pytest.fixture
def coordinator(db: None) -> User:
    return testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))


def test_the_provider_reviewer_sees_the_lines_to_decide_most_urgent_first(
    applicant: User,
    provider: Department,
    provider_reviewer: User,
    request_details: share_requests.RequestInput,
) -> None:
    submit(applicant, testing.make_published_resource(provider, name="后到期资源"), request_details, TODAY)
    submit(
        applicant,
        testing.make_published_resource(provider, name="先到期资源"),
        request_details,
        TODAY - dt.timedelta(days=7),
    )

    shown = section(home(provider_reviewer), "home-request-review")

    assert badge(shown) == "2"
    assert shown.index("先到期资源") < shown.index("后到期资源")
    assert "市医保局" in shown and "提供部门审核" in shown and "剩余" in shown
    assert 'href="/sharing/requests/review/"' in shown


def test_the_reviewers_section_lists_five_lines_and_counts_them_all(
    applicant: User,
    provider: Department,
    provider_reviewer: User,
    request_details: share_requests.RequestInput,
) -> None:
    for n in range(7):
        submit(applicant, testing.make_published_resource(provider, name=f"资源{n}"), request_details, TODAY)

    shown = section(home(provider_reviewer), "home-request-review")

    assert badge(shown) == "7"
    assert shown.count("<li>") == 5


def test_an_unknown_deadline_is_shown_as_a_warning_first(
    submitted_request: ShareRequest,
    provider: Department,
    provider_reviewer: User,
    applicant: User,
    request_details: share_requests.RequestInput,
) -> None:
    submit(applicant, testing.make_published_resource(provider, name="期限已知资源"), request_details, TODAY)
    # Its stage began late in 2026: the deadline falls in 2027, which nobody has entered here.
    ShareRequestLine.objects.filter(request=submitted_request).update(
        stage_started_on=dt.date(2026, 12, 28), due_on=None, deadline_problem="2027 年的节假日安排尚未录入"
    )

    shown = section(home(provider_reviewer), "home-request-review")

    assert '<span class="badge warning">期限无法计算：2027 年的节假日安排尚未录入，无法计算工作日期限</span>' in shown
    assert shown.index("期限无法计算") < shown.index("期限已知资源")


def test_the_coordinator_sees_the_lines_of_its_compliance_stage(
    coordinator: User,
    submitted_request: ShareRequest,
    applicant: User,
    provider: Department,
    request_details: share_requests.RequestInput,
) -> None:
    share_requests.set_review_stages(
        coordinator,
        [
            share_requests.StageInput("合规审查", StageReviewer.COORDINATOR, 3),
            share_requests.StageInput("提供部门审核", StageReviewer.PROVIDER, 10),
        ],
    )
    submit(applicant, testing.make_published_resource(provider, name="合规审查中的资源"), request_details, TODAY)

    shown = section(home(coordinator), "home-request-review")

    # The request submitted before the stages changed is the provider's alone (not escalated).
    assert badge(shown) == "1"
    assert "合规审查中的资源" in shown and "合规审查" in shown


def test_a_user_who_decides_nothing_has_no_review_section(applicant: User, submitted_request: ShareRequest) -> None:
    assert section(home(applicant), "home-request-review") == ""


def test_the_coordinator_sees_overdue_and_disputed_counts(
    coordinator: User,
    applicant: User,
    provider: Department,
    provider_reviewer: User,
    request_details: share_requests.RequestInput,
) -> None:
    submit(
        applicant,
        testing.make_published_resource(provider, name="逾期资源"),
        request_details,
        TODAY - dt.timedelta(days=40),
    )
    refused = submit(applicant, testing.make_published_resource(provider, name="被拒资源"), request_details, TODAY)
    line = ShareRequestLine.objects.get(request=refused)
    share_requests.refuse_line(provider_reviewer, line, reason="超出场景所需")
    share_requests.dispute_line(applicant, line, reason="场景确需该资源")

    shown = section(home(coordinator), "home-request-overdue")

    assert re.search(r'<strong class="home-number">1</strong> 项申请逾期未办', shown)
    assert re.search(r'<strong class="home-number">1</strong> 项异议待仲裁', shown)
    assert 'href="/sharing/requests/overdue/"' in shown


def test_the_overdue_section_is_hidden_when_nothing_is_late_or_disputed(
    coordinator: User, submitted_request: ShareRequest
) -> None:
    assert section(home(coordinator), "home-request-overdue") == ""


def test_the_consumer_sees_the_departments_requests_in_review_newest_first_and_the_cart(
    applicant: User,
    applying_department: Department,
    provider: Department,
    request_details: share_requests.RequestInput,
) -> None:
    older = submit(applicant, testing.make_published_resource(provider, name="甲"), request_details, TODAY)
    colleague = testing.make_user(Role.CONSUMER, department=applying_department)
    newer = submit(colleague, testing.make_published_resource(provider, name="乙"), request_details, TODAY)
    share_requests.add_to_request(applicant, testing.make_published_resource(provider, name="丙").pk)

    shown = section(home(applicant), "home-request-department")

    assert badge(shown) == "2"
    assert shown.index(str(newer.number)) < shown.index(str(older.number))
    assert "办理中" in shown
    assert re.search(r'<strong class="home-number">1</strong> 个资源在申请车中待提交', shown)
    assert 'href="/sharing/requests/cart/"' in shown


def test_the_consumers_section_leaves_out_closed_requests_and_others_departments(
    applicant: User,
    provider: Department,
    provider_reviewer: User,
    submitted_request: ShareRequest,
) -> None:
    share_requests.refuse_line(
        provider_reviewer, ShareRequestLine.objects.get(request=submitted_request), reason="无依据"
    )
    other = testing.make_department("市民政局")
    elsewhere = testing.make_user(Role.CONSUMER, department=other)
    submit(elsewhere, testing.make_published_resource(provider, name="别部门的申请"), details_of(other), TODAY)

    assert section(home(applicant), "home-request-department") == ""


def test_the_consumers_section_is_hidden_without_requests_or_cart(applicant: User) -> None:
    assert section(home(applicant), "home-request-department") == ""

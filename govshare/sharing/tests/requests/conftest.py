"""Fixtures of the share request tests: a provider (市公安局) with a published 有条件共享 resource and its 部门审核员,
an applying department (市医保局) with its consumer, an approved scenario served by one of its systems; all judged on
the fixed day."""

from __future__ import annotations

import datetime as dt

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.datasets import scopes
from govshare.identity.models import InformationSystem
from govshare.sharing import requests as share_requests
from govshare.sharing.models import Scenario, ShareRequest
from govshare.testing.sharing import PEOPLE_ITEMS, TODAY, make_scenario


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests are submitted and their deadlines judged on the fixed clock's day, never on today's date."""
    monkeypatch.setattr(scopes, "clock", lambda: TODAY)


@pytest.fixture
def provider(db: None) -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def applying_department(db: None) -> Department:
    return testing.make_department("市医保局")


@pytest.fixture
def applicant(applying_department: Department) -> User:
    """The applying department's 数据使用人员."""
    return testing.make_user(Role.CONSUMER, department=applying_department)


@pytest.fixture
def provider_reviewer(provider: Department) -> User:
    return testing.make_user(Role.DEPT_REVIEWER, department=provider)


@pytest.fixture
def people(provider: Department) -> Resource:
    """常住人口基本信息: 有条件共享, items of every masking kind and one 不予共享 item (宗教信仰)."""
    return testing.make_published_resource(provider, items=PEOPLE_ITEMS, name="常住人口基本信息")


@pytest.fixture
def requested_resource(provider: Department) -> Resource:
    """Published, 有条件共享, with the items 公民身份号码, 姓名, 出生日期."""
    return testing.make_published_resource(provider)


@pytest.fixture
def applicant_system(applying_department: Department) -> InformationSystem:
    return InformationSystem.objects.create(
        code="ybj-core", department=applying_department, name="医保核心业务系统", purpose="参保登记"
    )


@pytest.fixture
def applicant_scenario(applying_department: Department, applicant_system: InformationSystem) -> Scenario:
    scenario = make_scenario(applying_department)
    scenario.systems.add(applicant_system)
    return scenario


@pytest.fixture
def request_details(applicant_scenario: Scenario, applicant_system: InformationSystem) -> share_requests.RequestInput:
    """What the applicant fills in on the cart (a year from the day after the fixed day)."""
    return share_requests.RequestInput(
        scenario_id=applicant_scenario.pk,
        system_id=applicant_system.pk,
        purpose="参保登记时核验参保人身份",
        valid_from=TODAY + dt.timedelta(days=1),
        valid_until=TODAY + dt.timedelta(days=365),
    )


@pytest.fixture
def submitted_request(
    applicant: User, requested_resource: Resource, request_details: share_requests.RequestInput
) -> ShareRequest:
    """The applicant's request for the resource, submitted through the services on the fixed day."""
    share_requests.add_to_request(applicant, requested_resource.pk)
    cart = share_requests.cart_of(applicant)
    assert cart is not None
    share_requests.update_request(applicant, cart, request_details)
    return share_requests.submit_request(applicant, cart, today=TODAY)

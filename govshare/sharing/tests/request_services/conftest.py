"""Fixtures of the share-request service tests: a provider (市公安局) with a conditionally shared resource, a consumer
department (市医保局) with an approved scenario served by its system, and the coordinator; on the fixed day."""

from __future__ import annotations

import pytest

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.datasets import scopes
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem
from govshare.sharing.models import Scenario
from govshare.testing.sharing import PEOPLE_ITEMS, TODAY, make_scenario


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scopes, "clock", lambda: TODAY)


@pytest.fixture
def provider(db: None) -> Department:
    return testing.make_department("市公安局")


@pytest.fixture
def consumer_department(db: None) -> Department:
    return testing.make_department("市医保局")


@pytest.fixture
def consumer(consumer_department: Department) -> User:
    return testing.make_user(Role.CONSUMER, department=consumer_department)


@pytest.fixture
def provider_reviewer(provider: Department) -> User:
    return testing.make_user(Role.DEPT_REVIEWER, department=provider)


@pytest.fixture
def coordinator(db: None) -> User:
    return testing.make_user(Role.COORDINATOR, department=testing.make_department("市大数据局"))


@pytest.fixture
def people(provider: Department) -> Resource:
    """常住人口: 有条件共享, with one 不予共享 item (宗教信仰)."""
    return testing.make_published_resource(provider, items=PEOPLE_ITEMS, name="常住人口基本信息")


@pytest.fixture
def system(consumer_department: Department) -> InformationSystem:
    admin = testing.make_user(Role.CATALOG_ADMIN, department=consumer_department)
    data = identity_services.SystemInput(code="ybj-cbhy", name="医保参保核验系统", department=consumer_department)
    return identity_services.register_information_system(data, actor=admin)


@pytest.fixture
def scenario(consumer_department: Department, system: InformationSystem) -> Scenario:
    approved = make_scenario(consumer_department)
    approved.systems.add(system)
    return approved

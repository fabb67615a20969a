"""Fixtures of the share request API tests: a provider (市公安局) with a published resource, a consumer department
(市医保局) with an approved scenario served by its system, a third department, the coordinators; judged on the fixed
day."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class RequestWorld:
    provider: Department  # 市公安局
    applicant: Department  # 市医保局
    resource: Resource  # the provider's published 常住人口基本信息 (有条件共享)
    applicant_consumer: User  # 使用方 of 市医保局: applies
    applicant_reviewer: User  # 部门审核员 of 市医保局: decides nothing of the provider's
    provider_reviewer: User  # 部门审核员 of 市公安局: decides the provider stage
    stranger: User  # 使用方 of a third department
    coordinator: User
    second_coordinator: User
    scenario: Scenario  # 市医保局's approved scenario, served by `system`
    system: InformationSystem


@pytest.fixture(autouse=True)
def _fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deadlines and grants are judged on the fixed clock's day, never on today's date."""
    monkeypatch.setattr(scopes, "clock", lambda: TODAY)


@pytest.fixture
def share_world(db: None) -> RequestWorld:
    provider = testing.make_department("市公安局")
    applicant = testing.make_department("市医保局")
    coordination = testing.make_department("市大数据局")
    applicant_admin = testing.make_user(Role.CATALOG_ADMIN, department=applicant)
    system = identity_services.register_information_system(
        identity_services.SystemInput(code="ybj-hx", name="医保核验系统", department=applicant), actor=applicant_admin
    )
    scenario = make_scenario(applicant)
    scenario.systems.add(system)
    return RequestWorld(
        provider=provider,
        applicant=applicant,
        resource=testing.make_published_resource(provider, items=PEOPLE_ITEMS, name="常住人口基本信息"),
        applicant_consumer=testing.make_user(Role.CONSUMER, department=applicant),
        applicant_reviewer=testing.make_user(Role.DEPT_REVIEWER, department=applicant),
        provider_reviewer=testing.make_user(Role.DEPT_REVIEWER, department=provider),
        stranger=testing.make_user(Role.CONSUMER, department=testing.make_department("市民政局")),
        coordinator=testing.make_user(Role.COORDINATOR, department=coordination),
        second_coordinator=testing.make_user(Role.COORDINATOR, department=coordination),
        scenario=scenario,
        system=system,
    )

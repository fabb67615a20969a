"""A small world for the scenario tests: two departments (a consumer, 市医保局, and another), their people, their
systems and the coordinator; scenarios made through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.identity import services as identity_services
from govshare.identity.models import InformationSystem
from govshare.sharing import scenarios
from govshare.sharing.models import Scenario


@dataclass
class ScenarioWorld:
    ybj: Department
    other: Department
    ybj_admin: User  # 目录管理员 of 市医保局
    ybj_consumer: User  # 使用方 of 市医保局
    ybj_reviewer: User  # 部门审核员 of 市医保局 (no scenario powers)
    other_admin: User
    other_consumer: User
    coordinator: User
    second_coordinator: User
    platform: User
    auditor: User
    ybj_system: InformationSystem
    other_system: InformationSystem


def _system(department: Department, code: str, actor: User) -> InformationSystem:
    return identity_services.register_information_system(
        identity_services.SystemInput(code=code, name=f"{department.name}业务系统", department=department), actor=actor
    )


def build() -> ScenarioWorld:
    ybj = testing.make_department("市医保局")
    other = testing.make_department("市住建局")
    ybj_admin = testing.make_user(Role.CATALOG_ADMIN, department=ybj)
    other_admin = testing.make_user(Role.CATALOG_ADMIN, department=other)
    coordination = testing.make_department("市大数据局")
    return ScenarioWorld(
        ybj=ybj,
        other=other,
        ybj_admin=ybj_admin,
        ybj_consumer=testing.make_user(Role.CONSUMER, department=ybj),
        ybj_reviewer=testing.make_user(Role.DEPT_REVIEWER, department=ybj),
        other_admin=other_admin,
        other_consumer=testing.make_user(Role.CONSUMER, department=other),
        coordinator=testing.make_user(Role.COORDINATOR, department=coordination),
        second_coordinator=testing.make_user(Role.COORDINATOR, department=coordination),
        platform=testing.make_user(Role.PLATFORM_ADMIN),
        auditor=testing.make_user(Role.AUDITOR),
        ybj_system=_system(ybj, "ybj-hx", ybj_admin),
        other_system=_system(other, "zjj-fc", other_admin),
    )


def scenario_input(world: ScenarioWorld, **overrides: object) -> scenarios.ScenarioInput:
    values: dict[str, object] = {
        "department": world.ybj,
        "name": "医保参保人员身份核验",
        "description": "办理医保参保登记时核验参保人员的户籍身份信息，免于群众提交户口簿复印件。",
        "legal_basis": "《社会保险法》第五十八条；《政务数据共享条例》",
        "system_ids": [world.ybj_system.pk],
        "needed_items": ["公民身份号码", "姓名", "出生日期"],
    }
    values.update(overrides)
    return scenarios.ScenarioInput(**values)  # type: ignore[arg-type]


def draft(world: ScenarioWorld, **overrides: object) -> Scenario:
    return scenarios.register_scenario(scenario_input(world, **overrides), actor=world.ybj_consumer)


def submitted(world: ScenarioWorld, **overrides: object) -> Scenario:
    return scenarios.submit_scenario(draft(world, **overrides), actor=world.ybj_consumer)


def approved(world: ScenarioWorld, **overrides: object) -> Scenario:
    return scenarios.approve_scenario(submitted(world, **overrides), actor=world.coordinator)

"""Small typed factories for tests and demo data (real services, real database)."""

from __future__ import annotations

import itertools

from govshare.accounts import services as account_services
from govshare.accounts.models import Department, User
from govshare.catalog.models import Resource
from govshare.catalog.rules import ItemDraft, ResourceDraft
from govshare.core.identifiers import make_uscc

_counter = itertools.count(1)
TEST_PASSWORD = "Test-Passw0rd-2026"


def department_code(n: int, region: str = "510600") -> str:
    """A valid 统一社会信用代码 of a government agency (11 = 机构编制 / 机关)."""
    return make_uscc("11", region, f"{n:08d}")


def make_department(name: str | None = None, *, code: str | None = None, level: str = "city") -> Department:
    n = next(_counter)
    return account_services.create_department(
        account_services.DepartmentInput(
            code=code or department_code(90_000 + n), name=name or f"测试部门{n}", level=level
        ),
        actor=None,
    )


def make_user(
    *roles: str, department: Department | None = None, username: str | None = None, password: str = TEST_PASSWORD
) -> User:
    n = next(_counter)
    return account_services.create_user(
        username=username or f"user{n}",
        password=password,
        full_name=f"测试用户{n}",
        department=department,
        roles=list(roles),
        actor=None,
    )


def resource_draft(department: Department, **overrides: object) -> ResourceDraft:
    values: dict[str, object] = {
        "name": "常住人口户籍登记信息",
        "category_code": "101",
        "department_code": department.code,
        "summary": "全市常住人口的户籍登记信息，包括公民身份号码、姓名、性别、出生日期和户籍地址。",
        "format": "database",
        "sub_format": "PostgreSQL",
        "share_type": "conditional",
        "share_condition": "用于政务服务身份核验，须经提供部门审核",
        "share_method": "platform",
        "platform_share_type": "api",
        "open_type": "not_open",
        "update_cycle": "daily",
        "items": [
            ItemDraft(name="公民身份号码", data_type="C", length=18),
            ItemDraft(name="姓名", data_type="C", length=50),
            ItemDraft(name="出生日期", data_type="D"),
        ],
    }
    values.update(overrides)
    return ResourceDraft(**values)  # type: ignore[arg-type]


def make_published_resource(
    department: Department, *, items: list[ItemDraft] | None = None, **overrides: object
) -> Resource:
    """A published resource of the department (created by a fresh catalogue administrator, published by a fresh
    platform administrator)."""
    from govshare.accounts.choices import Role
    from govshare.catalog import services as catalog_services

    author = make_user(Role.CATALOG_ADMIN, department=department)
    reviewer = make_user(Role.PLATFORM_ADMIN)
    if items is not None:
        overrides["items"] = items
    resource = catalog_services.create_resource(resource_draft(department, **overrides), actor=author)
    catalog_services.submit_resource(resource, actor=author)
    return catalog_services.publish_resource(resource, actor=reviewer)

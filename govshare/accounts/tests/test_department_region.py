"""A department's region code is a GB/T 2260 code of some revision (domain.md §6)."""

from __future__ import annotations

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts import services
from govshare.accounts.models import Department, User
from govshare.core.errors import FieldProblem, ValidationFailed

pytestmark = pytest.mark.django_db

UNKNOWN = "行政区划代码“510605”不存在：1980年12月至2019年4月的 GB/T 2260 历次版本中都没有这个代码"


def department_input(region_code: str, *, n: int = 1) -> services.DepartmentInput:
    return services.DepartmentInput(
        code=testing.department_code(70_000 + n), name=f"区划测试部门{n}", level="county", region_code=region_code
    )


def test_a_department_in_a_county_of_the_current_table_is_created_with_its_region_code(platform_admin) -> None:
    department = services.create_department(department_input("510603"), actor=platform_admin)
    assert Department.objects.get(pk=department.pk).region_code == "510603"


def test_a_department_with_a_region_code_no_revision_published_is_refused(platform_admin) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_department(department_input("510605"), actor=platform_admin)
    assert refused.value.problems == [FieldProblem("region_code", UNKNOWN)]
    assert not Department.objects.filter(name="区划测试部门1").exists()


def test_a_region_code_that_is_not_six_digits_is_refused_as_such(platform_admin) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.create_department(department_input("51060A"), actor=platform_admin)
    assert refused.value.problems == [FieldProblem("region_code", "行政区划代码应为6位数字，实际为“51060A”")]


def test_a_retired_region_code_is_accepted(platform_admin) -> None:
    # 510602 德阳市市中区 was last published in 1995-12; retired codes are never given to another place.
    department = services.create_department(department_input("510602"), actor=platform_admin)
    assert department.region_code == "510602"


def test_changing_a_department_to_an_unknown_region_code_is_refused(platform_admin) -> None:
    department = services.create_department(department_input("510603"), actor=platform_admin)
    with pytest.raises(ValidationFailed) as refused:
        services.update_department(department, department_input("510605"), is_active=True, actor=platform_admin)
    assert refused.value.problems == [FieldProblem("region_code", UNKNOWN)]
    assert Department.objects.get(pk=department.pk).region_code == "510603"


def test_a_region_code_stored_before_the_check_does_not_block_other_changes(platform_admin) -> None:
    department = services.create_department(department_input("510603"), actor=platform_admin)
    # A row written when only "6 digits" was checked.
    Department.objects.filter(pk=department.pk).update(region_code="510605")
    department.refresh_from_db()
    renamed = services.DepartmentInput(
        code=department.code, name="区划测试部门（更名）", level="county", region_code="510605"
    )
    services.update_department(department, renamed, is_active=False, actor=platform_admin)
    department.refresh_from_db()
    assert (department.name, department.is_active, department.region_code) == ("区划测试部门（更名）", False, "510605")


def test_the_back_office_shows_the_refusal_of_an_unknown_region_code(platform_admin: User) -> None:
    client = Client()
    client.force_login(platform_admin)
    data = {
        "code": testing.department_code(70_100),
        "name": "市民政局",
        "short_name": "",
        "level": "city",
        "parent": "",
        "region_code": "510605",
        "is_active": "on",
    }
    response = client.post("/admin/accounts/department/add/", data)
    assert response.status_code == 200
    assert UNKNOWN in response.content.decode()
    assert not Department.objects.filter(name="市民政局").exists()

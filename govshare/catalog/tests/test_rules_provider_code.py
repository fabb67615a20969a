"""A provider code (提供方代码, a department's 统一社会信用代码) that names no department says why: a mistyped check
character is called a check-character error (with the department the corrected code belongs to), an invalid code
says what is invalid, a disabled department is called disabled; only a valid code of no department is
"不是平台中的部门"."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from govshare import testing
from govshare.accounts.models import Department
from govshare.catalog.rules import check_resource_draft
from govshare.core.identifiers import USCC_ALPHABET, make_uscc
from govshare.testing.api import bearer
from govshare.testing.authz import resource_body

_ORG_CHARS = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
VALID_CODES = st.builds(
    make_uscc,
    st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
    st.sampled_from(["510600", "510603", "110000", "440300", "100000"]),
    _ORG_CHARS,
)


def _department_problems(code: str, departments: dict[str, Department] | None = None) -> list[str]:
    # An unsaved Department only carries the code into the draft; the rules see `departments`.
    draft = testing.resource_draft(Department(code=code))
    problems = check_resource_draft(draft, departments=departments or {}, categories={})
    return [p.message for p in problems if p.field == "department_code"]


@given(VALID_CODES, st.data())
def test_any_valid_code_with_another_check_character_is_told_its_check_character_is_wrong(code: str, data) -> None:  # type: ignore[no-untyped-def]
    wrong = data.draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[17]]))
    assert _department_problems(code[:17] + wrong) == [
        f"提供方代码“{code[:17]}{wrong}”的校验位（第18位）错误：应为“{code[17]}”，实际为“{wrong}”"
    ]


def test_a_check_character_outside_the_alphabet_is_a_check_character_error_too() -> None:
    code = testing.department_code(7)
    (message,) = _department_problems(code[:17] + "Z")
    assert f"校验位（第18位）错误：应为“{code[17]}”，实际为“Z”" in message


def test_a_code_of_the_wrong_length_says_so() -> None:
    assert _department_problems(testing.department_code(7)[:17]) == [
        f"提供方代码“{testing.department_code(7)[:17]}”不是有效的统一社会信用代码：统一社会信用代码应为18位，实际为17位"
    ]


def test_a_valid_code_of_no_department_is_not_a_department_of_the_platform() -> None:
    code = testing.department_code(8)
    assert _department_problems(code) == [f"提供方代码“{code}”不是平台中的部门"]


@pytest.mark.django_db
def test_a_disabled_department_is_called_disabled(department) -> None:
    Department.objects.filter(pk=department.pk).update(is_active=False)
    department.refresh_from_db()
    assert _department_problems(department.code, {department.code: department}) == [
        f"提供方代码“{department.code}”是部门“{department.name}”的代码，该部门已停用"
    ]


@pytest.mark.django_db
def test_the_api_names_the_department_a_mistyped_check_character_meant(catalog_admin, department) -> None:
    code = department.code
    wrong = next(c for c in USCC_ALPHABET if c != code[17])
    response = Client().post(
        "/api/catalog/resources",
        resource_body(code[:17] + wrong),
        content_type="application/json",
        headers=bearer(catalog_admin),
    )
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [
        {
            "field": "department_code",
            "message": f"提供方代码“{code[:17]}{wrong}”的校验位（第18位）错误：应为“{code[17]}”，实际为“{wrong}”；"
            f"“{code}”是部门“{department.name}”的代码",
        }
    ]

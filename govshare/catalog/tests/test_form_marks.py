"""The entry form says before it is sent which fields are required (a * through the field's `required` class and
the control's `required` attribute) and which apply only to some choices (data-show-when / data-show-values, for
the static script that hides them otherwise). The rules still decide on the server, in their own words."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from govshare.catalog.forms import RULES_REQUIRED
from govshare.catalog.models import Resource
from govshare.catalog.rules import ResourceDraft, check_resource_draft
from govshare.catalog.tests.test_views import client_for, draft_of, form_data

pytestmark = pytest.mark.django_db


def _field(page: str, name: str) -> str:
    """The opening of a field's block: its div, label and control."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}"[^>]*>[^<]*</label>\s*<[^>]*>', page)
    assert match, name
    return match.group(0)


def test_the_marked_fields_are_the_ones_the_rules_require() -> None:
    blank = ResourceDraft(
        name="", category_code="", department_code="", summary="", format="", share_type="", open_type="",
        update_cycle="", items=[],
    )  # fmt: skip
    problems = check_resource_draft(blank, departments={}, categories={})
    assert {p.field for p in problems if p.message.endswith("为必填项")} == set(RULES_REQUIRED)


def test_required_fields_carry_the_mark_and_the_attribute(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    page = client_for(catalog_admin).get(reverse("catalog:create")).content.decode()
    for name in ("name", "category_code", "summary", "format", "share_type", "open_type", "update_cycle"):
        assert '<div class="field required' in _field(page, name) and " required " in _field(page, name)
    assert "required" not in _field(page, "sub_format")
    # A department administrator's own department is fixed: nothing to fill in, no mark.
    assert "required" not in _field(page, "department_code")
    assert '<th class="required">信息项名称</th><th class="required">数据类型</th>' in page


def test_fields_for_some_choices_say_when_they_apply(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    page = client_for(catalog_admin).get(reverse("catalog:create")).content.decode()
    assert 'data-show-when="share_type" data-show-values="not_shared"' in _field(page, "share_basis")
    assert 'data-show-when="share_type" data-show-values="conditional"' in _field(page, "share_condition")
    assert 'data-show-when="open_type" data-show-values="conditional"' in _field(page, "open_condition")
    assert 'data-show-when="share_method" data-show-values="platform"' in _field(page, "platform_share_type")
    # Nothing chosen yet: none of them is required now.
    assert '<div class="field">' in _field(page, "share_basis") and " required " not in _field(page, "share_basis")


def test_a_field_is_marked_required_when_the_chosen_value_asks_for_it(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    data = form_data(share_type="not_shared", share_method="", platform_share_type="")
    response = client_for(catalog_admin).post(reverse("catalog:create"), data)
    page = response.content.decode()
    assert "required" in _field(page, "share_basis").split(">")[0] and " required " in _field(page, "share_basis")
    # The rules' message is unchanged, next to the field.
    assert (
        '<span class="error" data-field="share_basis">不予共享的资源必须填写法律、行政法规或国家政策依据</span>' in page
    )
    assert not Resource.objects.exists()


def test_the_edit_page_marks_from_the_stored_values(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    resource = draft_of(catalog_admin)
    Resource.objects.filter(pk=resource.pk).update(share_method="platform")
    page = client_for(catalog_admin).get(reverse("catalog:edit", args=[resource.pk])).content.decode()
    assert " required " in _field(page, "platform_share_type")
    assert "required" not in _field(page, "category_code")  # fixed once created

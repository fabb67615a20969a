"""Grading in English: refused proposals, the grades of a change and the effects of approving it are said in the
reader's language; in Chinese as before."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from govshare.grading.models import GradingChange
from govshare.testing.api import bearer
from govshare.testing.english import chinese_in

ENGLISH = {"Accept-Language": "en"}


def _propose(user, resource, **values: str):  # type: ignore[no-untyped-def]
    body = {"resource_id": resource.pk, "to_grade": "general", "to_level": "L2", "reason": "why", **values}
    return Client().post(
        "/api/grading/changes", body, content_type="application/json", headers={**bearer(user), **ENGLISH}
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values",
    [
        {},  # the grades it has
        {"reason": " "},
        {"item_name": "no such item", "to_grade": "core", "to_level": "L4"},
    ],
)
def test_a_refused_proposal_is_explained_in_english(catalog_admin, published, values) -> None:  # type: ignore[no-untyped-def]
    response = _propose(catalog_admin, published, **values)
    assert response.status_code == 422, response.content
    body = response.json()
    messages = [body["detail"], *(e["message"] for e in body["errors"])]
    assert chinese_in(messages, user_data=[published.code]) == [], messages


@pytest.mark.django_db
def test_a_proposal_the_grades_of_its_resource_forbid_names_them_in_english(catalog_admin, published) -> None:  # type: ignore[no-untyped-def]
    response = _propose(catalog_admin, published, to_grade="general", to_level="L1", item_name="姓名")
    assert response.status_code == 422, response.content
    messages = [e["message"] for e in response.json()["errors"]]
    assert chinese_in(messages, user_data=["姓名"]) == [], messages


@pytest.mark.django_db
def test_the_change_page_shows_its_grades_in_english(catalog_admin, security_officer, published) -> None:  # type: ignore[no-untyped-def]
    assert _propose(catalog_admin, published, to_grade="core", to_level="L4").status_code == 201
    change = GradingChange.objects.get()
    client = Client()
    client.force_login(security_officer)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("grading:change", args=[change.pk])).content.decode()
    assert "General / L2 " in page and "Core / L4 " in page, re.findall(r".{40}/ L\d.{20}", page)
    with translation.override("zh-hans"):
        assert change.from_label == "一般 / L2 低敏感"

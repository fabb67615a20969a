"""An invalid API request is refused in the platform's words and the caller's language: each problem names its field
("缺少必填字段「reason」"), never pydantic's English ("Field required"); English when the caller asks for it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import translation
from ninja import NinjaAPI, Schema
from ninja.testing import TestClient
from pydantic import Field, field_validator

from govshare.core.apierrors import install_error_handlers
from govshare.testing.api import bearer


def _messages(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}


@pytest.mark.django_db
def test_missing_and_unparsable_body_fields_are_named_in_chinese(catalog_admin) -> None:
    response = Client().post(
        "/api/grading/changes",
        {"resource_id": "abc", "to_grade": "general", "to_level": "L2"},
        content_type="application/json",
        headers=bearer(catalog_admin),
    )
    assert response.json()["detail"] == "请求参数不符合要求"
    assert _messages(response) == {"resource_id": "「resource_id」应为整数", "reason": "缺少必填字段「reason」"}


@pytest.mark.django_db
def test_bounds_of_query_parameters_are_said_with_the_bound(catalog_admin) -> None:
    response = Client().get("/api/catalog/resources?page=0", headers=bearer(catalog_admin))
    assert _messages(response) == {"page": "「page」应不小于 1"}


@pytest.mark.django_db
def test_a_too_long_text_says_the_limit(catalog_admin) -> None:
    response = Client().get("/api/jobs?task=" + "x" * 101, headers=bearer(catalog_admin))
    assert _messages(response) == {"task": "「task」最多 100 个字符"}


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_said_in_chinese(catalog_admin) -> None:
    response = Client().post(
        "/api/grading/changes", "{not json", content_type="application/json", headers=bearer(catalog_admin)
    )
    assert response.json()["detail"] == "请求体不是合法的 JSON，无法解析"


@pytest.mark.django_db
def test_english_callers_read_english(catalog_admin) -> None:
    response = Client().post(
        "/api/grading/changes",
        {"resource_id": "abc", "to_grade": "general", "to_level": "L2"},
        content_type="application/json",
        headers={**bearer(catalog_admin), "Accept-Language": "en"},
    )
    assert response.json()["detail"] == "The request's parameters are not valid"
    assert _messages(response) == {
        "resource_id": "“resource_id” must be a whole number",
        "reason": "Required field “reason” is missing",
    }


def test_a_caller_without_credentials_in_english_is_told_so_in_english(db) -> None:
    response = Client().get("/api/catalog/resources", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Not signed in, or the token is not valid"


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


class Shape(Schema):
    name: str = Field(..., min_length=1, max_length=5)
    colour: Colour
    kind: Literal["circle", "square"]
    sides: list[int] = Field(..., max_length=2)
    code: str

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("只能包含数字")
        return value


def _shape_api() -> TestClient:
    api = NinjaAPI(urls_namespace="validation-message-test")
    install_error_handlers(api)

    @api.post("/shapes")
    def create(request: HttpRequest, shape: Shape) -> str:
        return shape.name

    return TestClient(api)


def test_each_kind_of_problem_names_its_field_without_english() -> None:
    body = {"name": "", "colour": "blue", "kind": "oval", "sides": [1, 2, 3], "code": "1a", "extra": 1}
    with translation.override("zh-hans"):
        response = _shape_api().post("/shapes", json=body)
    assert _messages(response) == {
        "name": "「name」不能为空",
        "colour": "「colour」的取值须为以下之一：'red', 'green'",
        "kind": "「kind」的取值须为以下之一：'circle', 'square'",
        "sides": "「sides」最多 2 项",
        "code": "「code」：只能包含数字",
    }

"""install_error_handlers: another API style installs the same mapping of errors to status codes, with its own body."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import Throttled
from ninja.security import APIKeyHeader
from ninja.testing import TestClient

from govshare.core.apierrors import ApiError, install_error_handlers
from govshare.core.errors import Conflict, FieldProblem, NotFound, ValidationFailed


def ckan_error_body(error: ApiError) -> dict[str, object]:
    """CKAN's action API envelope, as the open-data API answers."""
    return {
        "success": False,
        "error": {"__type": f"HTTP {error.status}", "message": error.detail, "fields": error.errors},
    }


class NobodyMayPass(APIKeyHeader):
    param_name = "X-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return None


def small_api(**install: Any) -> NinjaAPI:
    api = NinjaAPI(urls_namespace="error-handler-test")
    install_error_handlers(api, **install)

    @api.get("/missing")
    def missing(request: HttpRequest) -> None:
        raise NotFound("数据集不存在")

    @api.get("/invalid")
    def invalid(request: HttpRequest) -> None:
        raise ValidationFailed([FieldProblem("rows", "第 3 行缺少主键", row=3, column="B")])

    @api.get("/conflict")
    def conflict(request: HttpRequest) -> None:
        raise Conflict("已有同名数据集")

    @api.get("/typed")
    def typed(request: HttpRequest, limit: int) -> int:
        return limit

    @api.get("/guarded", auth=NobodyMayPass())
    def guarded(request: HttpRequest) -> None:
        return None

    @api.get("/busy")
    def busy(request: HttpRequest) -> None:
        raise Throttled(wait=42)

    return api


def test_a_second_api_renders_a_domain_error_in_its_own_shape_with_the_errors_status() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/missing")

    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": {"__type": "HTTP 404", "message": "数据集不存在", "fields": []},
    }


def test_a_second_api_passes_each_problem_of_a_validation_failure_to_its_render() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/invalid")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == [
        {"field": "rows", "message": "第 3 行缺少主键", "row": 3, "column": "B"}
    ]


def test_a_second_api_answers_a_conflict_409() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/conflict")

    assert (response.status_code, response.json()["error"]["message"]) == (409, "已有同名数据集")


def test_a_second_api_refuses_an_invalid_request_422_naming_the_parameter() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/typed?limit=many")

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "请求参数不符合要求"
    assert [problem["field"] for problem in response.json()["error"]["fields"]] == ["limit"]


def test_a_second_api_refuses_a_missing_credential_401() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/guarded")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "未登录或令牌无效"


def test_a_second_api_says_when_to_retry_a_throttled_request() -> None:
    response = TestClient(small_api(render=ckan_error_body)).get("/busy")

    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.json()["success"] is False


def test_without_a_render_an_api_answers_the_staff_apis_detail_and_errors() -> None:
    response = TestClient(small_api()).get("/invalid")

    assert response.status_code == 422
    assert response.json() == {
        "detail": "数据校验未通过",
        "errors": [{"field": "rows", "message": "第 3 行缺少主键", "row": 3, "column": "B"}],
    }

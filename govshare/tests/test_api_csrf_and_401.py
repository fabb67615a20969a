"""Who is refused how on the API's changing routes: a caller with no signed-in session and no valid token is not
signed in (401 未登录或令牌无效), whatever its CSRF state; a signed-in browser session still needs the CSRF token
(403, said in Chinese); a bearer token needs none."""

import re
import uuid

import pytest
from django.test import Client

from govshare.api import api
from govshare.catalog.tests.test_api import PAYLOAD
from govshare.testing.api import bearer, bearer_header


def _changing_paths() -> list[tuple[str, str]]:
    """Every non-GET operation of the API, its path parameters filled with a value of a plausible type."""
    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    if method == "GET":
                        continue
                    filled = re.sub(r"\{uuid:[^}]+\}", str(uuid.uuid4()), prefix.rstrip("/") + "/" + path.lstrip("/"))
                    filled = re.sub(r"\{(int:)?[^}]+\}", "1", filled)
                    found.append((method, "/api" + filled))
    return found


def test_there_are_changing_operations_to_check() -> None:
    assert len(_changing_paths()) >= 20


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [{}, bearer_header("gs_not-a-real-token")], ids=["no token", "wrong token"])
def test_every_changing_operation_answers_a_caller_without_credentials_401(headers: dict[str, str]) -> None:
    client = Client(enforce_csrf_checks=True)
    answers = {}
    for n, (method, path) in enumerate(_changing_paths()):
        # One address each: wrong tokens from one address are soon refused 429 (a guard of its own, tested elsewhere).
        address = f"10.0.{n // 250}.{n % 250 + 1}"
        response = client.generic(
            method, path, "{}", content_type="application/json", headers=headers, REMOTE_ADDR=address
        )
        answers[f"{method} {path}"] = (response.status_code, response.json().get("detail"))
    wrong = {k: v for k, v in answers.items() if v != (401, "未登录或令牌无效")}
    assert wrong == {}


@pytest.mark.django_db
def test_bearer_token_writes_without_any_csrf_token(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/catalog/resources", PAYLOAD, content_type="application/json", headers=bearer(catalog_admin)
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_signed_in_session_without_csrf_token_is_refused_403_in_chinese(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    response = client.post("/api/catalog/resources", PAYLOAD, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF 校验失败")


@pytest.mark.django_db
def test_signed_in_session_with_a_wrong_csrf_token_is_refused_403(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    client.get("/catalog/")  # sets the csrftoken cookie
    response = client.post(
        "/api/catalog/resources", PAYLOAD, content_type="application/json", headers={"X-CSRFToken": "x" * 32}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_signed_in_session_with_its_csrf_token_writes(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    client.get("/catalog/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/catalog/resources", PAYLOAD, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_signed_in_session_reads_without_csrf_token(catalog_admin) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    assert client.get("/api/catalog/resources").status_code == 200

"""An English reader is refused in English when reading a dataset or attaching a source goes wrong (an unknown
version, a preview too long, a lookup on a masked item, credentials written into the settings), with the values
the refusal carries; a Chinese reader as before."""

from __future__ import annotations

from typing import Any

import pytest

from govshare import testing
from govshare.catalog.models import Resource
from govshare.datasets.loading import run_load
from govshare.testing.datasets import CSV_TEXT, ITEMS, Api, mapped_file_source
from govshare.testing.english import chinese_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_local_sources")]


@pytest.fixture
def resource(department) -> Resource:  # type: ignore[no-untyped-def]
    return testing.make_published_resource(department, items=ITEMS, name="Residents")


@pytest.fixture
def loaded(catalog_admin, resource) -> Resource:  # type: ignore[no-untyped-def]
    api = Api(catalog_admin)
    response = api.upload(f"/sources/{mapped_file_source(api, resource)}/uploads", "people.csv", CSV_TEXT.encode())
    assert response.status_code == 201, response.content
    run_load(response.json()["id"])
    return resource


def _answer(user: Any, language: str, path: str, **params: Any) -> tuple[int, list[str]]:
    api = Api(user)
    api.headers["Accept-Language"] = language
    response = api.get(path, **params)
    body = response.json()
    return response.status_code, [body["detail"], *(e["message"] for e in body.get("errors", []))]


@pytest.mark.parametrize(
    ("path", "params", "status", "english"),
    [
        ("preview", {"version": 7}, 404, "Data version 7 does not exist"),
        ("preview", {"limit": 0}, 422, "The number of preview rows should be between 1 and 200"),
        ("download", {"format": "doc"}, 422, None),
    ],
)
def test_a_refused_read_is_explained_in_english(catalog_admin, loaded, path, params, status, english) -> None:  # type: ignore[no-untyped-def]
    code, messages = _answer(catalog_admin, "en", f"/resources/{loaded.pk}/dataset/{path}", **params)
    assert code == status and chinese_in(messages) == [], messages
    assert english is None or english in messages, messages


def test_a_refused_read_is_explained_in_chinese_by_default(catalog_admin, loaded) -> None:  # type: ignore[no-untyped-def]
    code, messages = _answer(catalog_admin, "zh-hans", f"/resources/{loaded.pk}/dataset/preview", version=7)
    assert (code, messages) == (404, ["数据版本 7 不存在"])


def _two_credentials(user: Any, resource: Resource, language: str) -> list[str]:
    api = Api(user)
    api.headers["Accept-Language"] = language
    config = {
        "url": "https://api.example.gov.cn/people",
        "headers": {"X-Api-Key": "k-123456789", "Authorization": "Bearer t-123456789"},
    }
    response = api.post(f"/resources/{resource.pk}/sources", {"name": "api", "kind": "http_api", "config": config})
    assert response.status_code == 422, response.content
    return [e["message"] for e in response.json()["errors"]]


def test_two_credentials_in_the_settings_are_refused_in_english(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    messages = _two_credentials(catalog_admin, resource, "en")
    assert messages and chinese_in(messages) == [], messages
    assert "request header “X-Api-Key”, request header “Authorization”" in messages[0], messages


def test_two_credentials_in_the_settings_are_refused_in_chinese_by_default(catalog_admin, resource) -> None:  # type: ignore[no-untyped-def]
    messages = _two_credentials(catalog_admin, resource, "zh-hans")
    assert "这里有 2 个（请求头“X-Api-Key”、请求头“Authorization”），请只保留一个" in messages[0], messages

"""API rate limits (django-ninja throttling): past the rate the API answers 429 in Chinese."""

from __future__ import annotations

import pytest
from django.test import Client
from pydantic import ValidationError

from govshare.accounts import services
from govshare.config import GovshareSettings

pytestmark = pytest.mark.django_db


def _token(user) -> str:  # type: ignore[no-untyped-def]
    _token, raw = services.create_api_token(user, name="同步脚本", scope="read", actor=user)
    return raw


def _me(raw: str):  # type: ignore[no-untyped-def]
    return Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_requests_past_the_user_rate_answer_429_in_chinese(catalog_admin, settings) -> None:
    settings.API_RATE_USER = "3/min"
    raw = _token(catalog_admin)
    assert [_me(raw).status_code for _ in range(3)] == [200, 200, 200]
    answer = _me(raw)
    assert answer.status_code == 429
    assert answer.json() == {"detail": "请求过于频繁，请稍后再试", "errors": []}
    assert int(answer["Retry-After"]) > 0


def test_one_users_requests_do_not_count_against_another(catalog_admin, outsider, settings) -> None:
    settings.API_RATE_USER = "2/min"
    first, second = _token(catalog_admin), _token(outsider)
    for _ in range(3):
        _me(first)
    assert _me(second).status_code == 200


def test_rate_setting_must_be_count_per_period(monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_API_RATE_USER", "fast")
    with pytest.raises(ValidationError, match="api_rate_user"):
        GovshareSettings()

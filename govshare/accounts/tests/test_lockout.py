"""Brute-force protection through the real login views (django-axes): per account and per address, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from govshare.accounts import services
from govshare.audit.models import AuditLog
from govshare.testing import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
WRONG = "not-the-password-1"


def _post(client: Client, username: str, password: str, address: str = "10.0.0.1", url: str = LOGIN):  # type: ignore[no-untyped-def]
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def _fail(client: Client, username: str, times: int, address: str = "10.0.0.1", url: str = LOGIN) -> None:
    for _ in range(times):
        _post(client, username, WRONG, address, url)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _age_attempts(minutes: int) -> None:
    """Move every recorded failure `minutes` into the past, as if that much time had gone by."""
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=minutes)
        attempt.save(update_fields=["attempt_time"])


def test_right_password_after_four_failures_signs_in(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 4)
    assert _post(client, "gaj_admin", TEST_PASSWORD).status_code == 302
    assert _signed_in(client)


def test_fourth_failure_answers_wrong_password_and_the_fifth_locks(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 3)
    assert "账号或密码错误" in _post(client, "gaj_admin", WRONG).content.decode()
    fifth = _post(client, "gaj_admin", WRONG)
    assert fifth.status_code == 429
    assert "账号已锁定" in fifth.content.decode()


def test_sixth_attempt_is_refused_even_with_the_right_password(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 5)
    answer = _post(client, "gaj_admin", TEST_PASSWORD)
    assert answer.status_code == 429
    page = answer.content.decode()
    assert "登录失败次数过多，账号已锁定，请15分钟后再试" in page
    assert "解除锁定" in page
    assert not _signed_in(client)


def test_lock_still_holds_after_fourteen_minutes(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 5)
    _age_attempts(14)
    assert _post(client, "gaj_admin", TEST_PASSWORD).status_code == 429


def test_right_password_works_again_once_the_lockout_time_has_passed(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 5)
    _age_attempts(16)
    assert _post(client, "gaj_admin", TEST_PASSWORD).status_code == 302
    assert _signed_in(client)


def test_account_lock_holds_from_every_address(catalog_admin) -> None:
    client = Client()
    for n in range(5):
        _fail(client, "gaj_admin", 1, address=f"10.0.1.{n}")
    assert _post(client, "gaj_admin", TEST_PASSWORD, address="10.0.2.1").status_code == 429


def test_address_lock_holds_for_every_username(catalog_admin) -> None:
    client = Client()
    for n in range(5):
        _fail(client, f"guess{n}", 1, address="10.0.3.1")
    assert _post(client, "gaj_admin", TEST_PASSWORD, address="10.0.3.1").status_code == 429
    assert _post(client, "gaj_admin", TEST_PASSWORD, address="10.0.3.2").status_code == 302


def test_admin_login_is_locked_after_five_failures(platform_admin) -> None:
    client = Client()
    _fail(client, "bigdata_admin", 5, url=ADMIN_LOGIN)
    answer = _post(client, "bigdata_admin", TEST_PASSWORD, url=ADMIN_LOGIN)
    assert answer.status_code == 429
    assert not _signed_in(client)


def test_failures_on_the_admin_login_count_for_the_site_login(platform_admin) -> None:
    client = Client()
    _fail(client, "bigdata_admin", 5, url=ADMIN_LOGIN)
    assert _post(client, "bigdata_admin", TEST_PASSWORD).status_code == 429


def test_personal_api_token_keeps_working_while_the_account_is_locked(catalog_admin) -> None:
    _token, raw = services.create_api_token(catalog_admin, name="同步脚本", scope="write", actor=catalog_admin)
    _fail(Client(), "gaj_admin", 6)
    answer = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert answer.status_code == 200


def test_successful_login_is_audited(catalog_admin) -> None:
    _post(Client(), "gaj_admin", TEST_PASSWORD)
    row = AuditLog.objects.get(action="accounts.session.login")
    assert row.actor == catalog_admin
    assert row.extra["address"] == "10.0.0.1"


def test_failed_login_is_audited_without_the_password(catalog_admin) -> None:
    _fail(Client(), "gaj_admin", 1)
    row = AuditLog.objects.get(action="accounts.session.login_fail")
    assert row.actor is None
    assert row.extra["username"] == "gaj_admin"
    assert WRONG not in str(row.extra)


def test_lockout_is_audited(catalog_admin) -> None:
    client = Client()
    _fail(client, "gaj_admin", 5)
    _post(client, "gaj_admin", TEST_PASSWORD)
    locked = AuditLog.objects.filter(action="accounts.account.lock", object_repr="gaj_admin")
    assert locked.exists()
    failures = AuditLog.objects.filter(action="accounts.session.login_fail").order_by("id")
    # The fifth failure locks; the sixth attempt (right password) is refused while locked.
    assert [row.extra["locked"] for row in failures] == [False, False, False, False, True, True]


def test_logout_ends_the_session_and_is_audited(catalog_admin) -> None:
    client = Client()
    _post(client, "gaj_admin", TEST_PASSWORD)
    assert client.post(reverse("logout")).status_code == 302
    assert not _signed_in(client)
    assert AuditLog.objects.filter(action="accounts.session.logout", actor=catalog_admin).exists()


def test_session_cookie_ends_with_the_browser_and_the_session_after_its_age(catalog_admin, settings) -> None:
    client = Client()
    _post(client, "gaj_admin", TEST_PASSWORD)
    assert client.cookies["sessionid"]["expires"] == ""
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE

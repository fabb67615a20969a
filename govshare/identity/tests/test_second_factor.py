"""TOTP second factor through the real pages: enrolment, the login step (site, admin, OIDC), lockout, reset.
Codes are computed from the device's key with django_otp.oath.TOTP, as an authenticator app does."""

from __future__ import annotations

import base64
import re
import time
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.test import Client

from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied
from govshare.identity import services
from govshare.identity.models import TOTPDevice
from govshare.testing import TEST_PASSWORD
from govshare.testing.oidc import REDIRECT_URI, code_for, enrol, pkce_pair, wrong_code

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _password(client: Client, username: str = "gaj_admin", url: str = "/login/", **extra: str) -> object:
    return client.post(url, {"username": username, "password": TEST_PASSWORD, **extra}, REMOTE_ADDR="10.0.0.1")


def _code(client: Client, code: str) -> object:
    return client.post("/login/code/", {"code": code}, REMOTE_ADDR="10.0.0.1")


# ------------------------------------------------------------------------------------------ enrolment


def test_enrolment_shows_a_qr_code_and_the_key(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    client.post("/account/security/totp/start/")
    page = client.get("/account/security/").content.decode()
    device = TOTPDevice.objects.get(user=catalog_admin)
    assert not device.confirmed
    assert "<svg" in page
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    assert base64.b32decode(secret.group(1) + "=" * (-len(secret.group(1)) % 8)) == device.bin_key


def test_a_wrong_code_does_not_confirm_the_enrolment(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    client.post("/account/security/totp/start/")
    device = TOTPDevice.objects.get(user=catalog_admin)
    page = client.post("/account/security/totp/confirm/", {"code": wrong_code(device)}, follow=True)
    assert "验证码不正确" in page.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed


def test_the_right_code_confirms_it_and_is_audited(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    client.post("/account/security/totp/start/")
    device = TOTPDevice.objects.get(user=catalog_admin)
    page = client.post("/account/security/totp/confirm/", {"code": code_for(device)}, follow=True)
    assert "已启用二次验证" in page.content.decode()
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert AuditLog.objects.filter(action="identity.totp.enable", actor=catalog_admin).exists()


def test_the_user_turns_it_off_with_a_current_code(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    client.force_login(catalog_admin)
    client.post("/account/security/totp/disable/", {"code": wrong_code(device)})
    assert TOTPDevice.objects.filter(user=catalog_admin).exists()
    client.post("/account/security/totp/disable/", {"code": code_for(device, 1)})
    assert not TOTPDevice.objects.filter(user=catalog_admin).exists()
    assert AuditLog.objects.filter(action="identity.totp.disable").exists()


# ------------------------------------------------------------------------------------------ login


def test_without_a_device_the_password_alone_signs_in(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert _password(client)["Location"] == "/"  # type: ignore[index]  # the home (工作台)
    assert _signed_in(client)


def test_with_a_device_the_password_alone_does_not_sign_in(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    enrol(catalog_admin)
    client = Client()
    answer = _password(client)
    assert answer["Location"] == "/login/code/"  # type: ignore[index]
    assert not _signed_in(client)
    assert client.get("/catalog/").status_code == 302
    assert not AuditLog.objects.filter(action="accounts.session.login").exists()


def test_the_current_code_completes_the_login(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    _password(client, next="/account/tokens/")
    answer = _code(client, code_for(device, 1))
    assert answer["Location"] == "/account/tokens/"  # type: ignore[index]
    assert _signed_in(client)
    assert AuditLog.objects.filter(action="accounts.session.login", actor=catalog_admin).exists()


def test_a_code_is_accepted_only_once(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    code = code_for(device, 1)
    first, second = Client(), Client()
    _password(first)
    _code(first, code)
    _password(second)
    answer = _code(second, code)
    assert "验证码不正确或已过期" in answer.content.decode()  # type: ignore[attr-defined]
    assert not _signed_in(second)


def test_a_wrong_code_is_a_failed_login(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    _password(client)
    answer = _code(client, wrong_code(device))
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert "验证码不正确或已过期" in answer.content.decode()  # type: ignore[attr-defined]
    assert not _signed_in(client)
    assert AccessAttempt.objects.get(username="gaj_admin").failures_since_start == 1
    assert AuditLog.objects.filter(action="accounts.session.login_fail", object_repr="gaj_admin").count() == 1


def test_five_wrong_codes_lock_the_account_even_for_the_right_code(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    _password(client)
    for _ in range(4):
        _code(client, wrong_code(device))
    fifth = _code(client, wrong_code(device))
    assert fifth.status_code == 429  # type: ignore[attr-defined]
    assert "账号已锁定" in fifth.content.decode()  # type: ignore[attr-defined]
    again = Client()
    assert _password(again).status_code == 429  # type: ignore[attr-defined]
    assert not _signed_in(again)


def test_wrong_passwords_and_wrong_codes_count_together(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    for _ in range(4):
        client.post("/login/", {"username": "gaj_admin", "password": "wrong-one-1"}, REMOTE_ADDR="10.0.0.1")
    _password(client)
    assert _code(client, wrong_code(device)).status_code == 429  # type: ignore[attr-defined]


def test_the_code_step_without_a_password_goes_back_to_login(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    answer = _code(client, code_for(device, 1))
    assert answer["Location"] == "/login/"  # type: ignore[index]
    assert not _signed_in(client)


def test_the_code_step_expires_after_five_minutes(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    client = Client()
    _password(client)
    session = client.session
    session["identity_pending_login"] = {**session["identity_pending_login"], "at": time.time() - 301}
    session.save()
    assert _code(client, code_for(device, 1))["Location"] == "/login/"  # type: ignore[index]
    assert not _signed_in(client)


def test_the_admin_login_asks_for_the_code_too(platform_admin) -> None:  # type: ignore[no-untyped-def]
    device = enrol(platform_admin)
    client = Client()
    answer = _password(client, "bigdata_admin", url="/admin/login/", next="/admin/")
    assert answer["Location"] == "/login/code/"  # type: ignore[index]
    assert client.get("/admin/").status_code == 302
    assert _code(client, code_for(device, 1))["Location"] == "/admin/"  # type: ignore[index]
    assert client.get("/admin/").status_code == 200


def test_the_oidc_sign_in_asks_for_the_code_before_the_consent_page(catalog_admin, client_app) -> None:  # type: ignore[no-untyped-def]
    device = enrol(catalog_admin)
    app, _ = client_app
    authorize = "/o/authorize/?" + urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        }
    )
    client = Client()
    assert _password(client, next=authorize)["Location"] == "/login/code/"  # type: ignore[index]
    assert client.get(authorize)["Location"].startswith("/login/")
    back = _code(client, code_for(device, 1))["Location"]  # type: ignore[index]
    assert back == authorize
    assert "请求使用您的平台账号登录" in client.get(back).content.decode()


def test_an_administrator_resets_a_lost_second_factor(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    enrol(catalog_admin)
    admin_client = Client()
    admin_client.force_login(platform_admin)
    admin_client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [catalog_admin.pk]},
    )
    assert not TOTPDevice.objects.filter(user=catalog_admin).exists()
    row = AuditLog.objects.get(action="identity.totp.reset")
    assert (row.actor, row.object_id) == (platform_admin, str(catalog_admin.pk))
    client = Client()
    _password(client)
    assert _signed_in(client)


def test_only_a_platform_administrator_resets_a_second_factor(catalog_admin, outsider) -> None:  # type: ignore[no-untyped-def]
    enrol(catalog_admin)
    with pytest.raises(PermissionDenied):
        services.reset_second_factor(catalog_admin, actor=outsider)
    assert TOTPDevice.objects.filter(user=catalog_admin).exists()


def test_the_page_with_the_key_is_not_cached(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    client.post("/account/security/totp/start/")
    assert "no-store" in client.get("/account/security/")["Cache-Control"]

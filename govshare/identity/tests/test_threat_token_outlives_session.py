"""Attack: a 1-hour OIDC access token (or a stolen personal token) mints a personal token that never expires and
survives the revocation of the token it came from, a password change and the account's deactivation.

Personal tokens now expire (GOVSHARE_API_TOKEN_DAYS, at most GOVSHARE_API_TOKEN_MAX_DAYS), carry a scope, are
revoked when the password changes or the account is deactivated, and only a signed-in session mints one."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from govshare.accounts import services as account_services
from govshare.accounts.api import MINT_NEEDS_SESSION
from govshare.accounts.auth import READ_ONLY_REFUSED
from govshare.accounts.models import ApiToken, User
from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.identity import services
from govshare.testing import TEST_PASSWORD
from govshare.testing.api import bearer_header
from govshare.testing.oidc import REDIRECT_URI, authorization_code, exchange_code, pkce_pair

NEW_PASSWORD = "Another-Passw0rd-2026"


def _oidc_tokens(client_app: Any, user: User) -> dict[str, Any]:
    app, secret = client_app
    client = Client()
    client.force_login(user)
    verifier, challenge = pkce_pair()
    answer = exchange_code(
        client, app, secret, authorization_code(client, app, challenge, scope="openid api"), verifier
    )
    assert answer.status_code == 200, answer.content
    tokens: dict[str, Any] = answer.json()
    return tokens


def _mint(headers: dict[str, str], **body: Any) -> Any:
    return Client().post(
        "/api/accounts/tokens",
        json.dumps({"name": "永久脚本", **body}),
        content_type="application/json",
        headers=headers,
    )


def _me(raw: str) -> int:
    return Client().get("/api/accounts/me", headers=bearer_header(raw)).status_code


def _token(user: User, scope: str = "write", **kwargs: Any) -> tuple[ApiToken, str]:
    return account_services.create_api_token(user, name="同步脚本", scope=scope, actor=user, **kwargs)


# ------------------------------------------------------------------------------------------ minting


@pytest.mark.django_db
def test_an_oidc_access_token_cannot_mint_a_personal_token(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    access = _oidc_tokens(client_app, catalog_admin)["access_token"]
    assert _me(access) == 200  # the token works, so the refusal below is about minting
    answer = _mint(bearer_header(access), scope="write", expires_at="2099-01-01T00:00:00+08:00")
    assert (answer.status_code, answer.json()["detail"]) == (403, MINT_NEEDS_SESSION)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_personal_token_cannot_mint_another(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    _, raw = _token(catalog_admin, expires_at=timezone.now() + dt.timedelta(hours=1))
    answer = _mint(bearer_header(raw), scope="write")
    assert (answer.status_code, answer.json()["detail"]) == (403, MINT_NEEDS_SESSION)
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_a_signed_in_session_mints_a_read_only_token_with_the_default_expiry(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    client.force_login(catalog_admin)
    client.get("/account/tokens/")
    csrf = client.cookies["csrftoken"].value
    answer = client.post(
        "/api/accounts/tokens", json.dumps({"name": "脚本"}), content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert body["scope"] == "read"
    assert abs(expires - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    row = AuditLog.objects.get(action="accounts.token.create")
    assert (row.extra["scope"], row.extra["expires_at"][:10]) == ("read", expires.isoformat()[:10])


@pytest.mark.django_db
@pytest.mark.parametrize("days", [366, 36500])
def test_no_token_lives_longer_than_the_maximum(catalog_admin, days: int) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    expires = (timezone.now() + dt.timedelta(days=days)).isoformat()
    answer = client.post(
        "/api/accounts/tokens", json.dumps({"name": "脚本", "expires_at": expires}), content_type="application/json"
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "expires_at", "message": "令牌有效期最长 365 天（GOVSHARE_API_TOKEN_MAX_DAYS），请选择更早的过期时间"}
    ]
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_maximum_follows_the_setting(settings, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"api_token_days": 7, "api_token_max_days": 10})
    token, _ = _token(catalog_admin)
    assert token.expires_at - token.created_at < dt.timedelta(days=7, minutes=1)
    with pytest.raises(ValidationFailed):
        _token(catalog_admin, expires_at=timezone.now() + dt.timedelta(days=11))


@pytest.mark.django_db
def test_nobody_creates_a_token_for_another_account(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        account_services.create_api_token(catalog_admin, name="代建", scope="write", actor=platform_admin)


# ------------------------------------------------------------------------------------------ end of a token


@pytest.mark.django_db
def test_an_expired_token_is_refused(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    token, raw = _token(catalog_admin, expires_at=timezone.now() + dt.timedelta(hours=1))
    assert _me(raw) == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _me(raw) == 401


@pytest.mark.django_db
def test_the_users_own_password_change_ends_their_tokens(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    _, raw = _token(catalog_admin)
    client = Client()
    client.force_login(catalog_admin)
    answer = client.post(
        "/account/security/password/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert answer.status_code == 302
    assert _me(raw) == 401
    row = AuditLog.objects.get(action="accounts.token.revoke_all")
    assert (row.actor, row.extra) == (catalog_admin, {"count": 1, "reason": "password"})


@pytest.mark.django_db
def test_a_password_reset_by_the_administrator_ends_the_tokens(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    _, raw = _token(catalog_admin)
    services.set_temporary_password(catalog_admin, NEW_PASSWORD, actor=platform_admin)
    assert _me(raw) == 401


@pytest.mark.django_db
def test_deactivation_ends_the_tokens_for_good(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    _, raw = _token(catalog_admin)
    profile = {"full_name": catalog_admin.full_name, "email": "", "department": catalog_admin.department}
    account_services.update_user(catalog_admin, **profile, is_active=False, actor=platform_admin)
    assert _me(raw) == 401
    account_services.update_user(catalog_admin, **profile, is_active=True, actor=platform_admin)
    assert _me(raw) == 401  # activated again, the account does not get its old tokens back


@pytest.mark.django_db
def test_a_password_change_ends_the_oidc_access_and_refresh_tokens(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    tokens = _oidc_tokens(client_app, catalog_admin)
    services.change_own_password(catalog_admin, TEST_PASSWORD, NEW_PASSWORD)
    assert _me(tokens["access_token"]) == 401
    app, secret = client_app
    refreshed = Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app.client_id,
            "client_secret": secret,
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


# ------------------------------------------------------------------------------------------ scope


@pytest.mark.django_db
def test_a_read_only_token_reads_but_never_writes(catalog_admin, department) -> None:  # type: ignore[no-untyped-def]
    _, raw = _token(catalog_admin, scope="read")
    assert _me(raw) == 200
    answer = Client().post(f"/api/accounts/departments/{department.code}/maintenance", headers=bearer_header(raw))
    assert (answer.status_code, answer.json()["detail"]) == (403, READ_ONLY_REFUSED)
    department.refresh_from_db()
    assert department.last_full_maintenance_at is None
    _, writer = _token(catalog_admin, scope="write")
    assert (
        Client()
        .post(f"/api/accounts/departments/{department.code}/maintenance", headers=bearer_header(writer))
        .status_code
        == 200
    )


@pytest.mark.django_db
def test_an_unknown_scope_is_refused_with_the_field(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        _token(catalog_admin, scope="admin")
    assert [p.field for p in refused.value.problems] == ["scope"]


# ------------------------------------------------------------------------------------------ existing tokens


# serialized_rollback: as test_search's migration test, so that content types keep their ids for later tests.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_gives_existing_eternal_tokens_an_expiry_and_their_old_power() -> None:
    executor = MigrationExecutor(connection)
    before = [("accounts", "0001_departments_users_roles_tokens")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps
        user = old.get_model("accounts", "User").objects.create(username="old_script_owner", password="!")
        tokens = old.get_model("accounts", "ApiToken").objects
        tokens.create(user=user, name="旧脚本", prefix="gs_old0000", digest="0" * 64)
        tokens.create(
            user=user,
            name="百年脚本",
            prefix="gs_old0001",
            digest="1" * 64,
            expires_at=dt.datetime(2120, 1, 1, tzinfo=dt.UTC),
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    now = timezone.now()
    eternal, century = ApiToken.objects.get(name="旧脚本"), ApiToken.objects.get(name="百年脚本")
    assert abs(eternal.expires_at - (now + dt.timedelta(days=30))) < dt.timedelta(minutes=5)
    assert abs(century.expires_at - (now + dt.timedelta(days=365))) < dt.timedelta(minutes=5)
    assert {eternal.scope, century.scope} == {"write"}

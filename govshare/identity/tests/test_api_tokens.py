"""OAuth access tokens on the platform API: only with the `api` scope, acting as the person who signed in, so a
scope never reaches beyond that person's roles. (Client-credentials tokens act as nobody:
test_threat_impersonation_by_client_credentials.)"""

from __future__ import annotations

import pytest
from django.test import Client

from govshare.testing.oidc import authorization_code, exchange_code, pkce_pair

pytestmark = pytest.mark.django_db


def _user_token(client_app, user, scope: str) -> str:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(user)
    verifier, challenge = pkce_pair()
    answer = exchange_code(client, app, secret, authorization_code(client, app, challenge, scope=scope), verifier)
    return str(answer.json()["access_token"])


def _me(token: str):  # type: ignore[no-untyped-def]
    return Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_sign_in_token_without_the_api_scope_opens_no_route(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    assert _me(_user_token(client_app, catalog_admin, "openid profile")).status_code == 401


def test_a_token_with_the_api_scope_acts_as_its_user(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    answer = _me(_user_token(client_app, catalog_admin, "openid api"))
    assert answer.status_code == 200
    assert answer.json()["username"] == "gaj_admin"


def test_a_user_token_reaches_no_further_than_the_users_roles(client_app, outsider, department) -> None:  # type: ignore[no-untyped-def]
    token = _user_token(client_app, outsider, "openid api")
    answer = Client().post(
        f"/api/accounts/departments/{department.code}/maintenance", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "只有本部门目录管理员可以确认目录全面维护"


def test_a_deactivated_account_loses_its_tokens(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    token = _user_token(client_app, catalog_admin, "openid api")
    catalog_admin.is_active = False
    catalog_admin.save(update_fields=["is_active"])
    assert _me(token).status_code == 401

"""The OpenID Connect provider through Django's test client: discovery, consent, code + PKCE, claims, audit."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import Application

from govshare.audit.models import AuditLog
from govshare.testing import TEST_PASSWORD
from govshare.testing.oidc import (
    authorization_code,
    authorize_query,
    exchange_code,
    pkce_pair,
)

pytestmark = pytest.mark.django_db


def _claims(id_token: str, pem: str) -> dict[str, Any]:
    key = jwk.JWK.from_pem(pem.encode())
    token = jwt.JWT(jwt=id_token, key=key, algs=["RS256"])
    claims: dict[str, Any] = json.loads(token.claims)
    return claims


def test_discovery_names_the_endpoints_claims_and_pkce() -> None:
    document = Client().get("/o/.well-known/openid-configuration").json()
    assert document["issuer"] == "http://testserver/o"
    assert document["authorization_endpoint"] == "http://testserver/o/authorize/"
    assert document["jwks_uri"] == "http://testserver/o/.well-known/jwks.json"
    assert document["userinfo_endpoint"] == "http://testserver/o/userinfo/"
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert set(document["claims_supported"]) == {"sub", "name", "preferred_username", "department", "roles"}
    assert "S256" in document["code_challenge_methods_supported"]


def test_without_a_signing_key_the_provider_says_it_is_not_configured(settings) -> None:  # type: ignore[no-untyped-def]
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}
    answer = Client().get("/o/.well-known/openid-configuration")
    assert answer.status_code == 503
    assert "govshare oidc_key" in answer.content.decode()


def test_jwks_publishes_the_public_key_only() -> None:
    keys = Client().get("/o/.well-known/jwks.json").json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert "d" not in keys[0]


def test_authorize_asks_an_anonymous_user_to_sign_in(client_app) -> None:  # type: ignore[no-untyped-def]
    app, _ = client_app
    answer = Client().get(authorize_query(app, pkce_pair()[1]))
    assert answer.status_code == 302
    assert answer["Location"].startswith("/login/?next=/o/authorize/")


def test_consent_page_names_the_system_and_what_it_receives(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = client_app
    client = Client()
    client.force_login(catalog_admin)
    page = client.get(authorize_query(app, pkce_pair()[1])).content.decode()
    assert '“<span lang="zh-Hans">医保局业务系统</span>”请求使用您的平台账号登录' in page
    assert "您所属的部门（代码和名称）" in page
    assert "同意并登录" in page


def test_code_flow_issues_an_id_token_with_the_platform_claims(client_app, catalog_admin, signing_key_pem) -> None:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(catalog_admin)
    verifier, challenge = pkce_pair()
    answer = exchange_code(client, app, secret, authorization_code(client, app, challenge), verifier)
    assert answer.status_code == 200, answer.content
    claims = _claims(answer.json()["id_token"], signing_key_pem)
    assert claims["iss"] == "http://testserver/o"
    assert claims["aud"] == app.client_id
    assert claims["nonce"] == "n-1"
    assert claims["sub"] == str(catalog_admin.pk)
    assert claims["name"] == catalog_admin.full_name
    assert claims["preferred_username"] == "gaj_admin"
    assert claims["department"] == {"code": catalog_admin.department.code, "name": "市公安局"}
    assert claims["roles"] == ["catalog_admin"]


def test_claims_follow_the_granted_scopes(client_app, catalog_admin, signing_key_pem) -> None:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(catalog_admin)
    verifier, challenge = pkce_pair()
    code = authorization_code(client, app, challenge, scope="openid")
    claims = _claims(exchange_code(client, app, secret, code, verifier).json()["id_token"], signing_key_pem)
    assert "department" not in claims
    assert "roles" not in claims
    assert "name" not in claims


def test_userinfo_answers_the_claims_for_the_access_token(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(catalog_admin)
    verifier, challenge = pkce_pair()
    access = exchange_code(client, app, secret, authorization_code(client, app, challenge), verifier).json()[
        "access_token"
    ]
    info = Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert info["preferred_username"] == "gaj_admin"
    assert info["department"]["name"] == "市公安局"


def test_a_code_without_pkce_is_refused(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = client_app
    client = Client()
    client.force_login(catalog_admin)
    query = authorize_query(app, "x").replace("&code_challenge=x&code_challenge_method=S256", "")
    answer = client.get(query)
    assert answer.status_code == 302  # told to the relying party, as OAuth 2.0 says, not shown here
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["invalid_request"]


def test_a_wrong_verifier_gets_no_token(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(catalog_admin)
    _, challenge = pkce_pair()
    answer = exchange_code(client, app, secret, authorization_code(client, app, challenge), pkce_pair()[0])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_an_unregistered_redirect_uri_is_refused_on_the_page(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = client_app
    client = Client()
    client.force_login(catalog_admin)
    query = authorize_query(app, pkce_pair()[1]).replace("ybj.example.gov.cn", "evil.example.com")
    answer = client.get(query)
    assert answer.status_code == 400
    assert "回调地址与该系统登记的回调地址不一致" in answer.content.decode()


def test_refusing_consent_sends_access_denied_back(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = client_app
    client = Client()
    client.force_login(catalog_admin)
    page = client.get(authorize_query(app, pkce_pair()[1])).content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    answer = client.post("/o/authorize/", fields)
    assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["access_denied"]


def test_sign_in_and_token_are_audited(client_app, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, secret = client_app
    client = Client()
    client.force_login(catalog_admin)
    verifier, challenge = pkce_pair()
    exchange_code(client, app, secret, authorization_code(client, app, challenge), verifier)
    signed_in = AuditLog.objects.get(action="identity.oidc.authorize")
    assert (signed_in.actor, signed_in.object_repr) == (catalog_admin, "医保局业务系统")
    assert signed_in.extra["scopes"] == ["department", "openid", "profile", "roles"]
    issued = AuditLog.objects.get(action="identity.oidc_token.issue")
    assert issued.actor == catalog_admin
    assert issued.extra["grant_type"] == "authorization_code"


def test_client_credentials_token_is_issued_and_audited(db) -> None:  # type: ignore[no-untyped-def]
    from govshare.identity import services

    app, secret = services.register_client(
        services.ClientInput(name="医保局数据交换前置机", grant_type=Application.GRANT_CLIENT_CREDENTIALS), actor=None
    )
    answer = Client().post(
        "/o/token/", {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret}
    )
    assert answer.status_code == 200, answer.content
    row = AuditLog.objects.get(action="identity.oidc_token.issue")
    assert (row.actor_name, row.extra["grant_type"], row.extra["subject"]) == ("system", "client_credentials", None)


def test_the_password_grant_is_never_accepted(db, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    # Registered behind the services' back: the provider still refuses to take a password at the token endpoint.
    app = Application.objects.create(
        name="旧系统",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_PASSWORD,
        client_secret="s3cret-value",
    )
    answer = Client().post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": "gaj_admin",
            "password": TEST_PASSWORD,
            "client_id": app.client_id,
            "client_secret": "s3cret-value",
        },
    )
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] in ("unauthorized_client", "unsupported_grant_type")
    assert not AuditLog.objects.filter(action="identity.oidc_token.issue").exists()


def test_self_service_application_registration_is_not_offered(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    assert client.get("/o/applications/register/").status_code == 404

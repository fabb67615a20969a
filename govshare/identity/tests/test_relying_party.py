"""A sample relying party (医保局业务系统) signs a user in through the REAL flow against a running platform:
a server process on a free port with its own data directory, a client registered with `govshare oidc_client`,
Authlib's OAuth2Session (PKCE) for the relying party, a requests session for the user's browser, and joserfc
to verify the ID token against the published JWKS (signature, iss, aud, exp, nonce)."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from govshare.testing.live import govshare_command, live_server

PASSWORD = "Ybj-Passw0rd-2026"
CALLBACK = "http://127.0.0.1:9/oidc/callback"  # never contacted: the code is read from the redirect
SETUP_USERS = f"""
from govshare.accounts.choices import Role
from govshare.testing import make_department, make_user
department = make_department("市医疗保障局")
make_user(Role.CONSUMER, department=department, username="ybj_zhang", password={PASSWORD!r})
make_user(Role.CONSUMER, department=department, username="ybj_li", password={PASSWORD!r})
"""


@dataclass(frozen=True)
class Platform:
    url: str
    client_id: str
    client_secret: str
    data_dir: Path

    def audit_actions(self) -> list[tuple[str, str]]:
        """(action, actor) of the platform's audit rows, read from its database file."""
        with closing(sqlite3.connect(self.data_dir / "govshare.sqlite3")) as db:
            return list(db.execute("SELECT action, actor_name FROM audit_auditlog ORDER BY id"))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    setup = [["oidc_key"], ["shell", "-c", SETUP_USERS]]
    data_dir = tmp_path_factory.mktemp("govshare-oidc")
    with live_server(data_dir, setup=setup, drop_env=["GOVSHARE_OIDC_PRIVATE_KEY"]) as server:
        registered = json.loads(
            govshare_command(
                "oidc_client", "--name", "医保局业务系统", "--redirect-uri", CALLBACK, "--json", env=server.env
            )
        )
        yield Platform(server.url, registered["client_id"], registered["client_secret"], data_dir)


def _relying_party(platform: Platform, redirect_uri: str = CALLBACK) -> OAuth2Session:
    return OAuth2Session(
        platform.client_id,
        platform.client_secret,
        scope="openid profile department roles",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def _discovery(platform: Platform) -> dict[str, Any]:
    document: dict[str, Any] = requests.get(platform.url + "/o/.well-known/openid-configuration", timeout=10).json()
    return document


def _hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


def _sign_in(browser: requests.Session, page: requests.Response, username: str, password: str) -> requests.Response:
    """Fill in the platform's login form the way a browser does (CSRF token from the form, `next` kept)."""
    assert urlsplit(page.url).path == "/login/"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    next_url = re.search(r'name="next" value="([^"]*)"', page.text)
    assert token is not None and next_url is not None
    form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    form["next"] = next_url.group(1).replace("&amp;", "&")
    return browser.post(page.url, data=form, headers={"Referer": page.url}, timeout=10)


def _start(platform: Platform, rp: OAuth2Session, nonce: str, verifier: str) -> tuple[str, str]:
    return rp.create_authorization_url(  # type: ignore[no-any-return]
        _discovery(platform)["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )


def test_a_relying_party_signs_a_user_in_through_the_real_flow(platform: Platform) -> None:
    discovery = _discovery(platform)
    rp = _relying_party(platform)
    nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    authorize_url, state = _start(platform, rp, nonce, verifier)

    browser = requests.Session()
    login_page = browser.get(authorize_url, timeout=10)
    consent = _sign_in(browser, login_page, "ybj_zhang", PASSWORD)
    assert urlsplit(consent.url).path == "/o/authorize/"
    assert '“<span lang="zh-Hans">医保局业务系统</span>”请求使用您的平台账号登录' in consent.text
    fields = _hidden_fields(consent.text)
    fields["csrfmiddlewaretoken"] = str(browser.cookies["csrftoken"])
    approved = browser.post(
        consent.url,
        data={**fields, "allow": "同意"},
        headers={"Referer": consent.url},
        allow_redirects=False,
        timeout=10,
    )
    assert approved.status_code == 302
    callback = approved.headers["Location"]
    assert callback.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(callback).query)["state"] == [state]

    token = rp.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": discovery["issuer"]},
        aud={"essential": True, "value": platform.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
    ).validate(id_token.claims)
    assert id_token.claims["preferred_username"] == "ybj_zhang"
    assert id_token.claims["department"]["name"] == "市医疗保障局"
    assert id_token.claims["roles"] == ["consumer"]

    userinfo = rp.get(discovery["userinfo_endpoint"]).json()
    assert userinfo["sub"] == id_token.claims["sub"]
    assert userinfo["department"] == id_token.claims["department"]

    audited = platform.audit_actions()
    assert ("identity.oidc_client.register", "system") in audited
    assert ("identity.oidc.authorize", "ybj_zhang") in audited
    assert ("identity.oidc_token.issue", "ybj_zhang") in audited


def test_an_id_token_for_another_nonce_or_audience_fails_verification(platform: Platform) -> None:
    """The checks above can fail: the same verification rejects a replayed nonce and a foreign audience."""
    discovery = _discovery(platform)
    rp = _relying_party(platform)
    nonce, verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    authorize_url, _ = _start(platform, rp, nonce, verifier)
    browser = requests.Session()
    consent = _sign_in(browser, browser.get(authorize_url, timeout=10), "ybj_zhang", PASSWORD)
    fields = {**_hidden_fields(consent.text), "csrfmiddlewaretoken": str(browser.cookies["csrftoken"]), "allow": "同意"}
    callback = browser.post(
        consent.url, data=fields, headers={"Referer": consent.url}, allow_redirects=False, timeout=10
    ).headers["Location"]
    token = rp.fetch_token(discovery["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    keys = KeySet.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    with pytest.raises(Exception, match="nonce"):
        jwt.JWTClaimsRegistry(nonce={"essential": True, "value": "another-nonce"}).validate(claims)
    with pytest.raises(Exception, match="aud"):
        jwt.JWTClaimsRegistry(aud={"essential": True, "value": "another-client"}).validate(claims)


def test_a_wrong_redirect_uri_is_refused(platform: Platform) -> None:
    rp = _relying_party(platform, redirect_uri="http://127.0.0.1:9/attacker/callback")
    authorize_url, _ = _start(platform, rp, "n", secrets.token_urlsafe(48))
    browser = requests.Session()
    answer = _sign_in(browser, browser.get(authorize_url, timeout=10), "ybj_zhang", PASSWORD)
    assert answer.status_code == 400
    assert "回调地址与该系统登记的回调地址不一致" in answer.text
    assert urlsplit(answer.url).path == "/o/authorize/"
    assert not any(r.headers.get("Location", "").startswith("http://127.0.0.1:9/") for r in answer.history)


def test_a_locked_out_user_cannot_complete_it(platform: Platform) -> None:
    # Last in this module: five failures lock the address (127.0.0.1) too, for every later sign-in.
    rp = _relying_party(platform)
    authorize_url, _ = _start(platform, rp, "n", secrets.token_urlsafe(48))
    browser = requests.Session()
    for _ in range(5):
        _sign_in(browser, browser.get(authorize_url, timeout=10), "ybj_li", "wrong-password-1")
    answer = _sign_in(browser, browser.get(authorize_url, timeout=10), "ybj_li", PASSWORD)
    assert answer.status_code == 429
    assert "账号已锁定" in answer.text
    assert urlsplit(answer.url).path == "/login/"
    assert "sessionid" not in browser.cookies

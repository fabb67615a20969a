"""Security headers on every answer, no inline script or style in any template, and production settings that
pass Django's deployment checks."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit import keys as audit_keys
from govshare.core import crypto

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "govshare").glob("**/templates/**/*.html"))


def _directives(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_unsafe_inline() -> None:
    response = Client().get("/login/")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_pages_carry_the_other_security_headers() -> None:
    response = Client().get("/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_api_answers_carry_the_policy_too() -> None:
    response = Client().get("/api/catalog/resources")
    assert response.status_code == 401
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_the_api_docs_page_loads_only_its_own_static_files() -> None:
    user = testing.make_user(Role.CONSUMER, department=testing.make_department())
    client = Client()
    client.force_login(user)
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    # Swagger UI as ninja renders it: external script files and a JSON data block, nothing that runs inline.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "govshare")))
def test_no_template_has_inline_script_style_or_event_handlers(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text), "inline <script>"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"\sstyle\s*=", text), 'style="" attribute'
    assert not re.search(r"\son[a-z]+\s*=", text), "on…= event handler attribute"


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    key = crypto.generate_key()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GOVSHARE_DATA_DIR": str(tmp_path),
        "GOVSHARE_PRODUCTION": "true",
        "GOVSHARE_SECRET_KEY": secrets.token_urlsafe(50),
        "GOVSHARE_ENCRYPTION_KEYS": f"{key.key_id}:{base64.b64encode(key.material).decode('ascii')}",
        "GOVSHARE_AUDIT_KEYS": audit_keys.encode(audit_keys.generate_key()),
        "GOVSHARE_ALLOWED_HOSTS": "data.example.gov.cn",
        **extra,
    }


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    env = _production_env(tmp_path)
    subprocess.run([sys.executable, "-m", "govshare", "oidc_key"], env=env, cwd=ROOT, check=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "-m", "govshare", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


_SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_HTTPONLY", "CSRF_COOKIE_SAMESITE")}))
"""


def _settings_in(env: dict[str, str]) -> dict[str, object]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "govshare.settings"}
    result = subprocess.run(
        [sys.executable, "-c", _SHOW_SETTINGS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_production_cookies_are_secure_http_only_and_same_site(tmp_path: Path) -> None:
    shown = _settings_in(_production_env(tmp_path))
    for cookie in ("SESSION", "CSRF"):
        assert shown[f"{cookie}_COOKIE_SECURE"] is True
        assert shown[f"{cookie}_COOKIE_HTTPONLY"] is True
        assert shown[f"{cookie}_COOKIE_SAMESITE"] == "Lax"
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SECURE_HSTS_SECONDS"] == 31_536_000
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert shown["SECURE_PROXY_SSL_HEADER"] is None


def test_behind_a_proxy_the_ssl_header_and_redirect_are_configurable(tmp_path: Path) -> None:
    env = _production_env(tmp_path, GOVSHARE_PROXY_SSL_HEADER="X-Forwarded-Proto", GOVSHARE_SSL_REDIRECT="false")
    shown = _settings_in(env)
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["SECURE_SSL_REDIRECT"] is False

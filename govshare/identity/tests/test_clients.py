"""Registering relying parties (platform administrator only) and the signing key command."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from oauth2_provider.models import Application

from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.identity import services
from govshare.identity.checks import signing_key_configured
from govshare.identity.keys import key_file, read_signing_key
from govshare.testing.oidc import pkce_pair

pytestmark = pytest.mark.django_db


def test_only_a_platform_administrator_registers_a_client(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.register_client(
            services.ClientInput(name="医保局业务系统", redirect_uris=["https://ybj.example.gov.cn/cb"]),
            actor=catalog_admin,
        )


def test_registration_is_audited_and_keeps_only_a_hash_of_the_secret(platform_admin) -> None:  # type: ignore[no-untyped-def]
    client, secret = services.register_client(
        services.ClientInput(name="医保局业务系统", redirect_uris=["https://ybj.example.gov.cn/cb"]),
        actor=platform_admin,
    )
    stored = Application.objects.get(pk=client.pk)
    assert secret not in stored.client_secret
    assert (stored.skip_authorization, stored.algorithm) == (False, "RS256")
    row = AuditLog.objects.get(action="identity.oidc_client.register")
    assert (row.actor, row.extra["client_id"]) == (platform_admin, client.client_id)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("ftp://ybj.example.gov.cn/cb", "协议应为 http 或 https"),
        ("https:///cb", "缺少主机名"),
        ("https://ybj.example.gov.cn/cb#x", "不能含有“#”片段"),
    ],
)
def test_a_bad_redirect_uri_is_refused_with_the_reason(platform_admin, uri: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        services.register_client(services.ClientInput(name="医保局业务系统", redirect_uris=[uri]), actor=platform_admin)
    assert [p.field for p in refused.value.problems] == ["redirect_uris"]
    assert message in refused.value.problems[0].message


def test_authorization_code_needs_a_redirect_uri_and_names_are_unique(platform_admin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="数据校验未通过") as refused:
        services.register_client(services.ClientInput(name="医保局业务系统"), actor=platform_admin)
    assert refused.value.problems[0].message == "授权码方式至少需要一个回调地址"
    services.register_client(services.ClientInput(name="x", redirect_uris=["https://a.example/cb"]), actor=None)
    with pytest.raises(ValidationFailed) as again:
        services.register_client(services.ClientInput(name="x", redirect_uris=["https://a.example/cb"]), actor=None)
    assert again.value.problems[0].message == "接入系统“x”已登记"


def test_oidc_client_command_prints_the_id_and_secret_once() -> None:
    out = io.StringIO()
    call_command(
        "oidc_client",
        "--name",
        "医保局业务系统",
        "--redirect-uri",
        "https://ybj.example.gov.cn/cb",
        "--json",
        stdout=out,
    )
    printed = json.loads(out.getvalue())
    assert Application.objects.get(client_id=printed["client_id"]).name == "医保局业务系统"
    assert len(printed["client_secret"]) >= 64


def test_oidc_client_command_refuses_with_the_reason() -> None:
    with pytest.raises(CommandError, match="授权码方式至少需要一个回调地址"):
        call_command("oidc_client", "--name", "医保局业务系统", stdout=io.StringIO())


def test_oidc_key_creates_a_private_key_file_once(settings) -> None:  # type: ignore[no-untyped-def]
    call_command("oidc_key", stdout=io.StringIO())
    path = key_file(settings.GOVSHARE.data_dir)
    first = path.read_text()
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = io.StringIO()
    call_command("oidc_key", stdout=out)
    assert "已存在，未覆盖" in out.getvalue()
    assert path.read_text() == first
    assert read_signing_key(Path(settings.GOVSHARE.data_dir)) == first


def test_a_configured_key_wins_over_the_key_file(tmp_path: Path) -> None:
    assert read_signing_key(tmp_path, "-----BEGIN PRIVATE KEY-----\nabc") == "-----BEGIN PRIVATE KEY-----\nabc"
    assert read_signing_key(tmp_path) == ""


def test_check_warns_while_there_is_no_signing_key(settings) -> None:  # type: ignore[no-untyped-def]
    assert signing_key_configured() == []
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}
    assert [m.id for m in signing_key_configured()] == ["identity.W001"]


def test_the_platform_administrator_registers_a_client_in_the_back_office(platform_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(platform_admin)
    data = {
        "name": "医保局业务系统",
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": "https://ybj.example.gov.cn/cb\nhttps://ybj2.example.gov.cn/cb",
        "user": "",
    }
    page = client.post("/admin/oauth2_provider/application/add/", data, follow=True).content.decode()
    registered = Application.objects.get(name="医保局业务系统")
    assert registered.redirect_uris.split() == ["https://ybj.example.gov.cn/cb", "https://ybj2.example.gov.cn/cb"]
    assert f"client_id {registered.client_id}，client_secret " in page
    assert AuditLog.objects.get(action="identity.oidc_client.register").actor == platform_admin


def test_a_bad_redirect_uri_in_the_back_office_is_shown_on_the_form(platform_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(platform_admin)
    data = {"name": "医保局业务系统", "authorization_grant_type": "authorization-code", "redirect_uris": "ftp://x/cb"}
    page = client.post("/admin/oauth2_provider/application/add/", data).content.decode()
    assert "回调地址“ftp://x/cb”的协议应为 http 或 https" in page
    assert not Application.objects.exists()


def test_other_roles_cannot_open_the_client_pages(catalog_admin) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(catalog_admin)
    assert client.get("/admin/oauth2_provider/application/add/").status_code == 302


def test_skipping_the_consent_page_is_the_administrators_choice(platform_admin, catalog_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = services.register_client(
        services.ClientInput(name="医保局业务系统", redirect_uris=["https://ybj.example.gov.cn/cb"]), actor=None
    )
    admin_client = Client()
    admin_client.force_login(platform_admin)
    data = {
        "name": "医保局业务系统",
        "redirect_uris": "https://ybj.example.gov.cn/cb",
        "user": "",
        "skip_authorization": "on",
    }
    assert admin_client.post(f"/admin/oauth2_provider/application/{app.pk}/change/", data).status_code == 302
    assert AuditLog.objects.get(action="identity.oidc_client.update").extra["before"]["skip_authorization"] is False
    user_client = Client()
    user_client.force_login(catalog_admin)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": "https://ybj.example.gov.cn/cb",
        "scope": "openid",
        "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256",
    }
    answer = user_client.get("/o/authorize/", query)
    assert answer.status_code == 302
    assert answer["Location"].startswith("https://ybj.example.gov.cn/cb?code=")
    assert AuditLog.objects.filter(action="identity.oidc.authorize", actor=catalog_admin).exists()

"""Registering relying parties (platform administrator only) and the signing key command."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from oauth2_provider.models import Application

from govshare.audit.models import AuditLog
from govshare.core.errors import PermissionDenied, ValidationFailed
from govshare.identity import services
from govshare.identity.keys import key_file, read_signing_key

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
    row = AuditLog.objects.get(action="oidc.client.register")
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

"""The e-mail settings: the console by default, an SMTP server from one URL, bad values stop the start with the
variable named (and never print a password)."""

from __future__ import annotations

import pytest

from govshare.config import GovshareSettings, load_settings


def test_email_is_off_and_printed_on_the_console_by_default(monkeypatch) -> None:
    for name in ("GOVSHARE_EMAIL_NOTIFICATIONS", "GOVSHARE_EMAIL_URL", "GOVSHARE_EMAIL_FROM"):
        monkeypatch.delenv(name, raising=False)
    settings = GovshareSettings()
    assert settings.email_notifications is False
    assert settings.django_email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert settings.django_email["DEFAULT_FROM_EMAIL"] == "govshare <noreply@localhost>"


def test_an_smtp_server_with_starttls_from_its_url(monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_EMAIL_URL", "smtp+tls://govshare%40example.gov.cn:p%40ss@mail.example.gov.cn:587")
    email = GovshareSettings().django_email
    assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (email["EMAIL_HOST"], email["EMAIL_PORT"], email["EMAIL_USE_TLS"], email["EMAIL_USE_SSL"]) == (
        "mail.example.gov.cn",
        587,
        True,
        False,
    )
    assert (email["EMAIL_HOST_USER"], email["EMAIL_HOST_PASSWORD"]) == ("govshare@example.gov.cn", "p@ss")


def test_smtps_defaults_to_port_465_over_tls(monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_EMAIL_URL", "smtps://mail.example.gov.cn")
    email = GovshareSettings().django_email
    assert (email["EMAIL_PORT"], email["EMAIL_USE_SSL"], email["EMAIL_USE_TLS"]) == (465, True, False)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("GOVSHARE_EMAIL_URL", "http://mail.example.gov.cn"),
        ("GOVSHARE_EMAIL_URL", "smtp://user:secret-password@mail.example.gov.cn:port"),
        ("GOVSHARE_EMAIL_URL", "smtp://:25"),
        ("GOVSHARE_EMAIL_FROM", "govshare"),
        ("GOVSHARE_SITE_URL", "https://data.example.gov.cn/catalog/"),
    ],
)
def test_a_bad_email_setting_stops_with_the_variable_named(monkeypatch, capsys, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit):
        load_settings()
    error = capsys.readouterr().err
    assert variable in error and "secret-password" not in error

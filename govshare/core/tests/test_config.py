import subprocess
import sys

import pytest

from govshare.config import INSECURE_DEV_SECRET, GovshareSettings, load_settings


def test_defaults_use_sqlite_under_the_data_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = GovshareSettings()
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'govshare.sqlite3'}"


def test_database_url_comes_from_its_own_variable(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/govshare")
    assert GovshareSettings().effective_database_url == "postgres://u:p@db:5432/govshare"


def test_comma_separated_hosts_are_split(monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_ALLOWED_HOSTS", "data.example.gov.cn, localhost")
    assert GovshareSettings().allowed_hosts == ["data.example.gov.cn", "localhost"]


def test_bad_value_stops_with_the_variable_named(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GOVSHARE_PAGE_SIZE", "many")
    with pytest.raises(SystemExit) as stopped:
        load_settings()
    assert stopped.value.code == 2
    assert "GOVSHARE_PAGE_SIZE" in capsys.readouterr().err


def test_production_refuses_the_default_secret_key(monkeypatch, capsys) -> None:
    monkeypatch.setenv("GOVSHARE_PRODUCTION", "true")
    monkeypatch.delenv("GOVSHARE_SECRET_KEY", raising=False)
    with pytest.raises(SystemExit):
        load_settings()
    assert "GOVSHARE_SECRET_KEY" in capsys.readouterr().err


def test_production_accepts_a_real_secret_key(monkeypatch) -> None:
    monkeypatch.setenv("GOVSHARE_PRODUCTION", "true")
    monkeypatch.setenv("GOVSHARE_SECRET_KEY", "x" * 50)
    settings = load_settings()
    assert settings.secret_key != INSECURE_DEV_SECRET


def test_the_command_fails_fast_on_a_bad_setting(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "govshare", "check"],
        env={"GOVSHARE_DATA_DIR": str(tmp_path), "GOVSHARE_IMPORT_MAX_ROWS": "-1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "GOVSHARE_IMPORT_MAX_ROWS" in result.stderr

"""Threat: the values people look up — a name, an ID number, a mobile number, percent-encoded in the URL — end up in
the web server's access log and in Django's request log, which operators, log shippers and log stores read without
the platform's access rules. A real gunicorn process, started with the configuration scripts/up uses, and a real
`runserver`, are asked for lookups; their logs are then searched for the values, plain and percent-encoded."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from govshare.core.redaction import redact, redact_query
from govshare.testing.live import ROOT, free_port, live_server, migrated_data_dir, server_env

pytestmark = pytest.mark.dbindependent  # the servers are other processes, each on its own SQLite database

NAME = "欧阳娜娜"
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
SECRETS = [NAME, ID_NUMBER, MOBILE, "1234%205678", "1949123"]


def _lookups(base: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(URL, headers) of lookups as a browser or a script sends them: percent-encoded UTF-8."""
    preview = "/api/datasets/resources/1/dataset/preview"
    yield f"{base}{preview}?column={quote('姓名')}&value={quote(NAME)}&page=2", {}
    yield f"{base}/datasets/resources/1/preview/?column={quote('公民身份号码')}&value={ID_NUMBER}", {}
    yield f"{base}{preview}?column={quote('手机号码')}&value={quote('+86 138 1234 5678')}", {}
    referer = f"{base}/datasets/resources/1/preview/?value={quote(NAME)}"
    yield f"{base}/catalog/?q={quote(NAME)}", {"Referer": referer}


def _ask(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _assert_no_lookup_values(log: str) -> None:
    assert log.strip(), "the log is empty"
    for secret in SECRETS:
        assert secret not in log, secret
        assert quote(secret) not in log, quote(secret)
    assert "value=***" in log


def _gunicorn_arguments_of_scripts_up() -> list[str]:
    command = (ROOT / "scripts" / "up").read_text().split(".venv/bin/gunicorn", 1)[1]
    arguments = command.replace("\\\n", " ").split("\n", 1)[0].split()
    assert arguments[:2] == ["-c", "python:govshare.gunicorn_conf"], arguments
    return arguments[:2]


def test_gunicorns_access_log_shows_no_looked_up_value(tmp_path: Path) -> None:
    env = server_env(migrated_data_dir(tmp_path / "data"))
    port, log = free_port(), tmp_path / "access.log"
    arguments = [*_gunicorn_arguments_of_scripts_up(), "govshare.wsgi:application", "--preload"]
    arguments += [
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--access-logfile",
        str(log),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", *arguments], env=env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _ask_quietly(f"http://127.0.0.1:{port}/login/") != 200:
            assert server.poll() is None and time.monotonic() < deadline, server.stderr and server.stderr.read()
            time.sleep(0.2)
        statuses = [_ask(url, headers) for url, headers in _lookups(f"http://127.0.0.1:{port}")]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert statuses == [401, 200, 401, 200]  # the page redirected to the sign-in page, which answered
    text = log.read_text(encoding="utf-8")
    _assert_no_lookup_values(text)
    assert "page=2" in text and "/login/?next=***" in text  # paging kept; the redirect's target hidden too
    assert re.search(r'"GET /api/datasets/resources/1/dataset/preview\?column=\*\*\*&value=\*\*\*&page=2 HTTP', text)


def _ask_quietly(url: str) -> int:
    try:
        return _ask(url, {})
    except OSError:
        return 0


def test_djangos_request_log_shows_no_looked_up_value(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        for url, headers in _lookups(server.url):
            _ask(url, headers)
    text = server.log.read_text(encoding="utf-8")
    assert "GET /api/datasets/resources/1/dataset/preview?column=***&value=***&page=2" in text
    _assert_no_lookup_values(text)


def test_query_values_are_hidden_but_paging_is_kept() -> None:
    assert redact_query(f"column={quote('姓名')}&value={quote(NAME)}&page=2&format=csv") == (
        "column=***&value=***&page=2&format=csv"
    )
    assert redact_query("张三") == "***" and redact_query("") == ""
    assert redact_query("page=" + quote(NAME)) == "page=***"  # a kept name with a value that is not paging


def test_a_percent_encoded_id_or_mobile_number_is_hidden_anywhere() -> None:
    encoded = "".join(f"%{byte:02X}" for byte in ID_NUMBER.encode())
    assert ID_NUMBER not in redact(f"lookup {encoded} failed") and encoded not in redact(f"lookup {encoded} failed")
    assert "[手机号已隐藏]" in redact("value%3D%2B86%20138%201234%205678")
    assert redact("https://api.example.gov.cn/x?date=2024-01-01") == "https://api.example.gov.cn/x?date=2024-01-01"

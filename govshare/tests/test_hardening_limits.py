"""Rate limits shared by all processes (the database cache), and the limit on wrong API bearer tokens."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.services import create_api_token
from govshare.api import AnonymousRate
from govshare.config import CACHE_TABLE
from govshare.core.security import BEARER_FAILURE_KEY

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _cache_table_exists() -> bool:
    with connection.cursor() as cursor:
        return CACHE_TABLE in connection.introspection.table_names(cursor)


def test_the_default_cache_is_the_metadata_database() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert _cache_table_exists()


def test_migrate_creates_the_cache_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {CACHE_TABLE}")
    assert not _cache_table_exists()
    call_command("migrate", verbosity=0)
    assert _cache_table_exists()


def _process_cache() -> DatabaseCache:
    """A cache object as another gunicorn worker would build it from the same settings."""
    options = settings.CACHES["default"]
    return DatabaseCache(options["LOCATION"], {"OPTIONS": options.get("OPTIONS", {})})


def _anonymous_rate_in(process_cache: DatabaseCache) -> AnonymousRate:
    throttle = AnonymousRate()
    throttle.cache = process_cache
    return throttle


def test_two_processes_count_the_same_rate_limit(settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_ANONYMOUS = "3/min"
    request = RequestFactory().get("/api/catalog/resources", REMOTE_ADDR="10.1.2.3")
    first, second = _anonymous_rate_in(_process_cache()), _anonymous_rate_in(_process_cache())
    assert first.cache is not second.cache
    assert first.allow_request(request)
    assert second.allow_request(request)
    assert first.allow_request(request)
    # The fourth request within the minute is refused by the other process, which saw the first three.
    assert not second.allow_request(request)


def test_the_api_refuses_a_user_past_the_rate(settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_USER = "2/min"
    user = testing.make_user(Role.CONSUMER, department=testing.make_department())
    _, raw = create_api_token(user, name="脚本", scope="write", actor=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/catalog/resources").status_code == 200
    assert client.get("/api/catalog/resources").status_code == 200
    refused = client.get("/api/catalog/resources")
    assert refused.status_code == 429
    assert refused.json()["detail"] == "请求过于频繁，请稍后再试"


# --- wrong bearer tokens ---------------------------------------------------------------------------------------


@pytest.fixture
def consumer_token() -> str:
    user = testing.make_user(Role.CONSUMER, department=testing.make_department())
    _, raw = create_api_token(user, name="脚本", scope="write", actor=user)
    return raw


def _limit(settings, count: int) -> None:  # type: ignore[no-untyped-def]
    settings.GOVSHARE = settings.GOVSHARE.model_copy(update={"api_token_failure_limit": count})


def _get(token: str, address: str = "10.0.0.7"):  # type: ignore[no-untyped-def]
    return Client(REMOTE_ADDR=address).get("/api/catalog/resources", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_right_token_works(consumer_token: str) -> None:
    assert _get(consumer_token).status_code == 200


def test_after_the_limit_of_wrong_tokens_even_the_right_one_is_refused(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 3)
    for n in range(3):
        assert _get(f"gs_wrong{n:040d}").status_code == 401
    refused = _get(consumer_token)
    assert refused.status_code == 429
    assert "错误 API 令牌已达 3 次" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 15 * 60


def test_wrong_oauth_style_tokens_count_as_well(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    assert _get("not-a-platform-token-1").status_code == 401
    assert _get("not-a-platform-token-2").status_code == 401
    assert _get(consumer_token).status_code == 429


def test_past_the_limit_an_oauth_style_token_is_refused_too(settings) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    assert _get(f"gs_wrong{1:040d}").status_code == 401
    assert _get(f"gs_wrong{2:040d}").status_code == 401
    # Not a personal token: refused by the OAuth access-token check before it is looked up.
    assert _get("not-a-platform-token").status_code == 429


def test_another_address_is_not_refused(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    for n in range(2):
        _get(f"gs_wrong{n:040d}", address="10.0.0.7")
    assert _get(consumer_token, address="10.0.0.8").status_code == 200


def test_a_forwarded_for_header_does_not_pick_the_counter(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    for n in range(2):
        client = Client(REMOTE_ADDR="10.0.0.7")
        client.get("/api/catalog/resources", HTTP_AUTHORIZATION=f"Bearer gs_x{n}", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    assert _get(consumer_token).status_code == 429


def test_failures_older_than_the_window_no_longer_count(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    window = settings.GOVSHARE.api_token_failure_minutes * 60
    cache.set(BEARER_FAILURE_KEY % "10.0.0.7", [time.time() - window - 5] * 5, window)
    assert _get(consumer_token).status_code == 200


def test_right_tokens_do_not_count(settings, consumer_token: str) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    for _ in range(4):
        assert _get(consumer_token).status_code == 200


# --- real processes ----------------------------------------------------------------------------------------------

_CHECKS = """
import sys
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
from govshare.api import AnonymousRate
settings.API_RATE_ANONYMOUS = "3/min"
request = RequestFactory().get("/api/catalog/resources", REMOTE_ADDR="10.7.7.7")
print(" ".join("allowed" if AnonymousRate().allow_request(request) else "refused" for _ in range(int(sys.argv[1]))))
"""


def _in_process(env: dict[str, str], checks: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _CHECKS, str(checks)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.dbindependent  # both processes run on their own SQLite database (DATABASE_URL empty), never the test's
@pytest.mark.parametrize(("cache_url", "shared"), [("db://", True), ("file://", True), ("locmem://", False)])
def test_two_real_processes_share_the_counters(tmp_path: Path, cache_url: str, shared: bool) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "govshare.settings",
        "GOVSHARE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "GOVSHARE_CACHE_URL": cache_url,
    }
    subprocess.run([sys.executable, "-m", "govshare", "createcachetable"], env=env, cwd=ROOT, check=True, timeout=120)
    assert _in_process(env, 2) == ["allowed", "allowed"]
    # A second process (another gunicorn worker) sees the first one's two requests when the cache is shared.
    assert _in_process(env, 2) == (["allowed", "refused"] if shared else ["allowed", "allowed"])


def test_wrong_client_secrets_at_the_oidc_token_endpoint_are_limited(settings) -> None:  # type: ignore[no-untyped-def]
    _limit(settings, 2)
    client = Client(REMOTE_ADDR="10.0.0.9")
    body = {"grant_type": "client_credentials", "client_id": "no-such-client", "client_secret": "guess"}
    assert client.post("/o/token/", body).status_code == 401
    assert client.post("/o/token/", body).status_code == 401
    refused = client.post("/o/token/", body)
    assert refused.status_code == 429
    assert "错误的客户端凭据或访问令牌已达 2 次" in refused.json()["error_description"]
    assert Client(REMOTE_ADDR="10.0.0.10").post("/o/token/", body).status_code == 401

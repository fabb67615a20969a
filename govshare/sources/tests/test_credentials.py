"""Credentials in a source's settings (sources.credentials): which names hold one, taking them out, the destination
a credential is sent to, and the settings as shown."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govshare.sources import credentials
from govshare.sources.credentials import CENSORED, censored_config, destination, find_credentials, looks_secret


@pytest.mark.parametrize(
    "name",
    [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "X-Api-Key",
        "X-Auth-Token",
        "access_token",
        "accessToken",
        "token",
        "key",
        "appKey",
        "APPKEY",
        "app_secret",
        "appsecret",
        "password",
        "passwd",
        "sign",
        "signature",
        "JSESSIONID",
        "Ocp-Apim-Subscription-Key",
    ],
)
def test_names_that_hold_a_credential(name: str) -> None:
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    ["Accept", "Content-Type", "User-Agent", "keyword", "sortKey", "Idempotency-Key", "token_type", "signDate", "page"],
)
def test_names_that_do_not(name: str) -> None:
    assert not looks_secret(name)


def test_a_header_value_with_an_authentication_scheme_is_a_credential_whatever_its_name() -> None:
    assert looks_secret("X-Custom", "Bearer abcdefgh12345")
    assert not looks_secret("X-Custom", "plain text")


_NAMES = st.sampled_from(["Authorization", "X-Api-Key", "X-Auth-Token", "Cookie", "Accept", "X-Region", "sortKey"])
_VALUES = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@given(headers=st.dictionaries(_NAMES, _VALUES, max_size=5))
def test_no_credential_stays_in_the_headers_and_none_is_lost(headers: dict[str, str]) -> None:
    config = {"url": "https://api.example.gov.cn/x", "records_path": "$.d[*]", "headers": headers}
    cleaned, moved, refused = find_credentials("http_api", config)
    assert refused == []
    assert not any(looks_secret(name, value) for name, value in cleaned["headers"].items())
    kept_or_moved = set(cleaned["headers"]) | {found.name for found in moved}
    # A CENSORED value is what the API showed for a stored credential: sent back, it is dropped (the stored one stays).
    assert kept_or_moved == {name for name, value in headers.items() if value != CENSORED or not looks_secret(name)}
    for found in moved:
        assert found.prefix + found.value == headers[found.name].strip()
    assert censored_config(cleaned) == cleaned


@given(
    secret=st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=4, max_size=20),
    name=st.sampled_from(["access_token", "token", "key", "appKey", "sign", "password"]),
)
def test_a_query_string_credential_moves_and_the_rest_of_the_url_stays(secret: str, name: str) -> None:
    config = {"url": f"https://api.example.gov.cn/x?region=510600&{name}={secret}&page=1", "records_path": "$"}
    cleaned, [found], _ = find_credentials("http_api", config)
    assert (found.name, found.value, found.sent_as) == (name, secret, "param")
    assert cleaned["url"] == "https://api.example.gov.cn/x?region=510600&page=1"
    assert credentials.with_token_location(cleaned, found)["token_param"] == name


def test_a_database_url_keeps_a_file_path_option_and_refuses_another_password() -> None:
    config = {"url": "postgresql://u@h/db?sslkey=/etc/k.pem&sslpassword=s3&password=p1", "table": "t"}
    cleaned, moved, refused = find_credentials("database", config)
    assert [found.value for found in moved] == ["p1"] and [found.name for found in refused] == ["sslpassword"]
    assert cleaned["url"] == "postgresql://u@h/db?sslkey=%2Fetc%2Fk.pem"


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("https://a.gov.cn/x", "https://a.gov.cn:443/y?z=1", True),
        ("https://a.gov.cn/x", "https://A.GOV.CN/x", True),
        ("https://a.gov.cn/x", "http://a.gov.cn/x", False),
        ("https://a.gov.cn/x", "https://a.gov.cn:8443/x", False),
        ("https://a.gov.cn/x", "https://a.gov.cn.evil.example/x", False),
        ("https://a.gov.cn/x", "https://user@evil.example/x", False),
    ],
)
def test_an_apis_destination_is_its_origin(before: str, after: str, same: bool) -> None:
    assert (destination("http_api", {"url": before}) == destination("http_api", {"url": after})) is same


def test_the_settings_as_shown_hide_every_credential() -> None:
    config: dict[str, Any] = {
        "url": "https://u:pw@api.example.gov.cn/x?access_token=t1&region=1",
        "headers": {"Authorization": "Bearer t2", "Accept": "application/json"},
        "params": {"appKey": "t3", "size": 10},
        "body": {"appSecret": "t4", "type": "1"},
    }
    shown = censored_config(config)
    assert not any(secret in str(shown) for secret in ("pw", "t1", "t2", "t3", "t4"))
    assert shown["params"] == {"appKey": CENSORED, "size": 10} and shown["body"]["type"] == "1"


@given(url=st.text(max_size=60).map(lambda tail: "postgresql://u@h:" + tail))
def test_any_database_url_is_answered_without_raising(url: str) -> None:
    # make_url raises ValueError (not ArgumentError) for a port that is not a number: that was a 500 on save.
    config = {"url": url, "table": "t"}
    credentials.find_credentials("database", config)
    credentials.destination("database", config)

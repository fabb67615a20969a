"""Credentials in a source's settings: which header, query parameter, body field or URL part holds one, where a
source's credential is sent (its destination), and the settings as shown or recorded, with no credential in them.

A source keeps one credential, encrypted (`Source.secret`); its settings (`Source.config`) are shown on pages, in
the API and in the audit trail, so no credential may stay in them. `find_credentials` takes the credentials out of
a source's settings; `services` moves the one a source may keep into `Source.secret` (with where it is sent:
`token_header` + `token_prefix`, `token_param` or `token_field`, as `readers.http_api` sends it) and refuses more.
Plain functions without models: migration `datasets.0004` uses them on the sources stored before.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from django.utils.translation import gettext
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

__all__ = [
    "CENSORED",
    "TOKEN_LOCATION_KEYS",
    "Credential",
    "censored_config",
    "censored_url",
    "describe_destination",
    "destination",
    "find_credentials",
    "looks_secret",
    "with_token_location",
]

# What a credential's value is replaced with where settings are shown or recorded (as in the audit trail).
CENSORED = "********"
# Where an HTTP source's credential is sent (readers.http_api): a header (name and prefix), a query parameter or a
# field of a POST body.
TOKEN_LOCATION_KEYS = ("token_header", "token_prefix", "token_param", "token_field")

# Words that name a credential when they end a header, parameter or field name ("X-Auth-Token", "access_token",
# "appSecret", "Cookie", "sign"), and endings that do in a name written as one word ("accesstoken", "appsecret").
_SECRET_WORDS = frozenset(
    {
        "auth",
        "authorization",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "sign",
        "signature",
        "cookie",
        "credential",
        "credentials",
        "session",
        "apikey",
        "appkey",
        "accesskey",
        "secretkey",
    }
)
_SECRET_ENDINGS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "appkey",
    "accesskey",
    "secretkey",
    "signature",
    "cookie",
    "sessionid",
    "credential",
    "credentials",
)
# "key" names a credential alone ("key") or after one of these ("X-Api-Key", "app_key", "Subscription-Key"), not
# after any word ("sortKey", "Idempotency-Key" are not secrets).
_KEY_OWNERS = frozenset(
    {"x", "api", "app", "access", "secret", "private", "client", "auth", "subscription", "sign", "signing", "user"}
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# A header value that carries a credential whatever the header's name: "Bearer …", "Basic …", "Token …".
_AUTH_SCHEME = re.compile(r"(?i)^\s*(bearer|basic|token|digest|apikey)\s+(\S.*?)\s*$")
# The password of a front database URL written as a query parameter (psycopg: password, PyMySQL: passwd).
_DATABASE_PASSWORD_KEYS = frozenset({"password", "passwd", "pwd"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "mysql": 3306}
# Driver names as the reader completes them (readers.database.source_url).
_DRIVERS = {"postgres": "postgresql+psycopg", "postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


def looks_secret(name: str, value: Any = "") -> bool:
    """Whether a header, query parameter or body field of this name (or a header of this value) holds a
    credential: Authorization, Cookie, X-Api-Key, X-Auth-Token, access_token, appSecret, password, sign …"""
    if isinstance(value, str) and _AUTH_SCHEME.match(value):
        return True
    words = [word.lower() for word in _WORDS.findall(name)]
    if not words:
        return False
    joined = "".join(words)
    if words[-1] in _SECRET_WORDS or joined.endswith(_SECRET_ENDINGS):
        return True
    return words[-1] == "key" and (len(words) == 1 or words[-2] in _KEY_OWNERS)


@dataclass(frozen=True)
class Credential:
    """One credential found in a source's settings: where it was (`field` as a problem names it, `name` of the
    header / parameter / field) and how it would be sent from `Source.secret`."""

    field: str  # "config.headers", "config.url", "config.params", "config.body"
    name: str  # header, parameter or field name; "" for a URL's own password
    value: str  # the credential as kept in Source.secret (without its prefix)
    sent_as: str = "header"  # "header" | "param" | "field" | "password" (a database login)
    prefix: str = ""  # "Bearer " … of a header

    @property
    def label(self) -> str:
        """Where it was, as a user reads it: 请求头“X-Api-Key”, 查询参数“access_token” …"""
        if self.field == "config.headers":
            return gettext("请求头“%(name)s”") % {"name": self.name}
        if self.field == "config.body":
            return gettext("请求体字段“%(name)s”") % {"name": self.name}
        if self.field == "config.params":
            return gettext("查询参数“%(name)s”") % {"name": self.name}
        if self.name:
            if self.sent_as == "password":
                return gettext("连接地址中的查询参数“%(name)s”") % {"name": self.name}
            return gettext("接口地址中的查询参数“%(name)s”") % {"name": self.name}
        return gettext("连接地址中的口令") if self.sent_as == "password" else gettext("接口地址中的用户名和口令")


# --- finding credentials -------------------------------------------------------------------------------------------


def find_credentials(kind: str, config: dict[str, Any]) -> tuple[dict[str, Any], list[Credential], list[Credential]]:
    """The settings without the credentials written into them, the credentials that `Source.secret` can hold
    (moved) and those it cannot (refused). A value equal to `CENSORED` is what a client got back from the API and
    sent again: it is dropped (the stored credential stays)."""
    if not isinstance(config, dict):
        return config, [], []
    if kind == "database":
        return _database_credentials(config)
    if kind == "http_api":
        return _http_credentials(config)
    return config, [], []


def _database_credentials(config: dict[str, Any]) -> tuple[dict[str, Any], list[Credential], list[Credential]]:
    url = str(config.get("url") or "")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return config, [], []
    moved: list[Credential] = []
    refused: list[Credential] = []
    if parsed.password:
        moved.append(Credential("config.url", "", str(parsed.password), "password"))
    query: dict[str, str | tuple[str, ...]] = {}
    for name, value in parsed.query.items():
        values = [value] if isinstance(value, str) else list(value)
        if name.lower() in _DATABASE_PASSWORD_KEYS:
            moved += [Credential("config.url", name, v, "password") for v in values if v and v != CENSORED]
        elif looks_secret(name):
            refused += [Credential("config.url", name, v, "password") for v in values if v and v != CENSORED]
        else:
            query[name] = value
    if not moved and not refused and len(query) == len(parsed.query):
        return config, [], []
    # URL.set(password=None) means "unchanged" to SQLAlchemy; the named-tuple replace really drops it.
    cleaned = parsed._replace(password=None).set(query=query)
    return {**config, "url": cleaned.render_as_string(hide_password=False)}, moved, refused


def _http_credentials(config: dict[str, Any]) -> tuple[dict[str, Any], list[Credential], list[Credential]]:
    config = dict(config)
    found: list[Credential] = []
    url = config.get("url")
    if isinstance(url, str):
        config["url"], found = _http_url_credentials(url)
    headers = config.get("headers")
    if isinstance(headers, dict):
        kept: dict[str, Any] = {}
        for name, value in headers.items():
            if not isinstance(value, str) or not looks_secret(str(name), value):
                kept[name] = value
            elif value.strip() and value != CENSORED:
                scheme = _AUTH_SCHEME.match(value)
                prefix, token = (scheme.group(1) + " ", scheme.group(2)) if scheme else ("", value.strip())
                found.append(Credential("config.headers", str(name), token, "header", prefix))
        config["headers"] = kept
    for key, sent_as in (("params", "param"), ("body", "field")):
        values = config.get(key)
        if not isinstance(values, dict):
            continue
        kept = {}
        for name, value in values.items():
            if not isinstance(value, str | int) or isinstance(value, bool) or not looks_secret(str(name)):
                kept[name] = value
            elif str(value) and str(value) != CENSORED:
                found.append(Credential(f"config.{key}", str(name), str(value), sent_as))
        config[key] = kept
    return config, found, []


def _http_url_credentials(url: str) -> tuple[str, list[Credential]]:
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 — a port that is not a number raises here, and the URL is left to the checks
    except ValueError:
        return url, []
    found: list[Credential] = []
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        if password and password != CENSORED:
            # httpx sends a URL's user and password as HTTP Basic authentication: the same header, from the secret.
            pair = f"{unquote(user)}:{unquote(password)}".encode()
            found.append(Credential("config.url", "", base64.b64encode(pair).decode("ascii"), "header", "Basic "))
        elif not password:
            netloc = parts.netloc  # a user name alone is no credential: kept
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in pairs if not looks_secret(name)]
    found += [
        Credential("config.url", name, value, "param")
        for name, value in pairs
        if looks_secret(name) and value and value != CENSORED
    ]
    if netloc == parts.netloc and len(kept) == len(pairs):
        return url, found
    query = urlencode(kept, quote_via=quote, safe="") if len(kept) != len(pairs) else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), found


def with_token_location(config: dict[str, Any], credential: Credential) -> dict[str, Any]:
    """The settings of an HTTP source whose secret is now `credential`: sent where it was found."""
    config = {k: v for k, v in config.items() if k not in TOKEN_LOCATION_KEYS}
    if credential.sent_as == "param":
        config["token_param"] = credential.name
    elif credential.sent_as == "field":
        config["token_field"] = credential.name
    else:
        config["token_header"] = credential.name or "Authorization"
        config["token_prefix"] = credential.prefix
    return config


# --- where a credential goes -----------------------------------------------------------------------------------------


def destination(kind: str, config: dict[str, Any]) -> tuple[Any, ...] | None:
    """Where a source's credential is sent: an API's origin (scheme, host, port); a front database's driver, host,
    port, database and connection options (a libpq `?host=` moves the connection too). None for a file source."""
    url = str(config.get("url") or "").strip() if isinstance(config, dict) else ""
    if kind == "http_api":
        try:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            return ("http", scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme))
        except ValueError:
            return ("http", "unparsed", url)
    if kind == "database":
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            return ("database", "unparsed", url)
        driver = _DRIVERS.get(parsed.drivername, parsed.drivername)
        port = parsed.port or _DEFAULT_PORTS.get(parsed.get_backend_name())
        options = tuple(sorted((name, str(value)) for name, value in parsed.query.items()))
        return ("database", driver, (parsed.host or "").lower(), port, parsed.database or "", options)
    return None


def describe_destination(where: tuple[Any, ...] | None) -> str:
    """A destination as a user reads it, without any credential: https://api.example.gov.cn:443, or
    postgresql+psycopg://10.0.0.5:5432/front."""
    if where is None:
        return "—"
    if where[1] == "unparsed":
        return gettext("（无法解析的地址）")
    if where[0] == "http":
        _, scheme, host, port = where
        return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
    _, driver, host, port, database, options = where
    text = f"{driver}://{host}{f':{port}' if port and host else ''}/{database}"
    return text + ("?" + "&".join(f"{k}={v}" for k, v in options) if options else "")


# --- settings as shown and recorded ------------------------------------------------------------------------------


def censored_url(url: str) -> str:
    """A URL without the password of its user information and with the values of its secret-looking query
    parameters replaced by CENSORED."""
    if "://" not in url:
        return url
    if not url.lower().startswith(("http://", "https://")):
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            return url
        options = {
            name: (CENSORED if name.lower() in _DATABASE_PASSWORD_KEYS or looks_secret(name) else value)
            for name, value in parsed.query.items()
        }
        if not parsed.password and options == dict(parsed.query):
            return url
        rendered = _render(parsed._replace(password=None).set(query=options))
        return rendered.replace(quote(CENSORED, safe=""), CENSORED)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}@{host}" if colon else netloc
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(looks_secret(name) for name, _ in pairs) and netloc == parts.netloc:
        return url
    query = urlencode([(n, CENSORED if looks_secret(n) else v) for n, v in pairs], quote_via=quote, safe="*")
    return str(urlunsplit((parts.scheme, netloc, parts.path, query if pairs else parts.query, parts.fragment)))


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def censored_config(config: dict[str, Any]) -> dict[str, Any]:
    """A source's settings as pages, the API and the audit trail show them: no URL password, and CENSORED for the
    value of any secret-looking header, query parameter or body field."""
    if not isinstance(config, dict):
        return config
    shown = dict(config)
    if isinstance(shown.get("url"), str):
        shown["url"] = censored_url(shown["url"])
    for key in ("headers", "params", "body"):
        values = shown.get(key)
        if isinstance(values, dict):
            shown[key] = {
                name: (CENSORED if looks_secret(str(name), value) and value not in ("", None) else value)
                for name, value in values.items()
            }
    return shown

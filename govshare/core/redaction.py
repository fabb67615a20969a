"""Redaction of personal values and secrets from text bound for logs, load logs and error messages: resident
identity numbers (GB 11643), mainland mobile numbers, URL passwords, key=value secrets and bearer tokens, also when
percent-encoded (as in a URL); and the values of query strings in the platform's own request lines and paths
(`GET /api/…/preview?column=姓名&value=张三` → `value=***`): a lookup by name, an address or a search word has no
shape a pattern could recognise, so every value is hidden but those of a few paging parameters (KEPT_QUERY_KEYS).
Plain Python (no Django), so that any module, including readers run in child processes, may use it."""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

__all__ = ["HIDDEN", "KEPT_QUERY_KEYS", "hide_query_values", "redact", "redact_query"]

# Resident identity numbers (GB 11643): 6-digit area, birth date 18xx-20xx, sequence, check character.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
)
# Mainland mobile numbers, optionally with +86 / 86.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z])")
# The password of a URL's user information: scheme://user:password@host (up to the last @ before the host, so
# that a password holding an unencoded @ is hidden whole).
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://[^\s/:@]*:)([^\s/]+)(@)(?=[^\s@/]*(?:[/\s]|$))")
# key=value secrets in query strings and connection strings (password=…, token=…).
_KEY_SECRET = re.compile(
    r"(?i)\b((?:password|passwd|pwd|secret|secret_access_key|access_token|api_key|apikey|token)\s*[=:]\s*['\"]?)"
    r"([^\s&;,'\"]+)"
)
# A bearer token in a logged header.
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/\-]{8,}=*)")

# A run of URL characters holding at least one percent-escape (`%E5%BC%A0`, `110105%2019490101…`).
_PERCENT_RUN = re.compile(r"[\w.~+\-]*(?:%[0-9A-Fa-f]{2}[\w.~+\-]*)+")
# The query string of a path of this platform: a "/" that begins a word (a request line, "Not Found: /…", a quoted
# path), up to the next space or quote. An absolute URL's path does not begin a word (see hide_query_values).
_PATH_QUERY = re.compile(r"""(?<![^\s"'(\[<=,])(/[^\s?#"'<>]*)\?([^\s#"'<>]*)""")
_URL_QUERY = re.compile(
    r"""(\b[a-z][a-z0-9+.\-]*://[^\s?#"'<>]*|(?<![^\s"'(\[<=,])/[^\s?#"'<>]*)\?([^\s#"'<>]*)""", re.I
)

HIDDEN = "***"
# Query parameters whose values stay in logs: paging, format and version, never a looked-up value.
KEPT_QUERY_KEYS = frozenset({"page", "page_size", "limit", "offset", "format", "version", "run", "language"})


def redact_query(query: str) -> str:
    """A query string (without "?") with every value hidden, but those of KEPT_QUERY_KEYS; names stay."""
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if not sep:
            parts.append(HIDDEN if part else part)  # a bare word is a value (`?张三`)
        elif unquote_plus(name).strip().lower() in KEPT_QUERY_KEYS and value.isascii() and len(value) <= 16:
            parts.append(part)
        else:
            parts.append(f"{name}={HIDDEN}" if value else f"{name}=")
    return "&".join(parts)


def hide_query_values(text: str, *, absolute_urls: bool = False) -> str:
    """`text` with the query values of every platform path in it hidden (redact_query); with `absolute_urls`, of
    every URL too (a Referer). Log messages about sources keep their URLs' queries (their secrets are redacted)."""
    if "?" not in text:
        return text
    pattern = _URL_QUERY if absolute_urls else _PATH_QUERY
    return pattern.sub(lambda m: f"{m.group(1)}?{redact_query(m.group(2))}", text)


def _redact_values(text: str) -> str:
    text = _URL_PASSWORD.sub(rf"\1{HIDDEN}\3", text)
    text = _KEY_SECRET.sub(rf"\1{HIDDEN}", text)
    text = _BEARER.sub(rf"\1{HIDDEN}", text)
    text = _ID_NUMBER.sub("[身份证号已隐藏]", text)
    return _MOBILE.sub("[手机号已隐藏]", text)


def _percent_decoded(match: re.Match[str]) -> str:
    run = match.group(0)
    for decoded in (unquote(run, errors="replace"), unquote_plus(run, errors="replace")):
        redacted = _redact_values(decoded)
        if redacted != decoded:
            return redacted
    return run


def redact(text: str) -> str:
    """`text` with ID numbers, mobile numbers, URL passwords and key=value secrets replaced by placeholders (also
    percent-encoded ones), and the query values of the platform's own paths hidden."""
    if not text:
        return text
    text = hide_query_values(text)
    if "%" in text:
        text = _PERCENT_RUN.sub(_percent_decoded, text)
    return _redact_values(text)

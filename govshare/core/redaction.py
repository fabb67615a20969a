"""Redaction of personal values and secrets from text bound for logs, load logs and error messages: resident
identity numbers (GB 11643), mainland mobile numbers, URL passwords, key=value secrets and bearer tokens.
Plain Python (no Django), so that any module, including readers run in child processes, may use it."""

from __future__ import annotations

import re

__all__ = ["HIDDEN", "redact"]

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

HIDDEN = "***"


def redact(text: str) -> str:
    """`text` with ID numbers, mobile numbers, URL passwords and key=value secrets replaced by placeholders."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(rf"\1{HIDDEN}\3", text)
    text = _KEY_SECRET.sub(rf"\1{HIDDEN}", text)
    text = _BEARER.sub(rf"\1{HIDDEN}", text)
    text = _ID_NUMBER.sub("[身份证号已隐藏]", text)
    return _MOBILE.sub("[手机号已隐藏]", text)

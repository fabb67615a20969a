"""Hardening helpers: the Permissions-Policy header; the limit on wrong API bearer tokens (and wrong OIDC client
secrets or access tokens) per address, counted in the cache that all processes share (GovshareSettings.django_cache);
and the redaction of personal values and secrets from every log record (govshare.core.redaction)."""

from __future__ import annotations

import logging
import math
import time
import traceback
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.errors import Throttled

from govshare.core.redaction import redact

__all__ = [
    "BEARER_FAILURE_KEY",
    "OAuthEndpointGuardMiddleware",
    "PermissionsPolicyMiddleware",
    "RedactingFilter",
    "TooManyWrongTokens",
    "bearer_failure",
    "bearer_kind",
    "check_bearer_allowed",
    "install_log_record_redaction",
    "mark_bearer",
    "redact",
]

# ---------------------------------------------------------------------------------------------- headers

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)


class PermissionsPolicyMiddleware:
    """Adds a Permissions-Policy header (Django has no setting for it): the pages use no device features."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


# ---------------------------------------------------------------------------------------------- bearer tokens

BEARER_FAILURE_KEY = "bearer-failures:%s"


def _address(request: HttpRequest) -> str:
    # The peer address only, as for login failures (a client-supplied X-Forwarded-For never picks the counter).
    return str(request.META.get("REMOTE_ADDR") or "")


def _recent_failures(address: str, now: float) -> list[float]:
    window = settings.GOVSHARE.api_token_failure_minutes * 60
    history: list[float] = cache.get(BEARER_FAILURE_KEY % address, [])
    return [at for at in history if at > now - window]


class TooManyWrongTokens(Throttled):
    """429 for an address that sent too many wrong bearer tokens; says so, and when to try again."""

    def __init__(self, wait: int, what: str = "错误 API 令牌") -> None:
        super().__init__(wait)
        minutes = max(1, math.ceil(wait / 60))
        limit, window = settings.GOVSHARE.api_token_failure_limit, settings.GOVSHARE.api_token_failure_minutes
        self.message = (
            f"该地址在 {window} 分钟内提交的{what}已达 {limit} 次，暂停接受令牌，请约 {minutes} 分钟后再试；"
            "请检查令牌是否已过期、被撤销或抄错"
        )


def check_bearer_allowed(request: HttpRequest, what: str = "错误 API 令牌") -> None:
    """Refuse (429) any bearer token, right or wrong, from an address with too many recent wrong tokens.

    Checked before the token is looked up, so that an address that is guessing learns nothing more. `what` names
    the wrong credentials in the message.
    """
    now = time.time()
    failures = _recent_failures(_address(request), now)
    if len(failures) >= settings.GOVSHARE.api_token_failure_limit:
        window = settings.GOVSHARE.api_token_failure_minutes * 60
        raise TooManyWrongTokens(max(1, math.ceil(failures[0] + window - now)), what)


def bearer_failure(request: HttpRequest) -> None:
    """Count a bearer token that matched no active token against the caller's address (in the shared cache)."""
    now = time.time()
    address = _address(request)
    history = [*_recent_failures(address, now), now]
    cache.set(BEARER_FAILURE_KEY % address, history, settings.GOVSHARE.api_token_failure_minutes * 60)


_BEARER = "_govshare_bearer"


def mark_bearer(request: HttpRequest, kind: str) -> None:
    """Note that the request acts through a bearer token (`personal` or `oauth`) rather than a signed-in session."""
    setattr(request, _BEARER, kind)


def bearer_kind(request: HttpRequest) -> str | None:
    """`personal` or `oauth` when the request was authenticated by a bearer token, None for a session."""
    kind: str | None = getattr(request, _BEARER, None)
    return kind


class OAuthEndpointGuardMiddleware:
    """The OpenID Connect provider's credential endpoints (/o/token/, /o/userinfo/, /o/introspect/,
    /o/revoke_token/) answer 401 to a wrong client secret or access token; those count against the address like
    wrong API bearer tokens, and an address past the limit gets 429 before its credentials are checked."""

    PREFIXES = ("/o/token/", "/o/userinfo/", "/o/introspect/", "/o/revoke_token/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(self.PREFIXES):
            return self.get_response(request)
        try:
            check_bearer_allowed(request, what="错误的客户端凭据或访问令牌")
        except TooManyWrongTokens as refused:
            answer = JsonResponse({"error": "too_many_requests", "error_description": refused.message}, status=429)
            answer["Retry-After"] = str(refused.wait)
            return answer
        response = self.get_response(request)
        if response.status_code == 401:
            bearer_failure(request)
        return response


# ---------------------------------------------------------------------------------------------- redaction


def _redact_record(record: logging.LogRecord) -> None:
    # Skipped only when the message is still the one redacted here: logging.makeLogRecord (socket and queue
    # receivers) makes an empty record through the factory and sets its message afterwards.
    if record.args is None and getattr(record, "_govshare_redacted", None) is record.msg:
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call: keep its format string only
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # The traceback (with exception messages that may quote values) is formatted now, redacted, and kept as
        # the record's text; formatters use exc_text as it is.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._govshare_redacted = record.msg


class RedactingFilter(logging.Filter):
    """Logging filter (on every handler): the record's message and traceback lose personal values and secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


_installed = False


def install_log_record_redaction() -> None:
    """Redact every log record when it is made, whichever handler (or test capture) later receives it."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True

"""The gateway's own serving path: a plain WSGI application for /gateway/v1/, in front of Django's handler.

Consumer systems call at machine rates; the page stack (sessions, CSRF, locale, messages, templates, the staff API's
authentication and rate limit) costs several milliseconds of CPU a request and none of it applies here. So the
gateway's calls skip Django's request handling and middleware: this module reads the request itself (method, path,
bearer token, a JSON body of bounded size; for a batch comparison's upload, the file itself streamed to disk under
its own limit), runs the service and answers JSON (or a batch's result file) with the request id. It still uses
Django's settings, ORM and database connections (kept per thread, as gunicorn's threads persist).

Nothing a caller sends is logged or audited as such: log lines carry the request id and the error code only.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from govshare.datasets import scopes
from govshare.gateway import batches, proxied, services
from govshare.gateway.callers import Caller, caller_for_token
from govshare.gateway.choices import Service
from govshare.gateway.errors import ERRORS, GatewayError, catalogue
from govshare.gateway.recording import NotRecorded

logger = logging.getLogger(__name__)

PREFIX = "/gateway/v1/"  # the consumer systems' calls; the gateway's pages beside it are Django's
BODY_LIMIT = 64 * 1024
# The services by the last segment of their path: the platform's data, or the provider's own API (`proxied`).
_SERVICES = {**services.SERVICES, Service.CALL: proxied.call}
_SERVICE_PATH = re.compile(r"^/gateway/v1/resources/(\d{1,18})/(lookup|verify|query|call)$")
_BATCH_UPLOAD_PATH = re.compile(r"^/gateway/v1/resources/(\d{1,18})/batches$")
_BATCH_PATH = re.compile(r"^/gateway/v1/batches/(\d{1,18})(/result)?$")
FILE_CHUNK = 256 * 1024

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]] | Callable[..., Any]

_REASONS = {
    409: "Conflict",
    410: "Gone",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def with_gateway(django_app: WSGIApp) -> WSGIApp:
    """The platform's WSGI application: /gateway/v1/ on the gateway's path, everything else on Django's."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return gateway_app(environ, start_response)
        return django_app(environ, start_response)

    return application


def _language(environ: dict[str, Any]) -> str:
    return "en" if environ.get("HTTP_ACCEPT_LANGUAGE", "").lower().startswith("en") else "zh"


def _respond(
    start_response: StartResponse,
    status: int,
    payload: dict[str, Any],
    request_id: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("X-Request-Id", request_id),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    start_response(f"{status} {_REASONS.get(status, '')}".strip(), headers + (extra or []))
    return [body]


def _refusal(start_response: StartResponse, error: GatewayError, request_id: str, language: str) -> list[bytes]:
    kind = error.kind
    extra = []
    if kind.code == "UNAUTHENTICATED":
        extra.append(("WWW-Authenticate", 'Bearer realm="govshare-gateway"'))
    if kind.code == "QUOTA_EXCEEDED" and error.details.get("reset"):
        extra.append(("X-Quota-Reset", error.details["reset"]))
    payload = {"request_id": request_id, "error": {"code": kind.code, "message": error.message(language)}}
    return _respond(start_response, kind.status, payload, request_id, extra)


def _https(environ: dict[str, Any]) -> bool:
    if environ.get("wsgi.url_scheme") == "https":
        return True
    header: tuple[str, str] | None = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    return header is not None and environ.get(header[0], "") == header[1]


def _bearer(environ: dict[str, Any]) -> str:
    value = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError as error:
        raise GatewayError("INVALID_REQUEST", detail="Content-Length 不正确") from error
    if length > BODY_LIMIT:
        raise GatewayError("BODY_TOO_LARGE", detail=str(BODY_LIMIT))
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError) as error:
        raise GatewayError("INVALID_REQUEST", detail="请求体应为 UTF-8 编码的 JSON 对象") from error
    if not isinstance(body, dict):
        raise GatewayError("INVALID_REQUEST", detail="请求体应为 JSON 对象")
    return body


def _query(environ: dict[str, Any]) -> dict[str, str]:
    """The query string's parameters (the last of a repeated one)."""
    pairs = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True, max_num_fields=50)
    return dict(pairs)


def _length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError as error:
        raise GatewayError("INVALID_REQUEST", detail="Content-Length 不正确") from error


def _caller(environ: dict[str, Any], now: Any) -> Caller:
    if settings.GOVSHARE.production and not _https(environ):
        raise GatewayError("HTTPS_REQUIRED")
    token = _bearer(environ)
    caller = caller_for_token(token, now) if token else None
    if caller is None:
        raise GatewayError("UNAUTHENTICATED")
    return caller


class _FileBody:
    """A result file sent in chunks; closed by the server when the answer ends."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.handle.read(FILE_CHUNK):
            yield chunk

    def close(self) -> None:
        self.handle.close()


def _send_file(start_response: StartResponse, found: batches.ResultFile, request_id: str) -> Iterable[bytes]:
    handle = found.path.open("rb")
    size = found.path.stat().st_size
    headers = [
        ("Content-Type", found.content_type),
        ("Content-Length", str(size)),
        ("Content-Disposition", f'attachment; filename="{found.filename}"'),
        ("X-Request-Id", request_id),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    start_response("200 OK", headers)
    return _FileBody(handle)


def _batch_call(
    environ: dict[str, Any], start_response: StartResponse, request_id: str, call_holder: list[services.Call]
) -> Iterable[bytes] | None:
    """The batch comparison's routes, or None for another path."""
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    upload = _BATCH_UPLOAD_PATH.match(path)
    batch = _BATCH_PATH.match(path) if upload is None else None
    if upload is None and batch is None:
        return None
    if method != ("POST" if upload else "GET"):
        raise GatewayError("METHOD_NOT_ALLOWED", detail="POST" if upload else "GET")
    now = timezone.now()
    caller = _caller(environ, now)
    if upload is not None:
        service, resource_id = Service.BATCH_SUBMIT, int(upload[1])
    else:
        assert batch is not None
        service, resource_id = Service.BATCH_DOWNLOAD if batch[2] else Service.BATCH_STATUS, 0
    call = services.Call(request_id=request_id, caller=caller, service=service, resource_id=resource_id)
    call_holder.append(call)
    if not caller.may_call_from(str(environ.get("REMOTE_ADDR") or "")):
        raise GatewayError("ADDRESS_NOT_ALLOWED")
    query = _query(environ)
    if upload is not None:
        payload = batches.submit(
            call,
            query,
            environ["wsgi.input"],
            _length(environ),
            str(environ.get("CONTENT_TYPE", "")),
            today=scopes.clock(),
            now=now,
        )
        return _respond(start_response, 202, {"request_id": request_id, **payload}, request_id)
    assert batch is not None
    if service == Service.BATCH_STATUS:
        payload = batches.status(call, int(batch[1]), today=scopes.clock(), now=now)
        return _respond(start_response, 200, {"request_id": request_id, **payload}, request_id)
    found = batches.result(call, int(batch[1]), query, today=scopes.clock(), now=now)
    return _send_file(start_response, found, request_id)


def gateway_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    request_id = uuid.uuid4().hex
    language = _language(environ)
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    call: services.Call | None = None
    holder: list[services.Call] = []
    try:
        if path == "/gateway/v1/errors":
            if method != "GET":
                raise GatewayError("METHOD_NOT_ALLOWED", detail="GET")
            return _respond(start_response, 200, {"request_id": request_id, "errors": catalogue()}, request_id)
        try:
            answered = _batch_call(environ, start_response, request_id, holder)
        finally:
            call = holder[0] if holder else None
        if answered is not None:
            return answered
        match = _SERVICE_PATH.match(path)
        if match is None:
            raise GatewayError("NOT_FOUND", detail=path[:100])
        if method != "POST":
            raise GatewayError("METHOD_NOT_ALLOWED", detail="POST")
        now = timezone.now()
        caller = _caller(environ, now)
        call = services.Call(request_id=request_id, caller=caller, service=match[2], resource_id=int(match[1]))
        if not caller.may_call_from(str(environ.get("REMOTE_ADDR") or "")):
            raise GatewayError("ADDRESS_NOT_ALLOWED")
        body = _body(environ)
        payload = _SERVICES[match[2]](call, body, today=scopes.clock(), now=now)
        return _respond(start_response, 200, {"request_id": request_id, **payload}, request_id)
    except GatewayError as error:
        if call is not None and not call.recorded:
            _record_refusal(call, error)
        if call is not None and call.ended and caller_for_token(_bearer(environ), timezone.now()) is None:
            error = GatewayError("UNAUTHENTICATED")  # the token's credential or system is what ended
        return _refusal(start_response, error, request_id, language)
    except NotRecorded:
        return _refusal(start_response, GatewayError("UNAVAILABLE"), request_id, language)
    except DatabaseError:
        logger.exception("gateway call %s: database error", request_id)
        _reset_connection()
        return _refusal(start_response, GatewayError("UNAVAILABLE"), request_id, language)
    except Exception:
        logger.exception("gateway call %s failed", request_id)
        return _refusal(start_response, GatewayError("INTERNAL"), request_id, language)


def _record_refusal(call: services.Call, error: GatewayError) -> None:
    try:
        services.record_call(call, error.kind.code, admit=False, today=scopes.clock(), now=timezone.now())
    except (DatabaseError, NotRecorded):
        logger.exception("gateway call %s: its refusal could not be audited", call.request_id)
        _reset_connection()


def _reset_connection() -> None:
    try:
        connection.close()
    except DatabaseError:
        logger.exception("closing the database connection failed")


__all__ = ["ERRORS", "PREFIX", "Caller", "gateway_app", "with_gateway"]

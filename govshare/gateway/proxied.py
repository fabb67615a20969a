"""Calls proxied to a provider department's own HTTP API (代理调用, X-Road's pattern): the consumer system calls
`POST /gateway/v1/resources/<id>/call`, the gateway calls the provider's API registered for the resource
(`models.ProviderService`) with the provider's own credentials, maps the JSON answer's fields to the resource's
items and answers only the granted items, inside the grant's row filter, masked as the grant says.

The steps before and after the provider are a lookup's: the scenario, the grant chosen by system + scenario +
resource, the key's items within the grant, then the call's admission and audit row (outcome, rows, latency, the
key as a keyed hash). The provider's address, headers, credentials, status, body and error text never reach the
consumer, the log or the audit trail: a failure answers a stable code (PROVIDER_UNAVAILABLE 502, PROVIDER_TIMEOUT
504, PROVIDER_CIRCUIT_OPEN 503), is audited with that code as its outcome and counted on the service.

Each gateway process keeps a circuit breaker per provider service (thread-safe; not shared between processes):
after BREAKER_FAILURES consecutive failures within BREAKER_WINDOW_SECONDS it opens and answers
PROVIDER_CIRCUIT_OPEN at once, without calling the provider, for BREAKER_COOLDOWN_SECONDS; then it is half-open:
one trial call goes through (the others are still refused), whose success closes it and whose failure opens it
for another cool-down. So a dead provider holds a worker thread for at most its timeout, a few times a minute.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from django.db.models import F

from govshare.core import crypto
from govshare.dataplane.raw import SourceError
from govshare.gateway import selectors, services
from govshare.gateway.choices import Breaker, ProviderAuth
from govshare.gateway.errors import GatewayError
from govshare.gateway.models import ProviderService
from govshare.gateway.recording import Call
from govshare.sharing.system_grants import SystemGrant
from govshare.sources.connection_policy import PinnedTransport, ReadLimits, SourcePolicy

logger = logging.getLogger(__name__)

BREAKER_FAILURES = 5  # consecutive failures that open the breaker
BREAKER_WINDOW_SECONDS = 60.0  # ... within this long of the first of them
BREAKER_COOLDOWN_SECONDS = 30.0  # how long an open breaker refuses before it lets one trial call through
RESPONSE_LIMIT = 4 * 1024**2  # bytes of a provider's answer read at most (more is a failure)
TIMEOUT_MIN, TIMEOUT_MAX = 1.0, 30.0
SECRET_PURPOSE = "gateway.provider"  # noqa: S105 - the associated data of a provider's encrypted credential

# --------------------------------------------------------------------------------------------- quiet HTTP logs

_calling = threading.local()


class _QuietWhileProxying(logging.Filter):
    """httpx logs each request's URL (which holds the key) and httpcore each answer's headers (the provider's
    internals): not while this thread calls a provider. Attached to the loggers that emit them (a logger's filter
    applies to its own records only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_calling, "active", False)


for _name in ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_QuietWhileProxying())


# --------------------------------------------------------------------------------------------- mapping syntax

_SEGMENT = r"[^.\[\]\s]+"
_PATH = re.compile(rf"^(?:(?P<list>(?:{_SEGMENT}(?:\.{_SEGMENT})*)?)\[\]\.)?(?P<field>{_SEGMENT}(?:\.{_SEGMENT})*)$")
_PLACEHOLDER = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class FieldPath:
    """`data.records[].xm`: the records are the list at `data.records`, the item is each record's `xm`.
    `records` is None when the path has no `[]` (the answer is one record)."""

    records: tuple[str, ...] | None
    field: tuple[str, ...]


def parse_path(text: str) -> FieldPath | None:
    """The field path `text` spells, None when it is not one (see FieldPath)."""
    match = _PATH.match(text.strip())
    if match is None:
        return None
    records = match["list"]
    prefix = None if records is None else tuple(records.split(".")) if records else ()
    return FieldPath(prefix, tuple(match["field"].split(".")))


def path_parameters(path: str) -> list[str]:
    """The `{name}` parameters a path template names, in order."""
    return _PLACEHOLDER.findall(path)


def _walk(value: Any, names: tuple[str, ...]) -> Any:
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def map_records(answer: Any, mapping: Mapping[str, FieldPath]) -> list[dict[str, Any]]:
    """The records of a provider's JSON answer, each as {item: value} (a value that is no scalar is None).
    GatewayError(PROVIDER_UNAVAILABLE) when the records' list is something else than a list."""
    prefixes = {path.records for path in mapping.values()}
    prefix = next(iter(prefixes)) if len(prefixes) == 1 else None
    if prefix is None:
        records = [answer] if isinstance(answer, dict) else []
    else:
        found = _walk(answer, prefix) if prefix else answer
        if found is None:
            records = []
        elif not isinstance(found, list):
            raise GatewayError("PROVIDER_UNAVAILABLE")
        else:
            records = [record for record in found if isinstance(record, dict)]
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        for item, path in mapping.items():
            value = _walk(record, path.field)
            row[item] = value if isinstance(value, str | int | float) and not isinstance(value, bool) else None
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------- the breaker


@dataclass
class CircuitBreaker:
    """One provider service's breaker in this process. `clock`: time.monotonic (tests may give their own)."""

    failures: int = 0
    first_failure: float = 0.0
    open_until: float = 0.0  # > 0: open (until then), then half-open
    trial: bool = False  # the half-open trial call is in flight
    lock: threading.Lock = field(default_factory=threading.Lock)

    def state(self, now: float) -> str:
        if not self.open_until:
            return Breaker.CLOSED
        return Breaker.OPEN if now < self.open_until or self.trial else Breaker.HALF_OPEN

    def before(self, now: float) -> float:
        """0 when a call may go to the provider (as the half-open trial, if the breaker was open); otherwise the
        seconds until it may be tried."""
        with self.lock:
            if not self.open_until:
                return 0.0
            if now < self.open_until:
                return self.open_until - now
            if self.trial:
                return BREAKER_COOLDOWN_SECONDS
            self.trial = True
            return 0.0

    def succeeded(self) -> bool:
        """Close the breaker; True when it had failures to forget."""
        with self.lock:
            had = self.failures > 0 or bool(self.open_until)
            self.failures, self.open_until, self.trial = 0, 0.0, False
            return had

    def failed(self, now: float) -> bool:
        """Count a failure; True when the breaker opens with it."""
        with self.lock:
            if self.trial or self.open_until:
                self.trial = False
                self.open_until = now + BREAKER_COOLDOWN_SECONDS
                self.failures += 1
                return True
            if self.failures == 0 or now - self.first_failure > BREAKER_WINDOW_SECONDS:
                self.failures, self.first_failure = 1, now
            else:
                self.failures += 1
            if self.failures >= BREAKER_FAILURES:
                self.open_until = now + BREAKER_COOLDOWN_SECONDS
                return True
            return False


_breakers: dict[int, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_of(service_id: int) -> CircuitBreaker:
    breaker = _breakers.get(service_id)
    if breaker is None:
        with _breakers_lock:
            breaker = _breakers.setdefault(service_id, CircuitBreaker())
    return breaker


def breaker_state(service_id: int) -> str:
    """The breaker's state in this process (closed for a service this process never called)."""
    breaker = _breakers.get(service_id)
    return breaker.state(time.monotonic()) if breaker is not None else Breaker.CLOSED


def forget_breakers() -> None:
    """Every breaker closed and every cached registration dropped (tests; a process that starts afresh)."""
    with _breakers_lock:
        _breakers.clear()
        _services.clear()


# --------------------------------------------------------------------------------------------- the call


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    params: dict[str, str]  # request parameter → key item


def operations_of(service: ProviderService) -> list[Operation]:
    return [
        Operation(str(op["name"]), str(op["method"]).upper(), str(op["path"]), dict(op.get("params") or {}))
        for op in service.operations
    ]


def _operation(service: ProviderService, body: Mapping[str, Any]) -> Operation:
    operations = operations_of(service)
    name = body.get("operation")
    if name is None and len(operations) == 1:
        return operations[0]
    chosen = next((op for op in operations if op.name == name), None)
    if chosen is None:
        names = "、".join(op.name for op in operations)
        raise GatewayError("INVALID_REQUEST", detail=f"operation 应为提供部门接口的操作名称之一：{names}")
    return chosen


SERVICE_CACHE_SECONDS = 5.0  # a registration's change reaches every process within this long
_services: dict[int, tuple[ProviderService | None, float]] = {}


def forget_service(resource_id: int) -> None:
    """Drop the cached registration of the resource (this process; the others within SERVICE_CACHE_SECONDS)."""
    with _breakers_lock:
        _services.pop(resource_id, None)


def _provider_service(resource_id: int) -> ProviderService:
    hit = _services.get(resource_id)
    if hit is not None and time.monotonic() < hit[1]:
        service = hit[0]
    else:
        service = selectors.active_provider_service(resource_id)
        with _breakers_lock:
            if len(_services) > 10_000:
                _services.clear()
            _services[resource_id] = (service, time.monotonic() + SERVICE_CACHE_SECONDS)
    if service is None:
        raise GatewayError("NOT_PROXIED")
    return service


@dataclass(frozen=True)
class _Request:
    method: str
    url: str
    params: dict[str, str]
    headers: dict[str, str]
    auth: tuple[str, str] | None


def _request(service: ProviderService, operation: Operation, key: Mapping[str, str]) -> _Request:
    values = {param: key[item] for param, item in operation.params.items()}
    in_path = set(path_parameters(operation.path))
    path = _PLACEHOLDER.sub(lambda m: quote(values.get(m[1], ""), safe=""), operation.path)
    rest = {param: value for param, value in values.items() if param not in in_path}
    headers = {"Accept": "application/json"}
    auth = None
    if service.auth_kind != ProviderAuth.NONE and service.secret:
        secret = crypto.decrypt_text(service.secret, f"{SECRET_PURPOSE}:{service.resource_id}")
        if service.auth_kind == ProviderAuth.HEADER:
            headers[service.auth_name] = secret
        else:
            auth = (service.auth_name, secret)
    return _Request(operation.method, service.base_url.rstrip("/") + "/" + path.lstrip("/"), rest, headers, auth)


_ssl_contexts: list[ssl.SSLContext] = []


def _ssl_context() -> ssl.SSLContext:
    """The process's TLS context for providers (loading the CA bundle once; a context is safe to share)."""
    if not _ssl_contexts:
        with _breakers_lock:
            if not _ssl_contexts:
                _ssl_contexts.append(httpx.create_ssl_context())
    return _ssl_contexts[0]


def _fetch(request: _Request, timeout: float) -> Any:
    """The provider's JSON answer (None for a 404: no record). GatewayError for anything else."""
    limits = ReadLimits.starting_now(timeout, timeout_max=timeout, http_max_bytes=RESPONSE_LIMIT)
    transport = PinnedTransport(SourcePolicy.from_settings(), limits, _ssl_context())
    _calling.active = True
    try:
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False) as client:
            kwargs: dict[str, Any] = {"headers": request.headers, "auth": request.auth}
            if request.method == "GET":
                kwargs["params"] = request.params
            else:
                kwargs["json"] = request.params
            with client.stream(request.method, request.url, **kwargs) as response:
                if response.status_code == 404:
                    return None
                if not 200 <= response.status_code < 300:
                    raise GatewayError("PROVIDER_UNAVAILABLE")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > RESPONSE_LIMIT:
                        raise GatewayError("PROVIDER_UNAVAILABLE")
                    chunks.append(chunk)
    except httpx.TimeoutException as error:
        raise GatewayError("PROVIDER_TIMEOUT", detail=f"{timeout:g}") from error
    except (httpx.HTTPError, SourceError, OSError, ValueError) as error:
        raise GatewayError("PROVIDER_UNAVAILABLE") from error
    finally:
        _calling.active = False
    if limits.remaining() <= 0:
        raise GatewayError("PROVIDER_TIMEOUT", detail=f"{timeout:g}")
    try:
        return json.loads(b"".join(chunks).decode(response.encoding or "utf-8"))
    except (UnicodeDecodeError, LookupError, ValueError) as error:
        raise GatewayError("PROVIDER_UNAVAILABLE") from error


def _note_failure(service: ProviderService, code: str, opened: bool, now: dt.datetime) -> None:
    changes: dict[str, Any] = {
        "consecutive_failures": F("consecutive_failures") + 1,
        "last_failure_at": now,
        "last_failure_code": code,
    }
    if opened:
        changes["circuit_opened_at"] = now
    ProviderService.objects.filter(pk=service.pk).update(**changes)


def _note_success(service: ProviderService, had_failures: bool, now: dt.datetime) -> None:
    if had_failures or service.consecutive_failures:
        ProviderService.objects.filter(pk=service.pk).update(consecutive_failures=0, recovered_at=now)
        service.consecutive_failures = 0  # the cached row: no second write for the same recovery


def _provider_rows(call: Call, service: ProviderService, request: _Request, now: dt.datetime) -> Any:
    """The provider's answer through the service's breaker; failures counted (on the breaker and the service)."""
    breaker = breaker_of(service.pk)
    wait = breaker.before(time.monotonic())
    if wait > 0:
        raise GatewayError("PROVIDER_CIRCUIT_OPEN", detail=f"{max(1, round(wait))}")
    try:
        answer = _fetch(request, min(max(service.timeout_seconds, TIMEOUT_MIN), TIMEOUT_MAX))
    except Exception as error:
        # Whatever failed, the breaker counts it (a half-open trial must never stay in flight).
        code = error.kind.code if isinstance(error, GatewayError) else "INTERNAL"
        opened = breaker.failed(time.monotonic())
        # The request id and the code only: an exception's text may name the provider's URL with the key in it.
        logger.warning(
            "gateway call %s: provider service %s answered %s (%s)",
            call.request_id,
            service.pk,
            code,
            type(error.__cause__ or error).__name__,
        )
        _note_failure(service, code, opened, now)
        if not isinstance(error, GatewayError):
            raise GatewayError("PROVIDER_UNAVAILABLE") from None
        raise
    _note_success(service, breaker.succeeded(), now)
    return answer


def call(call: Call, body: Mapping[str, Any], *, today: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The granted items of the records the provider's API answers for the key, masked as the grant says."""
    grant: SystemGrant = services._granted(call, body, today)
    service = _provider_service(call.resource_id)
    operation = _operation(service, body)
    key = services._text_map(body, "key")
    services._require_granted(list(key), grant)
    if set(key) != set(operation.params.values()):
        wanted = "+".join(dict.fromkeys(operation.params.values()))
        raise GatewayError("KEY_NOT_SUPPORTED", detail="、".join(key), keys=wanted or "无")
    items = services._asked_items(body, grant)
    mapping = {item: path for item, text in service.mapping.items() if (path := parse_path(str(text))) is not None}
    call.key_hash = services.key_hash(tuple(key[item] for item in dict.fromkeys(operation.params.values())))
    call.items = sorted(items)
    if grant.daily_quota is not None and selectors.calls_today(grant.grant_id, today) >= grant.daily_quota:
        # The quota is counted again when the call is admitted; a spent one does not reach the provider.
        reset = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0))
        raise GatewayError("QUOTA_EXCEEDED", detail=str(grant.daily_quota), reset=reset.isoformat(timespec="minutes"))
    answer = _provider_rows(call, service, _request(service, operation, key), now)
    rows = [row for row in map_records(answer, mapping) if services._in_filter(row, grant.row_filter)]
    shown = [item for item in items if item in mapping]
    call.rows = len(rows[: services.ROW_LIMIT])
    services._admit(call, grant, today=today, now=now)
    return {
        "resource": call.resource_id,
        "scenario": call.scenario_id,
        "grant": grant.grant_id,
        "operation": operation.name,
        "count": call.rows,
        "truncated": len(rows) > services.ROW_LIMIT,
        "rows": [services._masked(row, shown, grant.masking) for row in rows[: services.ROW_LIMIT]],
    }


__all__ = [
    "BREAKER_COOLDOWN_SECONDS",
    "BREAKER_FAILURES",
    "BREAKER_WINDOW_SECONDS",
    "SECRET_PURPOSE",
    "TIMEOUT_MAX",
    "TIMEOUT_MIN",
    "CircuitBreaker",
    "FieldPath",
    "Operation",
    "breaker_state",
    "call",
    "forget_breakers",
    "forget_service",
    "map_records",
    "operations_of",
    "parse_path",
    "path_parameters",
]

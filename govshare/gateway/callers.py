"""Who is calling: the information system behind a client-credentials access token, kept per process for a short
while so that a call costs no token query. The cache is a convenience, never the authority: every call's admission
(`sharing.system_grants.admit_system_call`) checks the credential and the system again in the transaction that
records the call, and a refusal there drops the caller from the cache."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address

from govshare.identity.selectors import system_token

TOKEN_CACHE_SECONDS = 60.0
_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class Caller:
    system_id: int
    system_code: str
    system_name: str
    department_id: int
    application_id: int
    token_expires: dt.datetime
    # The system's allow-list of calling addresses (empty: any).
    networks: tuple[IPv4Network | IPv6Network, ...] = ()

    def may_call_from(self, address: str) -> bool:
        if not self.networks:
            return True
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    @property
    def audit_name(self) -> str:
        return f"system:{self.system_code}"


_cache: dict[str, tuple[Caller, float]] = {}
_lock = threading.Lock()


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def caller_for_token(raw_token: str, now: dt.datetime) -> Caller | None:
    """The token's caller, or None for a token that is unknown, expired, a person's, or of a revoked credential or a
    stopped system."""
    digest = _digest(raw_token)
    cached = _cache.get(digest)
    if cached is not None:
        caller, until = cached
        if time.monotonic() < until and now < caller.token_expires:
            return caller
    token = system_token(raw_token, now=now)
    if token is None:
        forget_token(raw_token)
        return None
    system = token.system
    caller = Caller(
        system_id=system.pk,
        system_code=system.code,
        system_name=system.name,
        department_id=system.department_id,
        application_id=token.application_id,
        token_expires=token.expires,
        networks=tuple(system.networks()),
    )
    with _lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[digest] = (caller, time.monotonic() + TOKEN_CACHE_SECONDS)
    return caller


def forget_token(raw_token: str) -> None:
    with _lock:
        _cache.pop(_digest(raw_token), None)


def forget_all() -> None:
    with _lock:
        _cache.clear()


def forget_caller(caller: Caller) -> None:
    """Drop every cached token of the caller's credential (its admission was refused: it may have ended)."""
    with _lock:
        for digest in [d for d, (c, _) in _cache.items() if c.application_id == caller.application_id]:
            _cache.pop(digest, None)

"""How API callers authenticate, declared per route by what the route does.

Every route declares one of the declarations below (a test checks it, and that a reading declaration sits on
GET routes only):

- `STAFF_READ`: a signed-in staff member reads: the browser session, or a bearer token of any scope;
- `STAFF_WRITE`: a signed-in staff member changes something: the session (with CSRF), or a bearer token whose
  scope allows writing (a read-only token answers 403 and says why).

Bearer tokens come in several kinds (personal tokens, OAuth access tokens); the apps that issue them register an
authenticator here (`register_bearer_authenticator`, from their `AppConfig.ready`), so that every app declares its
routes without knowing who issues tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class BearerAuthenticator:
    """Answers a bearer token it recognises with its subject (or None: not its token, or not valid).

    `write` says the route changes something; an authenticator whose token may only read refuses it (403)."""

    name: str
    authenticate: Callable[[HttpRequest, str, bool], Any]


_BEARERS: dict[str, BearerAuthenticator] = {}


def register_bearer_authenticator(authenticator: BearerAuthenticator) -> None:
    _BEARERS[authenticator.name] = authenticator


class StaffSessionAuth(APIKeyCookie):
    """Signed-in browser session; unsafe methods need the CSRF token like any Django form."""

    param_name = "sessionid"

    def __init__(self, *, write: bool) -> None:
        super().__init__(csrf=True)
        self.write = write

    def __call__(self, request: HttpRequest) -> Any:
        # django-ninja checks CSRF before it looks at the session, so a caller with no session at all (a script
        # with a missing or wrong token) was told 403 "CSRF check Failed". CSRF protects a signed-in browser's
        # cookie; without a signed-in session there is nothing to protect and the caller is simply not signed in.
        user = self.authenticate(request, request.COOKIES.get(self.param_name))
        if user is None:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(
                403,
                gettext(
                    "CSRF 校验失败：以登录会话调用会修改数据的接口须在请求头 X-CSRFToken 中带上 CSRF 令牌"
                    "（脚本请改用 API 令牌）"
                ),
            )
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


class StaffBearerAuth(HttpBearer):
    """`Authorization: Bearer …`: a token of any registered kind, acting for the person it was issued to."""

    def __init__(self, *, write: bool) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        write = self.write or request.method not in READ_METHODS
        for authenticator in _BEARERS.values():
            subject = authenticator.authenticate(request, token, write)
            if subject is not None:
                return subject
        return None


@dataclass(frozen=True)
class Declaration:
    """What a route asks of its caller; ninja receives `.auth` (the authenticators, tried in order)."""

    name: str
    write: bool

    @property
    def auth(self) -> list[Any]:
        return [StaffBearerAuth(write=self.write), StaffSessionAuth(write=self.write)]


def declared(auth: Any) -> Declaration | None:
    """The declaration a route's `auth=` came from (None for anything else)."""
    if isinstance(auth, list) and auth and all(isinstance(a, StaffBearerAuth | StaffSessionAuth) for a in auth):
        writes = {a.write for a in auth}
        if len(writes) == 1:
            return STAFF_WRITE_DECLARATION if writes.pop() else STAFF_READ_DECLARATION
    return None


STAFF_READ_DECLARATION = Declaration("STAFF_READ", write=False)
STAFF_WRITE_DECLARATION = Declaration("STAFF_WRITE", write=True)
STAFF_READ = STAFF_READ_DECLARATION.auth
STAFF_WRITE = STAFF_WRITE_DECLARATION.auth

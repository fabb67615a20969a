"""How API callers authenticate: the browser session (with CSRF) or a bearer token (personal, or an OIDC access
token with the `api` scope). A read-only personal token (scope `read`) opens the read routes only: any other method
than GET, HEAD or OPTIONS answers 403."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from govshare.accounts.choices import TokenScope
from govshare.accounts.services import TOKEN_PREFIX, token_for
from govshare.core.errors import PermissionDenied
from govshare.core.security import bearer_failure, check_bearer_allowed, mark_bearer
from govshare.identity.auth import OAuthTokenAuth


class SessionAuth(APIKeyCookie):
    """Signed-in browser session; unsafe methods need the CSRF token like any Django form."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_REFUSED = "该 API 令牌为只读令牌（范围：只读），只能调用读取接口；写操作请在“我的 API 令牌”页面创建读写令牌"


class TokenAuth(HttpBearer):
    """`Authorization: Bearer gs_…` personal API token, within its scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(TOKEN_PREFIX):
            return None  # an OAuth access token: OAuthTokenAuth checks the address and counts it if it is wrong
        # An address with too many wrong tokens is refused (429) before any token is looked up.
        check_bearer_allowed(request)
        found = token_for(token)
        if found is None:
            bearer_failure(request)
            return None
        if found.scope != TokenScope.WRITE and request.method not in READ_METHODS:
            raise PermissionDenied(READ_ONLY_REFUSED)
        request.user = found.user
        mark_bearer(request, "personal")
        return found.user


# The declaration used on every route that needs a signed-in user. OAuth access tokens of the platform's OIDC
# provider count only with the `api` scope and act as their user (govshare.identity.auth), never beyond its roles.
SIGNED_IN = [TokenAuth(), OAuthTokenAuth(), SessionAuth()]

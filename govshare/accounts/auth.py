"""How API callers authenticate: the browser session (with CSRF) or a personal bearer token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from govshare.accounts.services import TOKEN_PREFIX, user_for_token
from govshare.core.security import bearer_failure, check_bearer_allowed
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


class TokenAuth(HttpBearer):
    """`Authorization: Bearer gs_…` personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(TOKEN_PREFIX):
            return None  # an OAuth access token: OAuthTokenAuth checks the address and counts it if it is wrong
        # An address with too many wrong tokens is refused (429) before any token is looked up.
        check_bearer_allowed(request)
        user = user_for_token(token)
        if user is None:
            bearer_failure(request)
        else:
            request.user = user
        return user


# The declaration used on every route that needs a signed-in user. OAuth access tokens of the platform's OIDC
# provider count only with the `api` scope and act as their user (govshare.identity.auth), never beyond its roles.
SIGNED_IN = [TokenAuth(), OAuthTokenAuth(), SessionAuth()]

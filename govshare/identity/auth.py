"""OAuth access tokens on the platform API: a token with the `api` scope acts as its user (client credentials:
as the system account the administrator registered the client with), so it reaches exactly what that account's
roles reach and never more. Tokens without the `api` scope (a sign-in's `openid`) open no API route."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from oauth2_provider.models import AccessToken

from govshare.accounts.models import User
from govshare.accounts.services import TOKEN_PREFIX
from govshare.core.security import bearer_failure, check_bearer_allowed

API_SCOPE = "api"


def user_for_access_token(raw_token: str) -> User | None:
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = AccessToken.objects.select_related("user", "application__user").filter(token_checksum=checksum).first()
    if token is None or not token.is_valid([API_SCOPE]):
        return None
    user = token.user or token.application.user
    if not isinstance(user, User) or not user.is_active:
        return None
    return user


class OAuthTokenAuth(HttpBearer):
    """`Authorization: Bearer <OAuth access token>` issued by this platform with the `api` scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if token.startswith(TOKEN_PREFIX):
            return None  # a personal API token: TokenAuth has checked and counted it
        check_bearer_allowed(request)
        user = user_for_access_token(token)
        if user is None:
            bearer_failure(request)
        else:
            request.user = user
        return user

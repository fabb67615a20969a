"""OAuth access tokens on the platform API: a token with the `api` scope acts as the person who signed in and
consented (authorisation code), so it reaches exactly what that person's roles reach and never more. Tokens
without the `api` scope (a sign-in's `openid`) open no API route.

A token of the client-credentials grant has no person behind it: whoever the application's owner is (an account
the administrator once picked), it never acts as that account. Until machine clients get their own subject, the
API refuses such a token with 401 and says so."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop
from oauth2_provider.models import AccessToken, Application

from govshare.accounts.models import User
from govshare.accounts.services import TOKEN_PREFIX
from govshare.core.apiauth import BearerAuthenticator
from govshare.core.errors import Unauthenticated
from govshare.core.security import bearer_failure, check_bearer_allowed, mark_bearer

API_SCOPE = "api"
MACHINE_CLIENT_REFUSED = gettext_noop(
    "该访问令牌由客户端凭证方式签发，属于接入系统而不是具体的人，不能以任何账号的身份调用面向工作人员的平台 API；"
    "接入系统只能通过数据服务网关（/gateway/v1/）调用本部门已获授权的数据"
)


def user_for_access_token(raw_token: str) -> User | None:
    """The person an `api`-scope access token acts for, or None for an unknown, expired or narrower token.

    Raises Unauthenticated for a client-credentials token: it is genuine but acts for nobody."""
    checksum = hashlib.sha256(raw_token.encode()).hexdigest()
    token = AccessToken.objects.select_related("user", "application").filter(token_checksum=checksum).first()
    if token is None or not token.is_valid([API_SCOPE]):
        return None
    grant = token.application.authorization_grant_type if token.application else None
    if token.user is None or grant == Application.GRANT_CLIENT_CREDENTIALS:
        raise Unauthenticated(MACHINE_CLIENT_REFUSED)
    user = token.user
    if not isinstance(user, User) or not user.is_active:
        return None
    return user


def authenticate_access_token(request: HttpRequest, token: str, write: bool) -> Any:
    """`Authorization: Bearer <OAuth access token>` issued by this platform with the `api` scope (reads and writes
    like the person who consented)."""
    if token.startswith(TOKEN_PREFIX):
        return None  # a personal API token: its authenticator has checked and counted it
    check_bearer_allowed(request)
    user = user_for_access_token(token)
    if user is None:
        bearer_failure(request)
    else:
        request.user = user
        mark_bearer(request, "oauth")
    return user


ACCESS_TOKENS = BearerAuthenticator("oauth-access-token", authenticate_access_token)

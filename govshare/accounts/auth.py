"""Personal API tokens (`Authorization: Bearer gs_…`) as a bearer authenticator of the API's declarations
(govshare.core.apiauth). A read-only personal token (scope `read`) opens the reading routes only: a route declared
as writing, or any other method than GET, HEAD or OPTIONS, answers 403 and says why."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_noop

from govshare.accounts.choices import TokenScope
from govshare.accounts.services import TOKEN_PREFIX, token_for
from govshare.core.apiauth import BearerAuthenticator
from govshare.core.errors import PermissionDenied
from govshare.core.security import bearer_failure, check_bearer_allowed, mark_bearer

READ_ONLY_REFUSED = gettext_noop(
    "该 API 令牌为只读令牌（范围：只读），只能调用读取接口；写操作请在“我的 API 令牌”页面创建读写令牌"
)


def authenticate_personal_token(request: HttpRequest, token: str, write: bool) -> Any:
    if not token.startswith(TOKEN_PREFIX):
        return None  # not a personal token (an OAuth access token: its authenticator checks and counts it)
    # An address with too many wrong tokens is refused (429) before any token is looked up.
    check_bearer_allowed(request)
    found = token_for(token)
    if found is None:
        bearer_failure(request)
        return None
    if write and found.scope != TokenScope.WRITE:
        raise PermissionDenied(READ_ONLY_REFUSED)
    request.user = found.user
    mark_bearer(request, "personal")
    return found.user


PERSONAL_TOKENS = BearerAuthenticator("personal-token", authenticate_personal_token)

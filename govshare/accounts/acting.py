"""Who acts on a staff route or page: the signed-in staff member, typed.

Routes declared `STAFF_READ` / `STAFF_WRITE` (`govshare.core.apiauth`) and pages behind `login_required` admit
signed-in staff accounts only (a session, a personal token or an OAuth access token acting for its person), so the
subject behind such a request is always a `User`. Apps below accounts (audit, core) use
`govshare.core.authz.subject_of` instead.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_noop

from govshare.accounts.models import User
from govshare.core.authz import subject_of
from govshare.core.errors import Unauthenticated


def acting_user(request: HttpRequest) -> User:
    """The staff member a staff route or page acts for (401 if there is none: a route without a staff declaration)."""
    subject = subject_of(request)
    if not isinstance(subject, User):
        raise Unauthenticated(gettext_noop("未登录或令牌无效"))
    return subject

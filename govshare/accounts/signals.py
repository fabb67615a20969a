"""Every login, failed login and lockout is written to the audit trail; `credentials_ended` tells other apps that an
account's tokens must end (its password changed, it was deactivated)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import Signal, receiver
from django.http import HttpRequest

from govshare.accounts.lockout import client_address
from govshare.audit.services import record_action

# Sent (with `user` and `reason`) inside the transaction that revoked the account's personal tokens: the apps that
# issue other tokens for the account end theirs too (govshare.identity.signals: OIDC access and refresh tokens).
credentials_ended = Signal()
# Sent (with `user` and `role`) inside confirm_role_grant before a 安全管理员 or 审计员 role takes effect; a receiver
# refuses the grant by raising a DomainError (govshare.identity.signals: the account must not still sign in with a
# temporary password that an administrator set, and so knows).
separated_role_confirming = Signal()


def _address(request: HttpRequest | None) -> str:
    return client_address(request) if request is not None else ""


@receiver(user_logged_in, dispatch_uid="govshare.audit.login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        record_action(user, "accounts.session.login", user, address=_address(request))


@receiver(user_logged_out, dispatch_uid="govshare.audit.logout")
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    with transaction.atomic():
        record_action(user, "accounts.session.logout", user, address=_address(request))


@receiver(user_login_failed, dispatch_uid="govshare.audit.login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")[:150]
    with transaction.atomic():
        record_action(
            None,
            "accounts.session.login_fail",
            object_type="accounts.user",
            object_repr=username,
            username=username,
            address=_address(request),
            locked=bool(getattr(request, "axes_locked_out", False)),  # locked after (or during) this attempt
        )


@receiver(user_locked_out, dispatch_uid="govshare.audit.locked_out")
def audit_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    with transaction.atomic():
        record_action(
            None,
            "accounts.account.lock",
            object_type="accounts.user",
            object_repr=str(username or "")[:150],
            username=str(username or ""),
            address=str(ip_address or ""),
        )

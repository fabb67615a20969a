"""Audit rows of tokens issued to relying parties; the temporary-password mark copied into the session at login; the
end of an account's OIDC tokens when its credentials end (password changed, account deactivated); no 安全管理员 or
审计员 role for an account still on a temporary password an administrator set."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.signals import app_authorized

from govshare.accounts.signals import credentials_ended, separated_role_confirming
from govshare.audit.services import record_action
from govshare.core.errors import FieldProblem, ValidationFailed
from govshare.identity.middleware import MUST_CHANGE_PASSWORD
from govshare.identity.models import PasswordChangeRequired
from govshare.identity.selectors import note_credential_use


@receiver(app_authorized, dispatch_uid="govshare.identity.token_issued")
def audit_token_issued(sender: Any, request: HttpRequest, token: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        record_action(
            token.user,
            "identity.oidc_token.issue",
            token.application,
            client_id=token.application.client_id,
            grant_type=str(request.POST.get("grant_type", "")),
            scopes=token.scope.split(),
            subject=token.user.username if token.user else None,
            expires=token.expires.isoformat(),
        )
        if token.application is not None:
            note_credential_use(token.application_id, timezone.now())


@receiver(user_logged_in, dispatch_uid="govshare.identity.password_change_required")
def mark_password_change_required(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        if PasswordChangeRequired.objects.filter(user=user).exists():
            request.session[MUST_CHANGE_PASSWORD] = True
        else:
            request.session.pop(MUST_CHANGE_PASSWORD, None)


@receiver(credentials_ended, dispatch_uid="govshare.identity.end_oidc_tokens")
def end_oidc_tokens(sender: Any, user: Any, **kwargs: Any) -> None:
    """The account's OIDC access tokens are deleted and its refresh tokens revoked, in the caller's transaction: a
    relying party must sign the person in again."""
    RefreshToken.objects.filter(user=user, revoked__isnull=True).update(revoked=timezone.now())
    AccessToken.objects.filter(user=user).delete()


@receiver(separated_role_confirming, dispatch_uid="govshare.identity.no_separated_role_on_a_temporary_password")
def refuse_a_temporary_password(sender: Any, user: Any, role: str, **kwargs: Any) -> None:
    """The administrator who proposed the grant may have set the account's password: the person signs in and
    chooses their own before the role can be confirmed, so that nobody else knows the new role holder's password."""
    if PasswordChangeRequired.objects.filter(user=user).exists():
        raise ValidationFailed(
            [
                FieldProblem(
                    "user",
                    gettext("账号“%(user)s”仍在使用管理员设置的临时密码：请本人先登录并修改密码，再确认授予")
                    % {"user": user},
                )
            ],
            message=gettext_noop("暂不能确认授予"),
        )

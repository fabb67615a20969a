"""Every write of unified identity: relying parties, second factors and passwords, each audited in its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit.services import record_action
from govshare.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from govshare.identity.models import PasswordChangeRequired, TOTPDevice

GRANT_LABELS = {
    Application.GRANT_AUTHORIZATION_CODE: "授权码（用户单点登录）",
    Application.GRANT_CLIENT_CREDENTIALS: "客户端凭证（系统对接，不代表任何人）",
}
TOTP_DEVICE_NAME = "验证器应用"


def _require_platform_admin(actor: User | None) -> None:
    if actor is not None and Role.PLATFORM_ADMIN not in account_services.held_roles(actor):
        raise PermissionDenied("只有平台管理员可以管理接入系统和重置用户的认证方式")


# ------------------------------------------------------------------------------------------ relying parties


@dataclass(frozen=True)
class ClientInput:
    """A relying party. It has no owner account: an authorisation-code token acts as the person who signed in, and
    a client-credentials token acts as nobody (govshare.identity.auth), so no account is named here."""

    name: str
    grant_type: str = Application.GRANT_AUTHORIZATION_CODE
    redirect_uris: list[str] = field(default_factory=list)


def redirect_uri_problem(uri: str) -> str | None:
    parts = urlsplit(uri)
    allowed: list[str] = oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
    if parts.scheme not in allowed:
        return f"回调地址“{uri}”的协议应为 {' 或 '.join(allowed)}"
    if not parts.netloc:
        return f"回调地址“{uri}”缺少主机名"
    if parts.fragment:
        return f"回调地址“{uri}”不能含有“#”片段"
    return None


def _client_problems(data: ClientInput, *, exclude_pk: int | None = None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not data.name.strip():
        problems.append(FieldProblem("name", "接入系统名称不能为空"))
    elif Application.objects.filter(name=data.name.strip()).exclude(pk=exclude_pk).exists():
        problems.append(FieldProblem("name", f"接入系统“{data.name.strip()}”已登记"))
    if data.grant_type not in GRANT_LABELS:
        problems.append(FieldProblem("grant_type", "授权方式应为授权码或客户端凭证"))
    if data.grant_type == Application.GRANT_AUTHORIZATION_CODE and not data.redirect_uris:
        problems.append(FieldProblem("redirect_uris", "授权码方式至少需要一个回调地址"))
    for uri in data.redirect_uris:
        if problem := redirect_uri_problem(uri):
            problems.append(FieldProblem("redirect_uris", problem))
    return problems


@transaction.atomic
def register_client(data: ClientInput, *, actor: User | None) -> tuple[Application, str]:
    """Register a relying party; the raw client secret is returned once (only its hash is stored)."""
    _require_platform_admin(actor)
    if problems := _client_problems(data):
        raise ValidationFailed(problems)
    secret = generate_client_secret()
    client = Application(
        name=data.name.strip(),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=data.grant_type,
        redirect_uris=" ".join(data.redirect_uris),
        client_secret=secret,
        skip_authorization=False,
        algorithm=Application.RS256_ALGORITHM,
    )
    client.save()
    record_action(
        actor,
        "oidc.client.register",
        client,
        client_id=client.client_id,
        grant_type=data.grant_type,
        redirect_uris=data.redirect_uris,
    )
    return client, secret


@transaction.atomic
def update_client(
    client: Application, data: ClientInput, *, skip_authorization: bool, actor: User | None
) -> Application:
    """Change a relying party's name, callback addresses and whether its users see the consent page."""
    _require_platform_admin(actor)
    if data.grant_type != client.authorization_grant_type:
        raise ValidationFailed([FieldProblem("grant_type", "已登记系统的授权方式不能修改，请重新登记")])
    if problems := _client_problems(data, exclude_pk=client.pk):
        raise ValidationFailed(problems)
    before = {
        "name": client.name,
        "redirect_uris": client.redirect_uris.split(),
        "skip_authorization": client.skip_authorization,
    }
    client.name = data.name.strip()
    client.redirect_uris = " ".join(data.redirect_uris)
    client.skip_authorization = skip_authorization
    client.save(update_fields=["name", "redirect_uris", "skip_authorization", "updated"])
    record_action(actor, "oidc.client.update", client, before=before)
    return client


# ------------------------------------------------------------------------------------------ second factor


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


@transaction.atomic
def start_totp_enrolment(user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator key for the user (replacing an earlier unconfirmed one)."""
    if confirmed_totp_device(user) is not None:
        raise Conflict("已启用二次验证；如需更换验证器，请先停用")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    record_action(user, "user.totp.enrol.start", user)
    return device


@transaction.atomic
def confirm_totp_enrolment(user: User, code: str) -> TOTPDevice:
    """The user proves the authenticator works by typing its current code; from then on login asks for one."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationFailed([FieldProblem("code", "没有待确认的验证器，请重新开始绑定")])
    if not device.verify_token(code.strip()):
        raise ValidationFailed([FieldProblem("code", "验证码不正确，请输入验证器应用中当前显示的6位数字")])
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_action(user, "user.totp.enable", user)
    return device


@transaction.atomic
def verify_second_factor(user: User, code: str) -> TOTPDevice | None:
    """The user's confirmed device if `code` is its current code (each code is accepted once), else None."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not code.strip().isdigit() or not device.verify_token(code.strip()):
        return None
    return device


@transaction.atomic
def disable_totp(user: User, code: str) -> None:
    """The user turns the second factor off, proving it with a current code."""
    if verify_second_factor(user, code) is None:
        raise ValidationFailed([FieldProblem("code", "验证码不正确，请输入验证器应用中当前显示的6位数字")])
    TOTPDevice.objects.filter(user=user).delete()
    record_action(user, "user.totp.disable", user)


@transaction.atomic
def reset_second_factor(user: User, *, actor: User | None) -> bool:
    """An administrator removes a user's authenticator (lost phone); True if there was one. Never one of an account
    holding another separated role (三员分立: the operator resets those with `govshare separated_roles`)."""
    _require_platform_admin(actor)
    account_services.require_may_administer(actor, user, "二次验证")
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        record_action(actor, "user.totp.reset", user)
    return bool(deleted)


# ------------------------------------------------------------------------------------------ passwords


def must_change_password(user: User) -> bool:
    return PasswordChangeRequired.objects.filter(user=user).exists()


@transaction.atomic
def require_password_change(user: User, *, actor: User | None) -> None:
    """The user's password (set by an administrator) is temporary: it must be changed at next login."""
    _require_platform_admin(actor)
    account_services.require_may_administer(actor, user, "密码")
    PasswordChangeRequired.objects.update_or_create(user=user, defaults={"set_by": actor})
    record_action(actor, "user.password.temporary", user)


@transaction.atomic
def set_temporary_password(user: User, password: str, *, actor: User | None) -> None:
    """An administrator resets a user's password; the user must choose a new one at next login."""
    account_services.set_user_password(user, password, actor=actor)
    require_password_change(user, actor=actor)


@transaction.atomic
def change_own_password(user: User, old_password: str, new_password: str) -> None:
    """The user changes their own password: the current one must be right, the new one pass the validators. The
    account's tokens (personal and OIDC) end with the old password."""
    problems: list[FieldProblem] = []
    if not user.check_password(old_password):
        problems.append(FieldProblem("old_password", "当前密码不正确"))
    elif old_password == new_password:
        problems.append(FieldProblem("new_password1", "新密码不能与当前密码相同"))
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        problems.extend(FieldProblem("new_password1", message) for message in exc.messages)
    if problems:
        raise ValidationFailed(problems)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    PasswordChangeRequired.objects.filter(user=user).delete()
    record_action(user, "user.password.change", user)
    account_services.revoke_user_tokens(user, actor=user, reason="password")

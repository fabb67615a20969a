"""Every write of unified identity: relying parties, second factors and passwords, each audited in its transaction."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from ipaddress import ip_network
from urllib.parse import urlsplit

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import AccessToken, Application
from oauth2_provider.settings import oauth2_settings

from govshare.accounts import services as account_services
from govshare.accounts.choices import Role
from govshare.accounts.models import Department, User
from govshare.audit.services import record_action
from govshare.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from govshare.identity.access import SYSTEM_MANAGERS_ONLY, permits_system_management
from govshare.identity.choices import Hosting, ProtectionLevel
from govshare.identity.models import InformationSystem, PasswordChangeRequired, SystemCredential, TOTPDevice

GRANT_LABELS = {
    Application.GRANT_AUTHORIZATION_CODE: gettext_lazy("授权码（用户单点登录）"),
    Application.GRANT_CLIENT_CREDENTIALS: gettext_lazy("客户端凭证（系统对接，不代表任何人）"),
}
TOTP_DEVICE_NAME = "验证器应用"


def _require_platform_admin(actor: User | None) -> None:
    if actor is not None and Role.PLATFORM_ADMIN not in account_services.held_roles(actor):
        raise PermissionDenied(gettext_noop("只有平台管理员可以管理接入系统和重置用户的认证方式"))


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
        return gettext("回调地址“%(uri)s”的协议应为 %(schemes)s") % {
            "uri": uri,
            "schemes": gettext(" 或 ").join(allowed),
        }
    if not parts.netloc:
        return gettext("回调地址“%(uri)s”缺少主机名") % {"uri": uri}
    if parts.fragment:
        return gettext("回调地址“%(uri)s”不能含有“#”片段") % {"uri": uri}
    return None


def _client_problems(data: ClientInput, *, exclude_pk: int | None = None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not data.name.strip():
        problems.append(FieldProblem("name", gettext_noop("接入系统名称不能为空")))
    elif Application.objects.filter(name=data.name.strip()).exclude(pk=exclude_pk).exists():
        problems.append(FieldProblem("name", gettext("接入系统“%(name)s”已登记") % {"name": data.name.strip()}))
    if data.grant_type not in GRANT_LABELS:
        problems.append(FieldProblem("grant_type", gettext_noop("授权方式应为授权码或客户端凭证")))
    if data.grant_type == Application.GRANT_AUTHORIZATION_CODE and not data.redirect_uris:
        problems.append(FieldProblem("redirect_uris", gettext_noop("授权码方式至少需要一个回调地址")))
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
        "identity.oidc_client.register",
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
        raise ValidationFailed([FieldProblem("grant_type", gettext_noop("已登记系统的授权方式不能修改，请重新登记"))])
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
    record_action(actor, "identity.oidc_client.update", client, before=before)
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
        raise Conflict(gettext_noop("已启用二次验证；如需更换验证器，请先停用"))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    record_action(user, "identity.totp.enrol", user)
    return device


@transaction.atomic
def confirm_totp_enrolment(user: User, code: str) -> TOTPDevice:
    """The user proves the authenticator works by typing its current code; from then on login asks for one."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationFailed([FieldProblem("code", gettext_noop("没有待确认的验证器，请重新开始绑定"))])
    if not device.verify_token(code.strip()):
        raise ValidationFailed(
            [FieldProblem("code", gettext_noop("验证码不正确，请输入验证器应用中当前显示的6位数字"))]
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_action(user, "identity.totp.enable", user)
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
        raise ValidationFailed(
            [FieldProblem("code", gettext_noop("验证码不正确，请输入验证器应用中当前显示的6位数字"))]
        )
    TOTPDevice.objects.filter(user=user).delete()
    record_action(user, "identity.totp.disable", user)


@transaction.atomic
def reset_second_factor(user: User, *, actor: User | None) -> bool:
    """An administrator removes a user's authenticator (lost phone); True if there was one. Never one of an account
    holding another separated role (三员分立: the operator resets those with `govshare separated_roles`)."""
    _require_platform_admin(actor)
    account_services.require_may_administer(actor, user, gettext_noop("二次验证"))
    deleted, _ = TOTPDevice.objects.filter(user=user).delete()
    if deleted:
        record_action(actor, "identity.totp.reset", user)
    return bool(deleted)


# ------------------------------------------------------------------------------------------ passwords


def must_change_password(user: User) -> bool:
    return PasswordChangeRequired.objects.filter(user=user).exists()


@transaction.atomic
def require_password_change(user: User, *, actor: User | None) -> None:
    """The user's password (set by an administrator) is temporary: it must be changed at next login."""
    _require_platform_admin(actor)
    account_services.require_may_administer(actor, user, gettext_noop("密码"))
    PasswordChangeRequired.objects.update_or_create(user=user, defaults={"set_by": actor})
    record_action(actor, "identity.password.set_temporary", user)


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
        problems.append(FieldProblem("old_password", gettext_noop("当前密码不正确")))
    elif old_password == new_password:
        problems.append(FieldProblem("new_password1", gettext_noop("新密码不能与当前密码相同")))
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        problems.extend(FieldProblem("new_password1", message) for message in exc.messages)
    if problems:
        raise ValidationFailed(problems)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    PasswordChangeRequired.objects.filter(user=user).delete()
    record_action(user, "identity.password.change", user)
    account_services.revoke_user_tokens(user, actor=user, reason="password")


# ------------------------------------------------------------------------------------------ information systems

SYSTEM_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$")
PHONE_PATTERN = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")


@dataclass(frozen=True)
class SystemInput:
    """An information system of a department (接入系统); `code` is fixed once registered."""

    code: str
    name: str
    department: Department
    purpose: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    protection_level: str = ProtectionLevel.UNRATED
    hosting: str = Hosting.UNKNOWN
    allowed_networks: str = ""


MAX_NETWORKS = 100


def network_lines(text: str) -> list[str]:
    """The allow-list's lines, each in canonical form (192.168.1.0/24), without blanks and repeats."""
    lines = [line.strip() for line in text.replace(",", "\n").replace("，", "\n").splitlines()]
    return list(dict.fromkeys(str(ip_network(line, strict=False)) for line in lines if line))


def _network_problems(text: str) -> list[FieldProblem]:
    lines = [line.strip() for line in text.replace(",", "\n").replace("，", "\n").splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        try:
            ip_network(line, strict=False)
        except ValueError:
            return [
                FieldProblem(
                    "allowed_networks",
                    gettext("调用来源地址第 %(n)s 行“%(line)s”不是 IP 地址或网段（如 10.1.2.0/24）")
                    % {"n": number, "line": line[:60]},
                )
            ]
    if len(lines) > MAX_NETWORKS:
        return [FieldProblem("allowed_networks", gettext("调用来源地址最多 %(n)s 行") % {"n": MAX_NETWORKS})]
    return []


def _system_problems(data: SystemInput, *, exclude_pk: int | None = None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    others = InformationSystem.objects.exclude(pk=exclude_pk) if exclude_pk is not None else InformationSystem.objects
    code = data.code.strip()
    if not SYSTEM_CODE_PATTERN.match(code):
        problems.append(
            FieldProblem(
                "code", gettext("系统编码“%(code)s”应为 2–40 位字母、数字或连字符，且以字母或数字开头") % {"code": code}
            )
        )
    elif others.filter(code__iexact=code).exists():
        problems.append(FieldProblem("code", gettext("系统编码“%(code)s”已被登记") % {"code": code}))
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("name", gettext_noop("系统名称不能为空")))
    elif len(name) > 100:
        problems.append(FieldProblem("name", gettext("系统名称最多 100 个字，实际 %(n)s 个字") % {"n": len(name)}))
    elif others.filter(department=data.department, name=name).exists():
        problems.append(FieldProblem("name", gettext("本部门已登记名为“%(name)s”的接入系统") % {"name": name}))
    if not data.department.is_active:
        problems.append(
            FieldProblem(
                "department", gettext("部门“%(name)s”已停用，不能登记接入系统") % {"name": data.department.name}
            )
        )
    if len(data.contact_name.strip()) > 50:
        problems.append(FieldProblem("contact_name", gettext_noop("技术联系人姓名最多 50 个字")))
    phone = data.contact_phone.strip()
    if phone and not PHONE_PATTERN.match(phone):
        problems.append(
            FieldProblem(
                "contact_phone", gettext("联系电话“%(phone)s”应为 11 位手机号或带区号的固定电话") % {"phone": phone}
            )
        )
    if data.protection_level not in ProtectionLevel.values:
        problems.append(FieldProblem("protection_level", gettext_noop("等保级别应为第一级至第五级或未定级")))
    if data.hosting not in Hosting.values:
        problems.append(FieldProblem("hosting", gettext_noop("部署方式应为政务云或非政务云")))
    problems.extend(_network_problems(data.allowed_networks))
    return problems


def _require_system_manager(actor: User, department_id: int) -> None:
    if not permits_system_management(actor, department_id):
        raise PermissionDenied(SYSTEM_MANAGERS_ONLY)


@transaction.atomic
def register_information_system(data: SystemInput, *, actor: User) -> InformationSystem:
    """Register a department's information system (its department's catalogue administrators, or the platform
    administrator for any department)."""
    _require_system_manager(actor, data.department.pk)
    if problems := _system_problems(data):
        raise ValidationFailed(problems, gettext_noop("接入系统信息有误"))
    system = InformationSystem.objects.create(
        code=data.code.strip(),
        name=data.name.strip(),
        department=data.department,
        purpose=data.purpose.strip(),
        contact_name=data.contact_name.strip(),
        contact_phone=data.contact_phone.strip(),
        protection_level=data.protection_level,
        hosting=data.hosting,
        allowed_networks="\n".join(network_lines(data.allowed_networks)),
        created_by=actor,
    )
    record_action(actor, "identity.system.register", system, department=data.department.code)
    return system


@transaction.atomic
def update_information_system(system: InformationSystem, data: SystemInput, *, actor: User) -> InformationSystem:
    """Change a system's name, purpose, contact, 等保 level and hosting; its code and department stay (grants are
    bound to them)."""
    system = InformationSystem.objects.select_for_update().get(pk=system.pk)
    _require_system_manager(actor, system.department_id)
    if data.code.strip() != system.code or data.department.pk != system.department_id:
        raise ValidationFailed(
            [FieldProblem("code", gettext_noop("已登记接入系统的编码和所属部门不能修改，请登记新系统"))]
        )
    if problems := _system_problems(data, exclude_pk=system.pk):
        raise ValidationFailed(problems, gettext_noop("接入系统信息有误"))
    fields = ("name", "purpose", "contact_name", "contact_phone", "protection_level", "hosting", "allowed_networks")
    before = {name: getattr(system, name) for name in fields}
    for name in fields:
        setattr(system, name, str(getattr(data, name)).strip())
    system.allowed_networks = "\n".join(network_lines(data.allowed_networks))
    system.save(update_fields=[*fields, "updated_at"])
    changed = {
        name: {"from": before[name], "to": getattr(system, name)}
        for name in fields
        if before[name] != getattr(system, name)
    }
    record_action(actor, "identity.system.update", system, changes=changed)
    return system


@transaction.atomic
def issue_system_credential(system: InformationSystem, *, actor: User) -> tuple[SystemCredential, str]:
    """A new client-credentials application for the system; the raw secret is returned once (only its hash is
    stored). A system may hold several (to rotate without downtime): revoke the old one after switching."""
    system = InformationSystem.objects.select_for_update().get(pk=system.pk)
    _require_system_manager(actor, system.department_id)
    if not system.is_active:
        raise Conflict(gettext("接入系统“%(system)s”已停用，不能签发凭证") % {"system": system})
    secret = generate_client_secret()
    number = system.credentials.count() + 1
    application = Application(
        name=f"{system.name}（{system.code}）凭证 {number}",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
        client_secret=secret,
        skip_authorization=True,
        algorithm=Application.RS256_ALGORITHM,
    )
    application.save()
    credential = SystemCredential.objects.create(system=system, application=application, created_by=actor)
    record_action(actor, "identity.credential.issue", system, client_id=application.client_id)
    return credential, secret


def _disable_credential(credential: SystemCredential, now: dt.datetime) -> None:
    application = credential.application
    # A secret nobody knows (stored hashed like any other): the client can no longer obtain tokens.
    application.client_secret = generate_client_secret()
    application.save(update_fields=["client_secret", "updated"])
    AccessToken.objects.filter(application=application).delete()
    credential.revoked_at = now
    credential.save(update_fields=["revoked_at"])


@transaction.atomic
def revoke_system_credential(credential: SystemCredential, *, actor: User, now: dt.datetime | None = None) -> None:
    """End a credential at once: its tokens stop working and no new ones are issued to it."""
    credential = (
        SystemCredential.objects.select_for_update().select_related("system", "application").get(pk=credential.pk)
    )
    _require_system_manager(actor, credential.system.department_id)
    if credential.revoked_at is not None:
        raise Conflict(gettext_noop("该凭证已吊销"))
    _disable_credential(credential, now or timezone.now())
    record_action(actor, "identity.credential.revoke", credential.system, client_id=credential.application.client_id)


@transaction.atomic
def deactivate_information_system(
    system: InformationSystem, *, actor: User, reason: str, now: dt.datetime | None = None
) -> InformationSystem:
    """Stop a system: every credential is revoked and it no longer counts as a subject."""
    system = InformationSystem.objects.select_for_update().get(pk=system.pk)
    _require_system_manager(actor, system.department_id)
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", gettext_noop("请填写停用原因"))])
    if not system.is_active:
        raise Conflict(gettext("接入系统“%(system)s”已停用") % {"system": system})
    moment = now or timezone.now()
    for credential in system.credentials.select_related("application").filter(revoked_at__isnull=True):
        _disable_credential(credential, moment)
    system.is_active = False
    system.deactivated_at = moment
    system.deactivate_reason = reason.strip()[:500]
    system.save(update_fields=["is_active", "deactivated_at", "deactivate_reason", "updated_at"])
    record_action(actor, "identity.system.deactivate", system, reason=reason.strip())
    return system


# ------------------------------------------------------------------------------------------ credential rotation

DEFAULT_ROTATION_OVERLAP = dt.timedelta(days=7)
MAX_ROTATION_OVERLAP = dt.timedelta(days=30)


@transaction.atomic
def rotate_system_credential(
    credential: SystemCredential,
    *,
    actor: User,
    overlap: dt.timedelta = DEFAULT_ROTATION_OVERLAP,
    now: dt.datetime | None = None,
) -> tuple[SystemCredential, str]:
    """Issue the system a successor of `credential` (its raw secret returned once) and let the old one work for
    `overlap` more (0 to 30 days), so the system switches without downtime; after that the old one is refused at
    token issue and at each use, and `end_expired_credentials` revokes it."""
    credential = (
        SystemCredential.objects.select_for_update().select_related("system", "application").get(pk=credential.pk)
    )
    _require_system_manager(actor, credential.system.department_id)
    moment = now or timezone.now()
    if not credential.usable_at(moment):
        raise Conflict("该凭证已吊销或已过期，不能轮换；请直接签发新凭证")
    if credential.expires_at is not None:
        raise Conflict("该凭证已在轮换过渡期，新凭证已经签发")
    if overlap < dt.timedelta(0) or overlap > MAX_ROTATION_OVERLAP:
        raise ValidationFailed([FieldProblem("overlap", "过渡期应在 0 至 30 天之间")])
    successor, secret = issue_system_credential(credential.system, actor=actor)
    credential.expires_at = moment + overlap
    credential.replaced_by = successor
    credential.save(update_fields=["expires_at", "replaced_by"])
    if overlap == dt.timedelta(0):
        _disable_credential(credential, moment)
    record_action(
        actor,
        "identity.credential.rotate",
        credential.system,
        client_id=credential.application.client_id,
        new_client_id=successor.application.client_id,
        expires_at=credential.expires_at.isoformat(),
    )
    return successor, secret


@transaction.atomic
def end_expired_credentials(*, now: dt.datetime | None = None) -> int:
    """Revoke every credential whose rotation overlap has passed (its secret replaced, its tokens deleted), each
    with an audit row; the number revoked. Refusal does not wait for this: an expired credential is refused at
    token issue and use from its `expires_at` on."""
    moment = now or timezone.now()
    expired = (
        SystemCredential.objects.select_for_update()
        .select_related("system", "application")
        .filter(revoked_at__isnull=True, expires_at__lte=moment)
    )
    count = 0
    for credential in expired:
        _disable_credential(credential, moment)
        record_action(
            None,
            "identity.credential.expire",
            credential.system,
            client_id=credential.application.client_id,
            expired_at=credential.expires_at.isoformat() if credential.expires_at else None,
        )
        count += 1
    return count

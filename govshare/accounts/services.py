"""Every write to departments, users, roles and tokens; each writes its audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from govshare.accounts.choices import (
    CONFIRMED_BY,
    SEPARATED_ROLES,
    DepartmentLevel,
    Role,
    RoleGrantStatus,
    TokenScope,
)
from govshare.accounts.models import ApiToken, Department, RoleGrantRequest, User, UserRole
from govshare.accounts.signals import credentials_ended, separated_role_confirming
from govshare.audit.services import record_action
from govshare.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from govshare.core.identifiers import uscc_problem
from govshare.core.regions import region_code_problem
from govshare.core.text import join_names

TOKEN_PREFIX = "gs_"  # noqa: S105 (a public prefix, not a secret)


@dataclass(frozen=True)
class DepartmentInput:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    short_name: str = ""
    region_code: str = ""


def held_roles(user: User) -> frozenset[str]:
    """The roles the account holds now, read from the database, never from a cached set (a role changed earlier in
    the same request or admin save must count); the instance's cache is refreshed with them."""
    roles: frozenset[str] = frozenset()
    if user.pk:
        roles = frozenset(UserRole.objects.filter(user_id=user.pk).values_list("role", flat=True))
    user._role_cache = roles
    return roles


def _require_platform_admin(actor: User | None) -> None:
    # actor None means the platform itself (a management command run by the operator on the server).
    if actor is not None and Role.PLATFORM_ADMIN not in held_roles(actor):
        raise PermissionDenied(gettext_noop("只有平台管理员可以管理部门、用户和角色"))


def _role(role: str) -> str:
    """A role's name in the reader's language (role labels are Chinese, the permission vocabulary)."""
    return gettext(str(Role(role).label))


def _separated_roles_of(user: User) -> frozenset[str]:
    return held_roles(user) & SEPARATED_ROLES


def require_may_administer(actor: User | None, user: User, what: str) -> None:
    """三员分立 across accounts: a holder of one separated role never administers the password, second factor,
    tokens, roles or activation of an account holding another separated role. The account's holder changes their
    own; the operator does the rest on the server (`govshare separated_roles`)."""
    if actor is None or actor.pk == user.pk:
        return
    foreign = _separated_roles_of(user) - _separated_roles_of(actor)
    if foreign:
        label = join_names(_role(r) for r in Role.values if r in foreign)
        raise PermissionDenied(
            gettext(
                "三员分立：不能管理%(role)s账号“%(user)s”的%(what)s；由本人自行办理，"
                "或由运维人员在服务器上运行 govshare separated_roles 办理"
            )
            % {"role": label, "user": user, "what": gettext(what)}
        )


def _department_problems(data: DepartmentInput, *, stored_region_code: str = "") -> list[FieldProblem]:
    """The department's fields against the rules. A region code must be a GB/T 2260 code of some revision; one
    stored before that check (`stored_region_code`) is not judged again until it is changed."""
    problems: list[FieldProblem] = []
    if problem := uscc_problem(data.code):
        problems.append(FieldProblem("code", gettext("部门代码无效：%(problem)s") % {"problem": gettext(problem)}))
    if not data.name.strip():
        problems.append(FieldProblem("name", gettext_noop("部门名称不能为空")))
    if data.level not in DepartmentLevel.values:
        problems.append(
            FieldProblem(
                "level",
                gettext("层级“%(level)s”无效，应为：%(allowed)s")
                % {"level": data.level, "allowed": join_names(DepartmentLevel.labels)},
            )
        )
    changed_region = data.region_code and data.region_code != stored_region_code
    if changed_region and (problem := region_code_problem(data.region_code)):
        problems.append(FieldProblem("region_code", problem))
    return problems


@transaction.atomic
def create_department(data: DepartmentInput, *, actor: User | None) -> Department:
    _require_platform_admin(actor)
    problems = _department_problems(data)
    parent = None
    if data.parent_code:
        parent = Department.objects.filter(code=data.parent_code).first()
        if parent is None:
            problems.append(
                FieldProblem("parent_code", gettext("上级部门代码“%(code)s”不存在") % {"code": data.parent_code})
            )
    if problems:
        raise ValidationFailed(problems)
    if Department.objects.filter(code=data.code).exists():
        raise Conflict(gettext("部门代码“%(code)s”已被使用") % {"code": data.code})
    if Department.objects.filter(name=data.name.strip()).exists():
        raise Conflict(gettext("部门名称“%(name)s”已存在") % {"name": data.name})
    department = Department.objects.create(
        code=data.code,
        name=data.name.strip(),
        short_name=data.short_name,
        level=data.level,
        parent=parent,
        region_code=data.region_code,
    )
    record_action(actor, "accounts.department.create", department, code=department.code)
    return department


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    full_name: str,
    department: Department | None,
    roles: list[str],
    actor: User | None,
    email: str = "",
) -> User:
    """Create an account with its roles; a 安全管理员 or 审计员 role asked for by an administrator becomes a pending
    grant (request_role), granted only when a holder of the other separated role confirms it."""
    _require_platform_admin(actor)
    if User.objects.filter(username=username).exists():
        raise Conflict(gettext("账号“%(username)s”已存在") % {"username": username})
    user = User(username=username, full_name=full_name, department=department, email=email)
    user.set_password(password)
    user.save()
    record_action(actor, "accounts.user.create", user, department=department.code if department else None)
    for role in roles:
        request_role(user, role, actor=actor)
    return user


def request_role(user: User, role: str, *, actor: User | None) -> RoleGrantRequest | None:
    """What the back office's role checkbox does: grant the role at once, or, for a 安全管理员 or 审计员 role asked
    for by an administrator (not the operator), propose it for confirmation; returns the pending grant then."""
    if actor is not None and role in CONFIRMED_BY:
        return propose_role_grant(user, role, actor=actor)
    assign_role(user, role, actor=actor)
    return None


@transaction.atomic
def assign_role(user: User, role: str, *, actor: User | None) -> UserRole:
    """Grant a role at once. 安全管理员 and 审计员 are granted so only by the operator (actor None: a command run on
    the server); an administrator proposes them (propose_role_grant) and another separated role confirms."""
    _require_platform_admin(actor)
    if actor is not None:
        if role in CONFIRMED_BY:
            raise PermissionDenied(
                gettext("三员分立：授予%(role)s须两人办理，由平台管理员提出申请，再由%(confirmer)s确认")
                % {"role": _role(role), "confirmer": _role(CONFIRMED_BY[role])}
            )
        require_may_administer(actor, user, gettext_noop("角色"))
    return _grant_role(user, role, actor=actor)


def _require_grantable(user: User, role: str) -> None:
    """The account does not hold the role yet and, 三员分立, no other separated role (held now)."""
    held = held_roles(user)
    if role in held:
        raise Conflict(gettext("用户“%(user)s”已拥有角色“%(role)s”") % {"user": user, "role": _role(role)})
    clash = (held & SEPARATED_ROLES) if role in SEPARATED_ROLES else set()
    if clash:
        other = _role(next(iter(clash)))
        message = gettext("三员分立：用户“%(user)s”已是%(other)s，不能再授予%(role)s")
        raise ValidationFailed(
            [FieldProblem("role", message % {"user": user, "other": other, "role": _role(role)})],
            message=gettext_noop("违反三员分立原则"),
        )


def _grant_role(user: User, role: str, *, actor: User | None, **audit: Any) -> UserRole:
    """The grant itself (in the caller's transaction); 三员分立 forbids one account holding two of
    平台管理员/安全管理员/审计员, checked against the roles held now."""
    if role not in Role.values:
        raise ValidationFailed([FieldProblem("role", gettext("角色“%(role)s”不存在") % {"role": role})])
    # Lock the user's row so that two concurrent assignments cannot both pass the check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    _require_grantable(user, role)
    if role in (Role.CATALOG_ADMIN, Role.DEPT_REVIEWER) and user.department_id is None:
        raise ValidationFailed([FieldProblem("role", gettext("%(role)s必须属于一个部门") % {"role": _role(role)})])
    granted = UserRole.objects.create(user=user, role=role)
    user.__dict__.pop("_role_cache", None)
    if role == Role.PLATFORM_ADMIN and not user.is_staff:
        # The back office (Django admin) is the platform administrator's: the role carries staff status.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    record_action(actor, "accounts.role.assign", user, role=role, **audit)
    if role in SEPARATED_ROLES:
        # Tokens issued before the account held the role (by whoever could sign in as it then) do not gain it.
        _end_tokens(user, actor=actor, reason="separated_role")
    return granted


@transaction.atomic
def revoke_role(user: User, role: str, *, actor: User | None) -> None:
    _require_platform_admin(actor)
    if actor is not None:
        require_may_administer(actor, user, gettext_noop("角色"))
        if actor.pk == user.pk and role == Role.PLATFORM_ADMIN:
            raise ValidationFailed(
                [FieldProblem("role", gettext_noop("不能撤销自己的平台管理员角色：请由另一名平台管理员办理"))],
                message=gettext_noop("违反三员分立原则"),
            )
    deleted, _ = UserRole.objects.filter(user=user, role=role).delete()
    if deleted:
        user.__dict__.pop("_role_cache", None)
        if role == Role.PLATFORM_ADMIN and user.is_staff:
            user.is_staff = False
            user.save(update_fields=["is_staff"])
        record_action(actor, "accounts.role.revoke", user, role=role)


# ---------------------------------------------------------------------------------------------- two-person grants


def _has_active_holder(role: str, *, besides: User) -> bool:
    return UserRole.objects.filter(role=role, user__is_active=True).exclude(user_id=besides.pk).exists()


@transaction.atomic
def propose_role_grant(user: User, role: str, *, actor: User) -> RoleGrantRequest:
    """A 平台管理员 proposes granting 安全管理员 or 审计员; nothing is granted until confirm_role_grant."""
    _require_platform_admin(actor)
    if role not in CONFIRMED_BY:
        raise ValidationFailed(
            [FieldProblem("role", gettext("%(role)s不需要确认，可直接授予") % {"role": _role(role)})]
        )
    User.objects.select_for_update().filter(pk=user.pk).first()
    label, confirmer = _role(role), _role(CONFIRMED_BY[role])
    if actor.pk == user.pk:
        raise PermissionDenied(gettext("三员分立：不能为自己申请%(role)s角色") % {"role": label})
    require_may_administer(actor, user, gettext_noop("角色"))
    _require_grantable(user, role)
    if not user.is_active:
        raise ValidationFailed(
            [FieldProblem("role", gettext("账号“%(user)s”已停用，不能授予%(role)s") % {"user": user, "role": label})]
        )
    if RoleGrantRequest.objects.filter(user=user, role=role, status=RoleGrantStatus.PENDING).exists():
        raise Conflict(
            gettext("已有授予“%(user)s”%(role)s角色的申请，正等待%(confirmer)s确认")
            % {"user": user, "role": label, "confirmer": confirmer}
        )
    if not _has_active_holder(CONFIRMED_BY[role], besides=user):
        raise Conflict(
            gettext(
                "尚无在任的%(confirmer)s，无人可以确认%(role)s的授予：三员的首任人选由运维人员在服务器上运行 "
                "govshare separated_roles grant %(username)s %(code)s 指定"
            )
            % {"confirmer": confirmer, "role": label, "username": user.username, "code": role}
        )
    grant = RoleGrantRequest.objects.create(user=user, role=role, proposed_by=actor)
    record_action(actor, "accounts.role_grant.propose", user, role=role, grant=grant.pk)
    return grant


def _pending_grant(grant: RoleGrantRequest) -> RoleGrantRequest:
    locked = RoleGrantRequest.objects.select_for_update().select_related("user", "proposed_by").get(pk=grant.pk)
    if locked.status != RoleGrantStatus.PENDING:
        raise Conflict(gettext("该申请已%(status)s，不能再处理") % {"status": locked.get_status_display()})
    return locked


def may_decide_role_grant(grant: RoleGrantRequest, user: User, roles: frozenset[str] | None = None) -> bool:
    """Whether the user may confirm or reject the grant: a holder of the other separated role, neither its proposer
    nor the account itself (`roles` defaults to the user's roles of this request, for pages)."""
    held = user.role_set() if roles is None else roles
    return CONFIRMED_BY[grant.role] in held and user.pk not in (grant.proposed_by_id, grant.user_id)


def _require_confirmer(grant: RoleGrantRequest, actor: User) -> None:
    held = held_roles(actor)
    if may_decide_role_grant(grant, actor, held):
        return
    confirmer = CONFIRMED_BY[grant.role]
    if confirmer not in held:
        raise PermissionDenied(
            gettext("三员分立：只有%(confirmer)s可以确认或拒绝授予%(role)s的申请")
            % {"confirmer": _role(confirmer), "role": _role(grant.role)}
        )
    raise PermissionDenied(gettext_noop("三员分立：申请人和被授予人不能处理这项申请"))


@transaction.atomic
def confirm_role_grant(grant: RoleGrantRequest, *, actor: User) -> UserRole:
    """A holder of the other separated role confirms: the role is granted, checked against the roles held now."""
    grant = _pending_grant(grant)
    _require_confirmer(grant, actor)
    if Role.PLATFORM_ADMIN not in held_roles(grant.proposed_by) or not grant.proposed_by.is_active:
        raise Conflict(gettext_noop("申请人已不再是在任的平台管理员，该申请不能再确认；请重新申请"))
    if not grant.user.is_active:
        raise Conflict(gettext("账号“%(user)s”已停用，不能确认授予") % {"user": grant.user})
    separated_role_confirming.send(sender=RoleGrantRequest, user=grant.user, role=grant.role)
    granted = _grant_role(grant.user, grant.role, actor=actor, proposed_by=grant.proposed_by.username, grant=grant.pk)
    grant.status, grant.decided_by, grant.decided_at = RoleGrantStatus.CONFIRMED, actor, timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    record_action(actor, "accounts.role_grant.confirm", grant.user, role=grant.role, grant=grant.pk)
    return granted


@transaction.atomic
def reject_role_grant(grant: RoleGrantRequest, *, reason: str, actor: User) -> RoleGrantRequest:
    grant = _pending_grant(grant)
    _require_confirmer(grant, actor)
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", gettext_noop("拒绝时请写明理由"))])
    grant.status, grant.decided_by, grant.decided_at = RoleGrantStatus.REJECTED, actor, timezone.now()
    grant.reason = reason.strip()[:500]
    grant.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    record_action(actor, "accounts.role_grant.reject", grant.user, role=grant.role, grant=grant.pk, reason=grant.reason)
    return grant


@transaction.atomic
def cancel_role_grant(grant: RoleGrantRequest, *, actor: User) -> RoleGrantRequest:
    """A 平台管理员 withdraws a pending proposal."""
    _require_platform_admin(actor)
    grant = _pending_grant(grant)
    grant.status, grant.decided_by, grant.decided_at = RoleGrantStatus.CANCELLED, actor, timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    record_action(actor, "accounts.role_grant.cancel", grant.user, role=grant.role, grant=grant.pk)
    return grant


@transaction.atomic
def update_department(
    department: Department, data: DepartmentInput, *, is_active: bool, actor: User | None
) -> Department:
    """Change a department's name, level, parent and region; its code identifies it and is not changed here."""
    _require_platform_admin(actor)
    problems = [p for p in _department_problems(data, stored_region_code=department.region_code) if p.field != "code"]
    parent = None
    if data.parent_code:
        parent = Department.objects.filter(code=data.parent_code).first()
        if parent is None:
            problems.append(
                FieldProblem("parent_code", gettext("上级部门代码“%(code)s”不存在") % {"code": data.parent_code})
            )
        elif parent.pk == department.pk:
            problems.append(FieldProblem("parent_code", gettext_noop("上级部门不能是部门自己")))
    if problems:
        raise ValidationFailed(problems)
    if Department.objects.filter(name=data.name.strip()).exclude(pk=department.pk).exists():
        raise Conflict(gettext("部门名称“%(name)s”已存在") % {"name": data.name})
    fields = ("name", "short_name", "level", "parent", "region_code", "is_active")
    before = {name: str(getattr(department, name)) for name in fields}
    department.name = data.name.strip()
    department.short_name = data.short_name
    department.level = data.level
    department.parent = parent
    department.region_code = data.region_code
    department.is_active = is_active
    department.save(update_fields=list(fields))
    record_action(actor, "accounts.department.update", department, before=before)
    return department


@transaction.atomic
def update_user(
    user: User,
    *,
    full_name: str,
    email: str,
    department: Department | None,
    is_active: bool,
    actor: User | None,
) -> User:
    """Change a user's profile and department; roles change through assign_role / revoke_role. Deactivating an
    account revokes its tokens (they stay dead if it is activated again)."""
    _require_platform_admin(actor)
    if department is None and held_roles(user) & {Role.CATALOG_ADMIN, Role.DEPT_REVIEWER}:
        raise ValidationFailed([FieldProblem("department", gettext_noop("部门目录管理员和部门审核员必须属于一个部门"))])
    if actor is not None and actor.pk == user.pk and not is_active:
        raise ValidationFailed([FieldProblem("is_active", gettext_noop("不能停用自己的账号"))])
    if is_active != user.is_active:
        require_may_administer(actor, user, gettext_noop("启用状态"))
    before = {
        "full_name": user.full_name,
        "email": user.email,
        "department": user.department_id,
        "active": user.is_active,
    }
    user.full_name, user.email, user.department, user.is_active = full_name, email, department, is_active
    user.save(update_fields=["full_name", "email", "department", "is_active"])
    record_action(actor, "accounts.user.update", user, before=before)
    if before["active"] and not is_active:
        _end_tokens(user, actor=actor, reason="deactivated")
    return user


@transaction.atomic
def set_user_password(user: User, password: str, *, actor: User | None) -> None:
    """An administrator (or the operator) sets the account's password; its tokens end with the old password."""
    _require_platform_admin(actor)
    require_may_administer(actor, user, gettext_noop("密码"))
    user.set_password(password)
    user.save(update_fields=["password"])
    record_action(actor, "accounts.user.set_password", user)
    _end_tokens(user, actor=actor, reason="password")


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _expiry_problem(expires_at: dt.datetime, now: dt.datetime) -> str | None:
    longest = settings.GOVSHARE.api_token_max_days
    if expires_at <= now:
        return gettext("令牌的过期时间应晚于当前时间")
    if expires_at > now + dt.timedelta(days=longest):
        return gettext("令牌有效期最长 %(days)s 天（GOVSHARE_API_TOKEN_MAX_DAYS），请选择更早的过期时间") % {
            "days": longest
        }
    return None


@transaction.atomic
def create_api_token(
    user: User, *, name: str, scope: str, expires_at: dt.datetime | None = None, actor: User
) -> tuple[ApiToken, str]:
    """Issue a personal token to its owner (nobody issues one for another account); the raw value is returned once
    and only its digest is kept. Without `expires_at` it lives api_token_days, and never longer than
    api_token_max_days. Minting needs a signed-in session: the API refuses a request made with a token (api.py),
    so no token ever mints one that outlives it."""
    if actor.pk != user.pk:
        raise PermissionDenied(gettext_noop("只能为自己创建 API 令牌"))
    now = timezone.now()
    if expires_at is None:
        expires_at = now + dt.timedelta(days=settings.GOVSHARE.api_token_days)
    elif timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    problems: list[FieldProblem] = []
    if not name.strip():
        problems.append(FieldProblem("name", gettext_noop("令牌名称不能为空")))
    if scope not in TokenScope.values:
        problems.append(
            FieldProblem(
                "scope", gettext("令牌范围“%(scope)s”无效，应为 read（只读）或 write（读写）") % {"scope": scope}
            )
        )
    if problem := _expiry_problem(expires_at, now):
        problems.append(FieldProblem("expires_at", problem))
    if problems:
        raise ValidationFailed(problems)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=raw[:10], digest=_digest(raw), scope=scope, expires_at=expires_at
    )
    record_action(
        actor, "accounts.token.create", token, token_prefix=token.prefix, scope=scope, expires_at=expires_at.isoformat()
    )
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User) -> None:
    """The owner revokes a token; the platform administrator may revoke a leaked one of an account it administers
    (never one of a 安全管理员 or 审计员: 三员分立)."""
    if actor.pk != token.user_id:
        _require_platform_admin(actor)
        require_may_administer(actor, token.user, gettext_noop("令牌"))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_action(actor, "accounts.token.revoke", token, token_prefix=token.prefix)


@transaction.atomic
def revoke_user_tokens(user: User, *, actor: User | None, reason: str) -> int:
    """Revoke every personal token of the account, by its holder, an administrator of it or the operator."""
    if actor is not None and actor.pk != user.pk:
        _require_platform_admin(actor)
        require_may_administer(actor, user, gettext_noop("令牌"))
    return _end_tokens(user, actor=actor, reason=reason)


def _end_tokens(user: User, *, actor: User | None, reason: str) -> int:
    """Revoke every personal token of the account (its password changed, it was deactivated, it took up a separated
    role), and tell the apps that issue other tokens (OIDC) through `credentials_ended`, in the caller's
    transaction."""
    ended = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if ended:
        record_action(actor, "accounts.token.revoke_all", user, count=ended, reason=reason)
    credentials_ended.send(sender=User, user=user, reason=reason)
    return ended


def token_for(raw_token: str) -> ApiToken | None:
    """The usable token (of an active user) a raw bearer token stands for, with its user, or None."""
    if not raw_token.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw_token)).first()
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        # Touch at most every 5 minutes: scripts calling in a loop must not write on every request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def user_for_token(raw_token: str) -> User | None:
    """The active user a raw bearer token belongs to, or None."""
    token = token_for(raw_token)
    return token.user if token is not None else None


@transaction.atomic
def confirm_catalog_maintenance(
    department: Department, *, actor: User, maintained_at: dt.datetime | None = None
) -> Department:
    """The department's catalogue administrator confirms a full review of its catalogue (quarterly duty).

    `maintained_at` records a review done earlier (data loads such as the demo city); never in the future.
    """
    if not (actor.is_platform_admin or (actor.has_role(Role.CATALOG_ADMIN) and actor.department_id == department.pk)):
        raise PermissionDenied(gettext_noop("只有本部门目录管理员可以确认目录全面维护"))
    now = timezone.now()
    if maintained_at is not None and maintained_at > now:
        raise ValidationFailed([FieldProblem("maintained_at", gettext_noop("目录全面维护日期不能晚于当前时间"))])
    department.last_full_maintenance_at = maintained_at or now
    department.save(update_fields=["last_full_maintenance_at"])
    record_action(
        actor,
        "accounts.department.confirm_maintenance",
        department,
        maintained_at=department.last_full_maintenance_at.isoformat(),
    )
    return department

"""Every write to departments, users, roles and tokens; each writes its audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from govshare.accounts.choices import SEPARATED_ROLES, DepartmentLevel, Role, TokenScope
from govshare.accounts.models import ApiToken, Department, User, UserRole
from govshare.accounts.signals import credentials_ended
from govshare.audit.services import record_action
from govshare.core.errors import Conflict, FieldProblem, PermissionDenied, ValidationFailed
from govshare.core.identifiers import uscc_problem

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
        raise PermissionDenied("只有平台管理员可以管理部门、用户和角色")


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
        label = "、".join(str(Role(r).label) for r in Role.values if r in foreign)
        raise PermissionDenied(
            f"三员分立：不能管理{label}账号“{user}”的{what}；由本人自行办理，"
            "或由运维人员在服务器上运行 govshare separated_roles 办理"
        )


def _department_problems(data: DepartmentInput) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if problem := uscc_problem(data.code):
        problems.append(FieldProblem("code", f"部门代码无效：{problem}"))
    if not data.name.strip():
        problems.append(FieldProblem("name", "部门名称不能为空"))
    if data.level not in DepartmentLevel.values:
        problems.append(FieldProblem("level", f"层级“{data.level}”无效，应为：市级、区县级、乡镇（街道）级"))
    if data.region_code and not (len(data.region_code) == 6 and data.region_code.isdigit()):
        problems.append(FieldProblem("region_code", "行政区划代码应为6位数字"))
    return problems


@transaction.atomic
def create_department(data: DepartmentInput, *, actor: User | None) -> Department:
    _require_platform_admin(actor)
    problems = _department_problems(data)
    parent = None
    if data.parent_code:
        parent = Department.objects.filter(code=data.parent_code).first()
        if parent is None:
            problems.append(FieldProblem("parent_code", f"上级部门代码“{data.parent_code}”不存在"))
    if problems:
        raise ValidationFailed(problems)
    if Department.objects.filter(code=data.code).exists():
        raise Conflict(f"部门代码“{data.code}”已被使用")
    if Department.objects.filter(name=data.name.strip()).exists():
        raise Conflict(f"部门名称“{data.name}”已存在")
    department = Department.objects.create(
        code=data.code,
        name=data.name.strip(),
        short_name=data.short_name,
        level=data.level,
        parent=parent,
        region_code=data.region_code,
    )
    record_action(actor, "department.create", department, code=department.code)
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
    _require_platform_admin(actor)
    if User.objects.filter(username=username).exists():
        raise Conflict(f"账号“{username}”已存在")
    user = User(username=username, full_name=full_name, department=department, email=email)
    user.set_password(password)
    user.save()
    record_action(actor, "user.create", user, department=department.code if department else None)
    for role in roles:
        assign_role(user, role, actor=actor)
    return user


@transaction.atomic
def assign_role(user: User, role: str, *, actor: User | None) -> UserRole:
    """Grant a role; 三员分立 forbids one account holding two of 平台管理员/安全管理员/审计员."""
    _require_platform_admin(actor)
    if role not in Role.values:
        raise ValidationFailed([FieldProblem("role", f"角色“{role}”不存在")])
    # Lock the user's row so that two concurrent assignments cannot both pass the check.
    User.objects.select_for_update().filter(pk=user.pk).first()
    held = set(UserRole.objects.filter(user=user).values_list("role", flat=True))
    if role in held:
        raise Conflict(f"用户“{user}”已拥有角色“{Role(role).label}”")
    clash = (held & SEPARATED_ROLES) if role in SEPARATED_ROLES else set()
    if clash:
        other = Role(next(iter(clash))).label
        raise ValidationFailed(
            [FieldProblem("role", f"三员分立：用户“{user}”已是{other}，不能再授予{Role(role).label}")],
            message="违反三员分立原则",
        )
    if role in (Role.CATALOG_ADMIN, Role.DEPT_REVIEWER) and user.department_id is None:
        raise ValidationFailed([FieldProblem("role", f"{Role(role).label}必须属于一个部门")])
    granted = UserRole.objects.create(user=user, role=role)
    user.__dict__.pop("_role_cache", None)
    if role == Role.PLATFORM_ADMIN and not user.is_staff:
        # The back office (Django admin) is the platform administrator's: the role carries staff status.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    record_action(actor, "user.role.assign", user, role=role)
    return granted


@transaction.atomic
def revoke_role(user: User, role: str, *, actor: User | None) -> None:
    _require_platform_admin(actor)
    deleted, _ = UserRole.objects.filter(user=user, role=role).delete()
    if deleted:
        user.__dict__.pop("_role_cache", None)
        if role == Role.PLATFORM_ADMIN and user.is_staff:
            user.is_staff = False
            user.save(update_fields=["is_staff"])
        record_action(actor, "user.role.revoke", user, role=role)


@transaction.atomic
def update_department(
    department: Department, data: DepartmentInput, *, is_active: bool, actor: User | None
) -> Department:
    """Change a department's name, level, parent and region; its code identifies it and is not changed here."""
    _require_platform_admin(actor)
    problems = [p for p in _department_problems(data) if p.field != "code"]
    parent = None
    if data.parent_code:
        parent = Department.objects.filter(code=data.parent_code).first()
        if parent is None:
            problems.append(FieldProblem("parent_code", f"上级部门代码“{data.parent_code}”不存在"))
        elif parent.pk == department.pk:
            problems.append(FieldProblem("parent_code", "上级部门不能是部门自己"))
    if problems:
        raise ValidationFailed(problems)
    if Department.objects.filter(name=data.name.strip()).exclude(pk=department.pk).exists():
        raise Conflict(f"部门名称“{data.name}”已存在")
    fields = ("name", "short_name", "level", "parent", "region_code", "is_active")
    before = {name: str(getattr(department, name)) for name in fields}
    department.name = data.name.strip()
    department.short_name = data.short_name
    department.level = data.level
    department.parent = parent
    department.region_code = data.region_code
    department.is_active = is_active
    department.save(update_fields=list(fields))
    record_action(actor, "department.update", department, before=before)
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
        raise ValidationFailed([FieldProblem("department", "部门目录管理员和部门审核员必须属于一个部门")])
    if actor is not None and actor.pk == user.pk and not is_active:
        raise ValidationFailed([FieldProblem("is_active", "不能停用自己的账号")])
    if is_active != user.is_active:
        require_may_administer(actor, user, "启用状态")
    before = {
        "full_name": user.full_name,
        "email": user.email,
        "department": user.department_id,
        "active": user.is_active,
    }
    user.full_name, user.email, user.department, user.is_active = full_name, email, department, is_active
    user.save(update_fields=["full_name", "email", "department", "is_active"])
    record_action(actor, "user.update", user, before=before)
    if before["active"] and not is_active:
        revoke_user_tokens(user, actor=actor, reason="deactivated")
    return user


@transaction.atomic
def set_user_password(user: User, password: str, *, actor: User | None) -> None:
    """An administrator (or the operator) sets the account's password; its tokens end with the old password."""
    _require_platform_admin(actor)
    require_may_administer(actor, user, "密码")
    user.set_password(password)
    user.save(update_fields=["password"])
    record_action(actor, "user.password.set", user)
    revoke_user_tokens(user, actor=actor, reason="password")


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _expiry_problem(expires_at: dt.datetime, now: dt.datetime) -> str | None:
    longest = settings.GOVSHARE.api_token_max_days
    if expires_at <= now:
        return "令牌的过期时间应晚于当前时间"
    if expires_at > now + dt.timedelta(days=longest):
        return f"令牌有效期最长 {longest} 天（GOVSHARE_API_TOKEN_MAX_DAYS），请选择更早的过期时间"
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
        raise PermissionDenied("只能为自己创建 API 令牌")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + dt.timedelta(days=settings.GOVSHARE.api_token_days)
    elif timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    problems: list[FieldProblem] = []
    if not name.strip():
        problems.append(FieldProblem("name", "令牌名称不能为空"))
    if scope not in TokenScope.values:
        problems.append(FieldProblem("scope", f"令牌范围“{scope}”无效，应为 read（只读）或 write（读写）"))
    if problem := _expiry_problem(expires_at, now):
        problems.append(FieldProblem("expires_at", problem))
    if problems:
        raise ValidationFailed(problems)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=raw[:10], digest=_digest(raw), scope=scope, expires_at=expires_at
    )
    record_action(
        actor, "user.token.create", token, token_prefix=token.prefix, scope=scope, expires_at=expires_at.isoformat()
    )
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User) -> None:
    """The owner revokes a token; the platform administrator may revoke a leaked one of an account it administers
    (never one of a 安全管理员 or 审计员: 三员分立)."""
    if actor.pk != token.user_id:
        _require_platform_admin(actor)
        require_may_administer(actor, token.user, "令牌")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_action(actor, "user.token.revoke", token, token_prefix=token.prefix)


@transaction.atomic
def revoke_user_tokens(user: User, *, actor: User | None, reason: str) -> int:
    """Revoke every personal token of the account (its password changed, it was deactivated, it took up a
    separated role), and tell the apps that issue other tokens (OIDC) through `credentials_ended`."""
    if actor is not None and actor.pk != user.pk:
        _require_platform_admin(actor)
        require_may_administer(actor, user, "令牌")
    ended = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if ended:
        record_action(actor, "user.token.revoke_all", user, count=ended, reason=reason)
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
        raise PermissionDenied("只有本部门目录管理员可以确认目录全面维护")
    now = timezone.now()
    if maintained_at is not None and maintained_at > now:
        raise ValidationFailed([FieldProblem("maintained_at", "目录全面维护日期不能晚于当前时间")])
    department.last_full_maintenance_at = maintained_at or now
    department.save(update_fields=["last_full_maintenance_at"])
    record_action(
        actor,
        "department.catalog.maintained",
        department,
        maintained_at=department.last_full_maintenance_at.isoformat(),
    )
    return department

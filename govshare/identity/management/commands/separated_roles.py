"""`govshare separated_roles`: the operator's hand on 三员分立, run on the server (the root of trust).

The first 平台管理员, 安全管理员 and 审计员 come from here (or from `load_demo_data` for the demo city), never from the
web; so do the resets that no separated role may do for another: a forgotten password or a lost second factor of a
安全管理员 or 审计员, and taking such a role away. Every change is audited with the platform (not a person) as actor.

    govshare separated_roles list
    govshare separated_roles grant  <账号> platform_admin|security_officer|auditor [--create --full-name 姓名]
    govshare separated_roles revoke <账号> <角色>
    govshare separated_roles reset-password <账号>        # prints a temporary password, changed at next sign-in
    govshare separated_roles reset-second-factor <账号>
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govshare.accounts import selectors
from govshare.accounts import services as account_services
from govshare.accounts.choices import SEPARATED_ROLES, Role
from govshare.accounts.models import Department, User, UserRole
from govshare.core.errors import DomainError
from govshare.identity import services

_ROLE_NAMES = {**{str(r): str(r) for r in SEPARATED_ROLES}, **{str(Role(r).label): str(r) for r in SEPARATED_ROLES}}


def _role(value: str) -> str:
    if value not in _ROLE_NAMES:
        raise CommandError(f"角色“{value}”不是三员角色，应为 platform_admin、security_officer 或 auditor")
    return _ROLE_NAMES[value]


def _temporary_password() -> str:
    return "Gs-" + secrets.token_urlsafe(15)


class Command(BaseCommand):
    help = (
        "三员（平台管理员、安全管理员、审计员）的首任指定、撤销，以及这些账号的密码和二次验证重置；只在服务器上运行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="列出三员角色的在任账号和待确认的授予申请")
        grant = actions.add_parser("grant", help="直接授予三员角色（运维人员指定，不需确认）")
        grant.add_argument("username")
        grant.add_argument("role", help="platform_admin / security_officer / auditor（或中文名称）")
        grant.add_argument("--create", action="store_true", help="账号不存在时新建（打印一次性临时密码）")
        grant.add_argument("--full-name", default="", help="新建账号的姓名")
        grant.add_argument("--department", default="", help="新建账号所属部门的代码")
        revoke = actions.add_parser("revoke", help="撤销三员角色")
        revoke.add_argument("username")
        revoke.add_argument("role")
        password = actions.add_parser("reset-password", help="设置临时密码（打印一次，下次登录时必须修改）")
        password.add_argument("username")
        factor = actions.add_parser("reset-second-factor", help="移除账号的验证器（丢失手机时）")
        factor.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        try:
            if action == "list":
                self._list()
            elif action == "grant":
                self._grant(options)
            elif action == "revoke":
                role = _role(options["role"])
                account_services.revoke_role(self._user(options["username"]), role, actor=None)
                self.stdout.write(f"已撤销“{options['username']}”的{Role(role).label}角色")
            elif action == "reset-password":
                user = self._user(options["username"])
                password = _temporary_password()
                services.set_temporary_password(user, password, actor=None)
                self.stdout.write(f"“{user.username}”的临时密码（只显示这一次，下次登录时必须修改）：{password}")
            else:
                user = self._user(options["username"])
                done = services.reset_second_factor(user, actor=None)
                self.stdout.write(f"已重置“{user.username}”的二次验证" if done else f"“{user.username}”没有验证器")
        except DomainError as exc:
            raise CommandError("；".join(p.message for p in exc.problems) or exc.message) from exc

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"账号“{username}”不存在")
        return user

    def _grant(self, options: dict[str, Any]) -> None:
        role, username = _role(options["role"]), options["username"]
        user = User.objects.filter(username=username).first()
        if user is not None:
            account_services.assign_role(user, role, actor=None)
            self.stdout.write(f"已授予“{username}”{Role(role).label}角色")
            return
        if not options["create"]:
            raise CommandError(f"账号“{username}”不存在；要新建它，加上 --create")
        department = None
        if options["department"]:
            department = Department.objects.filter(code=options["department"]).first()
            if department is None:
                raise CommandError(f"部门代码“{options['department']}”不存在")
        password = _temporary_password()
        user = account_services.create_user(
            username=username,
            password=password,
            full_name=options["full_name"],
            department=department,
            roles=[role],
            actor=None,
        )
        services.require_password_change(user, actor=None)
        self.stdout.write(f"已新建账号“{username}”并授予{Role(role).label}角色")
        self.stdout.write(f"临时密码（只显示这一次，本人首次登录时必须修改）：{password}")

    def _list(self) -> None:
        holders = (
            UserRole.objects.filter(role__in=SEPARATED_ROLES).select_related("user").order_by("role", "user__username")
        )
        for role in (Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR):
            names = [h.user.username + ("" if h.user.is_active else "（已停用）") for h in holders if h.role == role]
            self.stdout.write(f"{role.label}：{'、'.join(names) or '（无）'}")
        for grant in selectors.pending_role_grants().order_by("proposed_at"):
            self.stdout.write(
                f"待确认：授予“{grant.user.username}”{grant.get_role_display()}（{grant.proposed_by} 申请于 "
                f"{grant.proposed_at:%Y-%m-%d %H:%M}）"
            )

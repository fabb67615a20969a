from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models

from govshare.accounts.choices import DepartmentLevel, Role, RoleGrantStatus, TokenScope
from govshare.core.authz import SubjectKind


class Department(models.Model):
    """A government department (or a district/township agency) that holds and uses data."""

    code = models.CharField("部门代码", max_length=18, unique=True, help_text="机关的统一社会信用代码")
    name = models.CharField("部门名称", max_length=100, unique=True)
    short_name = models.CharField("简称", max_length=50, blank=True)
    level = models.CharField("层级", max_length=16, choices=DepartmentLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级部门", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region_code = models.CharField("行政区划代码", max_length=6, blank=True)
    is_active = models.BooleanField("启用", default=True)
    last_full_maintenance_at = models.DateTimeField("最近一次全面维护", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "部门"
        verbose_name_plural = "部门"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person signing in; belongs to one department and holds roles (see UserRole)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    department = models.ForeignKey(
        Department, verbose_name="所属部门", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.full_name or self.username

    # A person of a department (govshare.core.authz.Subject); information systems and public users are others.
    subject_kind = SubjectKind.STAFF

    def role_set(self) -> frozenset[str]:
        """The user's roles, read once per request (cached on the instance)."""
        cached: frozenset[str] | None = getattr(self, "_role_cache", None)
        if cached is None:
            cached = frozenset(self.roles.values_list("role", flat=True)) if self.pk else frozenset()
            self._role_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set() & set(roles))

    @property
    def is_platform_admin(self) -> bool:
        return self.has_role(Role.PLATFORM_ADMIN)


class UserRole(models.Model):
    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="roles")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField("授予时间", auto_now_add=True)

    class Meta:
        verbose_name = "用户角色"
        verbose_name_plural = "用户角色"
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="accounts_userrole_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class RoleGrantRequest(models.Model):
    """A proposed grant of 安全管理员 or 审计员 (三员分立 across people): a 平台管理员 proposes it, and the role is
    granted only when a holder of the other separated role (choices.CONFIRMED_BY) confirms it."""

    user = models.ForeignKey(User, verbose_name="账号", on_delete=models.CASCADE, related_name="role_grant_requests")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    status = models.CharField(
        "状态", max_length=16, choices=RoleGrantStatus.choices, default=RoleGrantStatus.PENDING, db_index=True
    )
    proposed_by = models.ForeignKey(User, verbose_name="申请人", on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        User, verbose_name="处理人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    reason = models.CharField("拒绝理由", max_length=500, blank=True)

    class Meta:
        verbose_name = "三员角色授予申请"
        verbose_name_plural = "三员角色授予申请"
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status="pending"),
                name="accounts_rolegrantrequest_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}（{self.get_status_display()}）"


class ApiToken(models.Model):
    """A personal API token for scripts. Only its SHA-256 digest is stored; the token is shown once.

    Every token expires (settings api_token_days / api_token_max_days), has a scope, and is revoked when its owner's
    password changes or the account is deactivated (services.revoke_user_tokens)."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField("前缀", max_length=12, db_index=True)
    digest = models.CharField("摘要", max_length=64, unique=True)
    scope = models.CharField("范围", max_length=8, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

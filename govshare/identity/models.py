from __future__ import annotations

from django.conf import settings
from django.db import models


class PasswordChangeRequired(models.Model):
    """The user's password was set by an administrator (a temporary password): it must be changed at next login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="password_change_required",
    )
    set_at = models.DateTimeField("设置时间", auto_now_add=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "待修改的临时密码"
        verbose_name_plural = "待修改的临时密码"

    def __str__(self) -> str:
        return str(self.user)

"""A notification in one user's inbox (消息): what happened, a link to it on the site, read or not."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from govshare.notifications.choices import NotificationKind


class Notification(models.Model):
    """One row per recipient. The object it is about is named by a content type and its primary key, or (for
    something that is not a row, e.g. a gateway delivery) by a string key alone; neither is a foreign key, so a
    notification outlives its object."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="接收人",
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # the inbox indexes below start with the recipient
    )
    kind = models.CharField("类型", max_length=32, choices=NotificationKind.choices)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=500, blank=True, help_text="站内路径，如 /catalog/12/")
    target_type = models.ForeignKey(
        ContentType,
        verbose_name="关联对象类型",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_key = models.CharField(
        "关联对象", max_length=100, blank=True, help_text="关联对象的主键；无对象类型时为通用标识"
    )
    created = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息"
        verbose_name_plural = "消息"
        ordering = ["-created", "-pk"]
        indexes = [
            # A user's inbox, newest first.
            models.Index(fields=["recipient", "-created"], name="notification_inbox_idx"),
            # A user's unread ones, newest first (and the header's unread count).
            models.Index(
                fields=["recipient", "-created"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

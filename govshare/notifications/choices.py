"""Kinds of notification (消息类型)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    SHARE_REQUEST = "share_request", _("共享申请")
    SHARE_GRANT = "share_grant", _("共享授权")
    QUALITY_RUN = "quality_run", _("数据质量检测")
    GATEWAY_DELIVERY = "gateway_delivery", _("网关推送")
    GATEWAY_ALERT = "gateway_alert", _("网关异常调用")
    SYSTEM = "system", _("系统通知")
    CATALOG_REVIEW = "catalog_review", _("目录审核")
    GRADING_DECISION = "grading_decision", _("分级审核")
    LOAD_FAILED = "load_failed", _("归集失败")
    MAINTENANCE_REMINDER = "maintenance_reminder", _("目录更新维护提醒")
    SCENARIO_REVIEW = "scenario_review", _("应用场景待审核")
    SCENARIO_DECISION = "scenario_decision", _("应用场景审核结果")


# Kinds whose notifications are also e-mailed unless the caller says otherwise (`notify(send_email=None)`): the
# ones that ask the recipient to act or tell them a decision. E-mail leaves only when the platform allows it
# (settings `email_notifications`) and the recipient has an address.
EMAILED_BY_DEFAULT: frozenset[str] = frozenset(
    {
        NotificationKind.SHARE_REQUEST,
        NotificationKind.SHARE_GRANT,
        NotificationKind.GATEWAY_ALERT,
        NotificationKind.CATALOG_REVIEW,
        NotificationKind.GRADING_DECISION,
        NotificationKind.LOAD_FAILED,
        NotificationKind.MAINTENANCE_REMINDER,
        NotificationKind.SCENARIO_REVIEW,
        NotificationKind.SCENARIO_DECISION,
    }
)

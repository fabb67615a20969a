"""States of a grading change (分级调整申请)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")

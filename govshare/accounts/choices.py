from django.db import models
from django.utils.translation import gettext_lazy as _

# The roles are the permission mechanism's vocabulary (govshare.core.roles); accounts stores who holds which.
from govshare.core.roles import SEPARATED_ROLES, Role

__all__ = ["CONFIRMED_BY", "SEPARATED_ROLES", "DepartmentLevel", "Role", "RoleGrantStatus", "TokenScope"]


class DepartmentLevel(models.TextChoices):
    CITY = "city", _("市级")
    COUNTY = "county", _("区县级")
    TOWNSHIP = "township", _("乡镇（街道）级")


# 三员分立 across people: a grant of one of these roles is proposed by a 平台管理员 and takes effect only when a holder
# of the role it maps to (the third separated role: neither the proposer's nor the one granted) confirms it. The
# first holders come from the operator on the server (`govshare separated_roles grant`), never from the web.
CONFIRMED_BY: dict[str, str] = {Role.AUDITOR: Role.SECURITY_OFFICER, Role.SECURITY_OFFICER: Role.AUDITOR}


class RoleGrantStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤回")


class TokenScope(models.TextChoices):
    """What a personal API token may do: the API's *Read routes (GET) or also its *Write routes."""

    READ = "read", _("只读")
    WRITE = "write", _("读写")

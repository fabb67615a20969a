"""The platform's roles: the vocabulary every permission rule speaks (accounts stores who holds which)."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", "平台管理员"
    CATALOG_ADMIN = "catalog_admin", "部门目录管理员"
    DEPT_REVIEWER = "dept_reviewer", "部门审核员"
    CONSUMER = "consumer", "使用方"
    SECURITY_OFFICER = "security_officer", "安全管理员"
    AUDITOR = "auditor", "审计员"
    # The platform's coordinating department (共享主管部门, the big-data bureau): reviews application scenarios, decides
    # overdue share requests and arbitrates disputes. A business role, not one of the separated system roles.
    COORDINATOR = "coordinator", "共享协调员"


# 三员分立: no account holds two of these.
SEPARATED_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR})

from django.db import models


class DepartmentLevel(models.TextChoices):
    CITY = "city", "市级"
    COUNTY = "county", "区县级"
    TOWNSHIP = "township", "乡镇（街道）级"


class Role(models.TextChoices):
    PLATFORM_ADMIN = "platform_admin", "平台管理员"
    CATALOG_ADMIN = "catalog_admin", "部门目录管理员"
    DEPT_REVIEWER = "dept_reviewer", "部门审核员"
    CONSUMER = "consumer", "使用方"
    SECURITY_OFFICER = "security_officer", "安全管理员"
    AUDITOR = "auditor", "审计员"


# 三员分立: no account holds two of these.
SEPARATED_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.SECURITY_OFFICER, Role.AUDITOR})


class TokenScope(models.TextChoices):
    """What a personal API token may do: the API's *Read routes (GET) or also its *Write routes."""

    READ = "read", "只读"
    WRITE = "write", "读写"

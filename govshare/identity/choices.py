"""The vocabularies of information systems: 等级保护 levels (网络安全等级保护, GB/T 22239) and hosting."""

from __future__ import annotations

from django.db import models


class ProtectionLevel(models.TextChoices):
    """The system's classified-protection level (等保). 未定级: not yet graded, which the register shows so that the
    department grades it before the system goes into production."""

    UNRATED = "unrated", "未定级"
    LEVEL_1 = "1", "第一级"
    LEVEL_2 = "2", "第二级"
    LEVEL_3 = "3", "第三级"
    LEVEL_4 = "4", "第四级"
    LEVEL_5 = "5", "第五级"


class Hosting(models.TextChoices):
    UNKNOWN = "unknown", "未登记"  # systems registered before the field existed
    GOV_CLOUD = "gov_cloud", "政务云"
    SELF_HOSTED = "self_hosted", "非政务云（自建机房或其他）"


class CredentialState(models.TextChoices):
    """A credential's state as read at a moment (stored: revoked_at and expires_at)."""

    ACTIVE = "active", "有效"
    ROTATING = "rotating", "轮换过渡期"
    EXPIRED = "expired", "已过期"
    REVOKED = "revoked", "已吊销"

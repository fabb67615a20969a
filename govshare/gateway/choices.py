from django.db import models


class Service(models.TextChoices):
    LOOKUP = "lookup", "按键查询"
    VERIFY = "verify", "核验"
    QUERY = "query", "分页查询"


class Verdict(models.TextChoices):
    """A verification's answer per item (never the value)."""

    MATCH = "match", "一致"
    MISMATCH = "mismatch", "不一致"
    NO_RECORD = "no_record", "无记录"


class AlertKind(models.TextChoices):
    """Unusual use of the gateway by a system, which the security officer is told of."""

    RATE = "rate", "调用量远超平常"
    KEYS = "keys", "查询键过多"
    OFF_HOURS = "off_hours", "非工作时间调用"
    REFUSALS = "refusals", "反复被拒绝"

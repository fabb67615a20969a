from django.db import models


class Service(models.TextChoices):
    LOOKUP = "lookup", "按键查询"
    VERIFY = "verify", "核验"


class Verdict(models.TextChoices):
    """A verification's answer per item (never the value)."""

    MATCH = "match", "一致"
    MISMATCH = "mismatch", "不一致"
    NO_RECORD = "no_record", "无记录"

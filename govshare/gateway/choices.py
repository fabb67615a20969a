from django.db import models


class Service(models.TextChoices):
    LOOKUP = "lookup", "按键查询"
    VERIFY = "verify", "核验"
    QUERY = "query", "分页查询"
    CALL = "call", "代理调用提供部门接口"


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


class ProviderAuth(models.TextChoices):
    """How the gateway authenticates to a provider's own API."""

    NONE = "none", "无需认证"
    HEADER = "header", "请求头密钥"
    BASIC = "basic", "HTTP 基本认证"


class Breaker(models.TextChoices):
    """A provider service's circuit breaker, as one gateway process sees it."""

    CLOSED = "closed", "正常"
    OPEN = "open", "已熔断（冷却中）"
    HALF_OPEN = "half_open", "半开（放行一次试探调用）"
